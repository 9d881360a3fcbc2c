// dbt's artifacts from the quality project on SQLite: target/manifest.json
// (schema v12) and target/run_results.json (v6) after `sluice build`, and
// target/catalog.json (v1) after `sluice docs generate`, checked field by
// field against fixtures/quality/expected.json and against each other
// (parent_map / child_map / depends_on), the catalog's types against the
// warehouse's own.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { EXPECTED, PKG, makeProject, assertExit, testName } from './fixtures/quality/harness.mjs';

const T = EXPECTED.tests;
const N = EXPECTED.nodes;

// expected.json's node names ("stg_orders", "source:shop.customers") as unique_ids
function uid(name) {
  if (name.startsWith('source:')) {
    const [s, t] = name.slice('source:'.length).split('.');
    return `source.${PKG}.${s}.${t}`;
  }
  return `${N[name].resource_type}.${PKG}.${name}`;
}

describe('artifacts of sluice build and sluice docs generate', () => {
  let p;
  let build;
  let manifest;
  let runResults;
  const testsByName = {};
  let manifestOfBuild = null;
  let generate;
  before(() => {
    p = makeProject();
    assertExit(p.run('seed'), 0);
    build = p.run('build');
    assertExit(build, EXPECTED.build.exit);
    const mf = path.join(p.dir, 'target/manifest.json');
    if (fs.existsSync(mf)) manifestOfBuild = JSON.parse(fs.readFileSync(mf, 'utf8'));
    const rf = path.join(p.dir, 'target/run_results.json');
    if (fs.existsSync(rf)) runResults = JSON.parse(fs.readFileSync(rf, 'utf8'));
    // every model exists after `sluice run`; docs generate then reads
    // the catalog of all of them and writes the manifest too
    assertExit(p.run('run'), 0);
    generate = p.run(['docs', 'generate']);
    manifest = manifestOfBuild || p.json('manifest.json');
    for (const n of Object.values(manifest.nodes || {})) {
      if (n.resource_type === 'test') testsByName[n.name] = n;
    }
  });

  test('sluice build writes target/manifest.json and run_results.json (as every dbt command that parses)', () => {
    assert.ok(manifestOfBuild, 'no target/manifest.json after sluice build');
    assert.ok(runResults, 'no target/run_results.json after sluice build');
  });

  test('manifest.json: metadata of schema v12', () => {
    const m = manifest.metadata;
    assert.equal(m.dbt_schema_version, 'https://schemas.getdbt.com/dbt/manifest/v12.json');
    assert.equal(m.project_name, PKG);
    assert.equal(m.adapter_type, 'sqlite');
    assert.match(m.invocation_id, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(m.generated_at)), `generated_at ${m.generated_at}`);
    for (const k of ['nodes', 'sources', 'macros', 'docs', 'exposures', 'metrics', 'groups', 'selectors',
      'disabled', 'parent_map', 'child_map']) {
      assert.ok(k in manifest, `manifest has no ${k}`);
    }
  });

  test('manifest.json: models, seeds, snapshots as <type>.<project>.<name> with depends_on', () => {
    const bad = [];
    for (const [name, x] of Object.entries(N)) {
      const n = manifest.nodes[uid(name)];
      if (!n) { bad.push(`${uid(name)} missing`); continue; }
      if (n.resource_type !== x.resource_type) bad.push(`${name}: resource_type ${n.resource_type}`);
      if (n.name !== name) bad.push(`${name}: name ${n.name}`);
      if (n.package_name !== PKG) bad.push(`${name}: package_name ${n.package_name}`);
      const deps = [...(n.depends_on?.nodes || [])].sort();
      const want = x.depends_on.map(uid).sort();
      if (JSON.stringify(deps) !== JSON.stringify(want)) bad.push(`${name}: depends_on.nodes ${JSON.stringify(deps)}, expected ${JSON.stringify(want)}`);
    }
    assert.deepEqual(bad, []);
  });

  test('manifest.json: every test node with dbt\'s name, unique_id, test_metadata, attached_node, column_name', () => {
    const bad = [];
    for (const [name, t] of Object.entries(T)) {
      const n = testsByName[name];
      if (!n) { bad.push(`${name}: no test node named so (tests: ${Object.keys(testsByName).join(' ')})`); continue; }
      if (t.type === 'generic') {
        // dbt's hash: md5 of the name and the test_metadata (expected.py)
        if (n.unique_id !== t.unique_id) bad.push(`${name}: unique_id ${n.unique_id}, expected ${t.unique_id}`);
        if (n.alias !== t.alias) bad.push(`${name}: alias ${n.alias}, expected ${t.alias}`);
        const md = n.test_metadata || {};
        if (md.name !== t.test_name) bad.push(`${name}: test_metadata.name ${md.name}, expected ${t.test_name}`);
        const kw = md.kwargs || {};
        for (const [k, v] of Object.entries(t.kwargs)) {
          if (JSON.stringify(kw[k]) !== JSON.stringify(v)) bad.push(`${name}: kwargs.${k} ${JSON.stringify(kw[k])}, expected ${JSON.stringify(v)}`);
        }
        if (typeof kw.model !== 'string' || !/get_where_subquery|ref\(|source\(/.test(kw.model)) bad.push(`${name}: kwargs.model ${JSON.stringify(kw.model)}`);
        if (n.attached_node !== t.attached_node) bad.push(`${name}: attached_node ${n.attached_node}, expected ${t.attached_node}`);
        if ((n.column_name ?? null) !== t.column_name) bad.push(`${name}: column_name ${n.column_name}, expected ${t.column_name}`);
      } else {
        // dbt: singular tests have no hash and no test_metadata
        if (n.unique_id !== `test.${PKG}.${name}`) bad.push(`${name}: unique_id ${n.unique_id}, expected test.${PKG}.${name}`);
        if (n.attached_node) bad.push(`${name}: attached_node ${n.attached_node}, expected null`);
      }
      if (n.resource_type !== 'test') bad.push(`${name}: resource_type ${n.resource_type}`);
      const deps = [...(n.depends_on?.nodes || [])].sort();
      const want = t.depends_on.map(uid).sort();
      if (JSON.stringify(deps) !== JSON.stringify(want)) bad.push(`${name}: depends_on.nodes ${JSON.stringify(deps)}, expected ${JSON.stringify(want)}`);
      const c = n.config || {};
      if (String(c.severity).toLowerCase() !== t.severity) bad.push(`${name}: config.severity ${c.severity}, expected ${t.severity}`);
      if (c.warn_if !== t.warn_if) bad.push(`${name}: config.warn_if ${c.warn_if}, expected ${t.warn_if}`);
      if (c.error_if !== t.error_if) bad.push(`${name}: config.error_if ${c.error_if}, expected ${t.error_if}`);
      if ((c.limit ?? null) !== t.limit) bad.push(`${name}: config.limit ${c.limit}, expected ${t.limit}`);
      if (Boolean(c.store_failures) !== Boolean(t.store_failures)) bad.push(`${name}: config.store_failures ${c.store_failures}`);
      for (const tag of t.tags) if (!(n.tags || []).includes(tag)) bad.push(`${name}: tags ${JSON.stringify(n.tags)} lack ${tag}`);
    }
    const extra = Object.keys(testsByName).filter(n => !(n in T));
    if (extra.length) bad.push(`tests that should not exist: ${extra.join(' ')}`);
    assert.deepEqual(bad, []);
  });

  // dbt's generic test nodes name the properties entry that declares them:
  // file_key_name "models.<model>" (seeds.<seed>, snapshots.<snapshot>);
  // jaffle_shop's unique_customers_customer_id has "models.customers".
  test('manifest.json: generic tests on models, seeds and snapshots have dbt\'s file_key_name', () => {
      const bad = [];
      for (const [name, t] of Object.entries(T)) {
        const m = /^(model|seed|snapshot)\.[^.]+\.(.+)$/.exec(t.attached_node || '');
        if (t.type !== 'generic' || !m) continue;
        const want = `${m[1]}s.${m[2]}`;
        const got = testsByName[name]?.file_key_name;
        if (got !== want) bad.push(`${name}: file_key_name ${JSON.stringify(got)}, expected ${want}`);
      }
      assert.deepEqual(bad, []);
    });

  test('manifest.json: a disabled test is not a node', () => {
    for (const n of EXPECTED.disabled) assert.ok(!(n in testsByName), `${n} is in nodes`);
  });

  test('manifest.json: sources with dbt\'s fields and rendered docs', () => {
    const s = manifest.sources || {};
    const c = s[`source.${PKG}.shop.customers`];
    assert.ok(c, `no source.${PKG}.shop.customers in ${Object.keys(s).join(' ')}`);
    assert.equal(c.resource_type, 'source');
    assert.equal(c.source_name, 'shop');
    assert.equal(c.name, 'customers');
    assert.equal(c.identifier, 'raw_customers');
    assert.equal(c.schema, 'main');
    assert.equal(c.description, 'The CRM\'s customers.');
    assert.equal(c.source_description.trim(), 'The shop\'s seeds, read as a **source**.');
    assert.equal(c.columns?.id?.description, 'The customer\'s id.');
    const f = s[`source.${PKG}.feeds.stale`];
    assert.ok(f, 'no feeds.stale');
    assert.equal(f.loaded_at_field, 'loaded_at');
    assert.equal(f.loader, 'seeds');
    assert.deepEqual([f.freshness.warn_after.count, f.freshness.warn_after.period], [2, 'hour']);
    assert.deepEqual([f.freshness.error_after.count, f.freshness.error_after.period], [48, 'hour']);
    // inherited from the source
    const fr = s[`source.${PKG}.feeds.fresh`];
    assert.deepEqual([fr.freshness.warn_after.count, fr.freshness.warn_after.period], [1, 'hour']);
    assert.deepEqual([fr.freshness.error_after.count, fr.freshness.error_after.period], [1, 'day']);
  });

  test('manifest.json: descriptions with doc() blocks rendered', () => {
    const so = manifest.nodes[`model.${PKG}.stg_orders`];
    assert.equal(so.description, 'Orders, renamed.');
    assert.equal(so.columns.status.description.trim(), 'One of placed, shipped or completed.');
    assert.equal(so.columns.customer_id.description.trim(), 'The customer\'s id, as the CRM numbers customers.');
    assert.equal(manifest.nodes[`seed.${PKG}.raw_orders`].description.trim(), 'Orders as the shop exported them, defects included.');
    assert.ok(manifest.docs[`doc.${PKG}.order_status`], `docs: ${Object.keys(manifest.docs).join(' ')}`);
  });

  test('manifest.json: parent_map and child_map agree with each other and with depends_on', () => {
    const pm = manifest.parent_map;
    const cm = manifest.child_map;
    const bad = [];
    for (const [id, n] of Object.entries(manifest.nodes)) {
      const deps = [...(n.depends_on?.nodes || [])].sort();
      if (!pm[id]) { bad.push(`parent_map lacks ${id}`); continue; }
      if (JSON.stringify([...pm[id]].sort()) !== JSON.stringify(deps)) bad.push(`parent_map[${id}] ${JSON.stringify(pm[id])} vs depends_on ${JSON.stringify(deps)}`);
    }
    for (const id of Object.keys(manifest.sources)) {
      if (!cm[id]) bad.push(`child_map lacks source ${id}`);
    }
    for (const [c, parents] of Object.entries(pm)) {
      for (const par of parents) if (!(cm[par] || []).includes(c)) bad.push(`${c} has parent ${par} but child_map[${par}] lacks it`);
    }
    for (const [par, children] of Object.entries(cm)) {
      for (const c of children) if (!(pm[c] || []).includes(par)) bad.push(`child_map[${par}] has ${c} whose parent_map lacks it`);
    }
    assert.deepEqual(bad, []);
  });

  test('run_results.json: one result per node of the build, dbt\'s statuses and fields', () => {
    const rr = runResults;
    assert.ok(rr, 'no run_results.json after sluice build');
    assert.equal(rr.metadata?.dbt_schema_version, 'https://schemas.getdbt.com/dbt/run-results/v6.json');
    assert.equal(typeof rr.elapsed_time, 'number');
    assert.equal(typeof rr.args, 'object');
    const byId = {};
    for (const x of rr.results) {
      assert.ok(!(x.unique_id in byId), `${x.unique_id} twice`);
      byId[x.unique_id] = x;
    }
    const bad = [];
    const want = {};
    for (const [name, x] of Object.entries(N)) want[uid(name)] = { status: x.build_status, failures: null };
    for (const [name, t] of Object.entries(T)) {
      const n = testsByName[name];
      if (n) want[n.unique_id] = { status: t.build_status, failures: t.build_status === 'skipped' ? null : t.failures, t };
      else bad.push(`${name}: no manifest node`);
    }
    for (const [id, w] of Object.entries(want)) {
      const x = byId[id];
      if (!x) { bad.push(`${id}: no result`); continue; }
      if (x.status !== w.status) bad.push(`${id}: status ${x.status}, expected ${w.status}`);
      if (w.t && w.failures !== null && x.failures !== w.failures) bad.push(`${id}: failures ${x.failures}, expected ${w.failures}`);
      if (w.t && (w.status === 'fail' || w.status === 'warn') && x.message !== w.t.message) bad.push(`${id}: message ${JSON.stringify(x.message)}, expected ${JSON.stringify(w.t.message)}`);
      if (typeof x.execution_time !== 'number') bad.push(`${id}: execution_time ${x.execution_time}`);
      if (typeof x.adapter_response !== 'object' || x.adapter_response === null) bad.push(`${id}: adapter_response ${JSON.stringify(x.adapter_response)}`);
      if (!Array.isArray(x.timing)) bad.push(`${id}: timing ${JSON.stringify(x.timing)}`);
      if (typeof x.thread_id !== 'string' && w.status !== 'skipped') bad.push(`${id}: thread_id ${x.thread_id}`);
    }
    const extra = Object.keys(byId).filter(id => !(id in want));
    if (extra.length) bad.push(`results not expected: ${extra.join(' ')}`);
    assert.deepEqual(bad, []);
  });

  test('run_results.json of `sluice test -s orders`: only those tests', () => {
    const r = p.run('test', ['-s', 'orders']);
    assertExit(r, EXPECTED.selections['-s orders'].exit);
    const rr = p.json('run_results.json');
    assert.deepEqual(rr.results.map(x => testName(x.unique_id)).sort(), EXPECTED.selections['-s orders'].tests);
    for (const x of rr.results) assert.equal(x.status, T[testName(x.unique_id)].status, x.unique_id);
  });

  test('catalog.json after sluice docs generate: every model with the warehouse\'s column types', () => {
    assertExit(generate, 0);
    const cat = p.json('catalog.json');
    assert.equal(cat.metadata?.dbt_schema_version, 'https://schemas.getdbt.com/dbt/catalog/v1.json');
    const bad = [];
    for (const [model, cols] of Object.entries(EXPECTED.columns)) {
      const id = `model.${PKG}.${model}`;
      const n = cat.nodes?.[id];
      if (!n) { bad.push(`${id} missing from catalog.nodes (${Object.keys(cat.nodes || {}).join(' ')})`); continue; }
      if (n.unique_id !== id) bad.push(`${id}: unique_id ${n.unique_id}`);
      if (n.metadata?.name !== model || n.metadata?.schema !== 'main') bad.push(`${id}: metadata ${JSON.stringify(n.metadata)}`);
      const want = model.startsWith('stg_') ? 'view' : 'table';
      if (String(n.metadata?.type).toLowerCase() !== want) bad.push(`${id}: metadata.type ${n.metadata?.type}, expected ${want}`);
      const pragma = JSON.parse(execFileSync('sqlite3', ['-json', path.join(p.whDir, 'main.db'),
        `SELECT name, type, cid FROM pragma_table_info('${model}') ORDER BY cid`], { encoding: 'utf8' }) || '[]');
      const names = Object.values(n.columns || {}).sort((a, b) => a.index - b.index).map(c => c.name);
      if (JSON.stringify(names) !== JSON.stringify(cols)) bad.push(`${id}: columns ${JSON.stringify(names)}, expected ${JSON.stringify(cols)}`);
      for (const c of pragma) {
        const got = n.columns?.[c.name];
        if (!got) continue;
        if (got.index !== c.cid + 1) bad.push(`${id}.${c.name}: index ${got.index}, expected ${c.cid + 1}`);
        if (String(got.type).toLowerCase() !== String(c.type).toLowerCase()) bad.push(`${id}.${c.name}: type ${JSON.stringify(got.type)}, the warehouse says ${JSON.stringify(c.type)}`);
      }
    }
    // the site generate wrote names every model and test of the project
    const site = path.join(p.dir, 'target/docs/index.html');
    if (!fs.existsSync(site)) bad.push('no target/docs/index.html');
    else {
      const html = fs.readFileSync(site, 'utf8');
      for (const m of [...Object.keys(EXPECTED.columns), ...Object.keys(T)]) if (!html.includes(m)) bad.push(`index.html lacks ${m}`);
    }
    const src = cat.sources?.[`source.${PKG}.shop.customers`];
    if (!src) bad.push('catalog.sources lacks shop.customers');
    else if (!src.columns?.email) bad.push(`shop.customers columns ${JSON.stringify(Object.keys(src.columns || {}))}`);
    assert.deepEqual(bad, []);
  });
});
