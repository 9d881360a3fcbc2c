// Column-level lineage of the quality project's customers model (CTEs, a
// join, aggregates, CASE, a rename, coalesce): `sluice ls --select
// customers --output json` and target/column_lineage.json after `sluice
// docs generate` give the column map of fixtures/quality/expected.json
// (written by hand in expected.py); a model the PostgreSQL parser refuses
// keeps model-level lineage and says why.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { EXPECTED, PKG, makeProject, assertExit } from './fixtures/quality/harness.mjs';

const L = EXPECTED.lineage;

// The JSON values printed by `ls --output json`: one per line, or one document.
function lsObjects(stdout) {
  const t = stdout.trim();
  try {
    const v = JSON.parse(t);
    return Array.isArray(v) ? v : [v];
  } catch {
    return t.split('\n').filter(Boolean).map(l => JSON.parse(l));
  }
}

// A column map found anywhere in v: an object whose keys are every
// expected output column, each with its input columns.
function findColumnMap(v, cols) {
  if (!v || typeof v !== 'object') return null;
  if (!Array.isArray(v) && cols.every(c => c in v) && cols.every(c => v[c] && typeof v[c] === 'object')) {
    if (cols.every(c => Array.isArray(v[c]) || Array.isArray(v[c].from))) return v;
  }
  for (const x of Object.values(v)) {
    const m = findColumnMap(x, cols);
    if (m) return m;
  }
  return null;
}

// "model.quality.stg_orders.order_date" for each input of a column entry.
function inputs(entry) {
  const from = Array.isArray(entry) ? entry : entry.from;
  return [...new Set(from.map(f => (typeof f === 'string' ? f : `${f.node}.${f.column}`)))].sort();
}

function assertMap(map, what) {
  assert.ok(map, `${what}: no column map with columns ${Object.keys(L.columns).join(', ')}`);
  const bad = [];
  for (const [col, want] of Object.entries(L.columns)) {
    const got = inputs(map[col]);
    if (JSON.stringify(got) !== JSON.stringify([...want.from].sort())) {
      bad.push(`${col}: ${JSON.stringify(got)}, expected ${JSON.stringify(want.from)}`);
    }
    if (want.how && !Array.isArray(map[col]) && 'how' in map[col] && map[col].how !== want.how) {
      bad.push(`${col}: how ${map[col].how}, expected ${want.how}`);
    }
  }
  const extra = Object.keys(map).filter(c => !(c in L.columns));
  if (extra.length) bad.push(`columns not in the model: ${extra.join(' ')}`);
  assert.deepEqual(bad, [], what);
}

describe('column lineage', () => {
  let p;
  before(() => {
    p = makeProject();
    // a model in SQLite's dialect that PostgreSQL's parser refuses
    fs.writeFileSync(path.join(p.dir, 'models/marts/customer_names.sql'),
      "select `id`, first_name from {{ ref('stg_customers') }}\n");
  });

  test(`sluice ls --select ${L.model} --output json: the expected column map`, () => {
    const r = p.run('ls', ['--select', L.model, '--output', 'json']);
    assertExit(r, 0);
    // the model, and (dbt's eager indirect selection) the tests on it
    const all = lsObjects(r.stdout);
    const objs = all.filter(o => o.resource_type === 'model');
    assert.deepEqual(objs.map(o => o.unique_id), [`model.${PKG}.${L.model}`], r.stdout);
    assertMap(findColumnMap(objs[0], Object.keys(L.columns)), 'ls --output json');
    const want = Object.values(EXPECTED.tests)
      // eager: every test with the model among its parents (a singular test on two models too)
      .filter(t => t.depends_on.includes(L.model))
      .map(t => t.unique_id).sort();
    assert.ok(want.length > 0, 'expected.json has tests on the model');
    const got = all.filter(o => o.resource_type === 'test').map(o => o.unique_id).sort();
    assert.deepEqual(got, want, 'the tests on the model are listed');
    assert.deepEqual(all.map(o => o.resource_type).filter(t => t !== 'model' && t !== 'test'), [], r.stdout);
  });

  test(`sluice ls --select ${L.model} --resource-type model --output json: the model alone`, () => {
    const r = p.run('ls', ['--select', L.model, '--resource-type', 'model', '--output', 'json']);
    assertExit(r, 0);
    const objs = lsObjects(r.stdout);
    assert.deepEqual(objs.map(o => o.unique_id), [`model.${PKG}.${L.model}`], r.stdout);
    assertMap(findColumnMap(objs[0], Object.keys(L.columns)), 'ls --resource-type model --output json');
  });

  test('a model the parser refuses keeps model-level lineage and says why', () => {
    const r = p.run('ls', ['--select', 'customer_names', '--output', 'json']);
    assertExit(r, 0);
    const o = lsObjects(r.stdout).find(x => x.unique_id === `model.${PKG}.customer_names`);
    assert.ok(o, r.stdout);
    assert.ok(JSON.stringify(o.depends_on || o).includes(`model.${PKG}.stg_customers`), `depends_on kept: ${r.stdout}`);
    assert.match(JSON.stringify(o), /syntax error|parse|not traced|unsupported/i, `a reason is given: ${r.stdout}`);
  });

  test('target/column_lineage.json after sluice docs generate', () => {
    for (const cmd of ['seed', 'run']) assertExit(p.run(cmd), 0);
    const g = p.run(['docs', 'generate']);
    assertExit(g, 0);
    const j = p.json('column_lineage.json');
    const n = j.nodes?.[`model.${PKG}.${L.model}`];
    assert.ok(n, `no model.${PKG}.${L.model} in ${Object.keys(j.nodes || {}).join(' ')}`);
    assert.equal(n.error, null);
    assertMap(n.columns, 'column_lineage.json');
    const bad = j.nodes?.[`model.${PKG}.customer_names`];
    assert.ok(bad && typeof bad.error === 'string' && bad.error.length > 0, `customer_names: ${JSON.stringify(bad)}`);
  });
});
