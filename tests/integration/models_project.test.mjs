// SQL models in dbt's layout, end to end: the test project of
// fixtures/models/project built by `sluice build` on SQLite and on a
// throwaway PostgreSQL across three loads of source and seed data, every
// relation compared row by row with fixtures/models/expected/<load>/ (computed
// independently by fixtures/models/expected.py); incremental strategies and
// on_schema_change modes, snapshots with hard deletes, a failing model, a
// schema-name override, the template showcase.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startPostgres } from '../lib/harness.mjs';
import {
  FIX, LOADS, RELATIONS, SEED_TYPES, makeProject, assertRelation, assertRows, assertExit,
  expectedRows, parseCsv, varsOf,
} from './fixtures/models/harness.mjs';

const PG_TYPES = {
  integer: 'integer', float: 'double precision', date: 'date',
  timestamp: 'timestamp without time zone', boolean: 'boolean', text: 'text',
  'varchar(32)': 'character varying',
};

let pgServer = null;
let dbCount = 0;
function pgProject(opts = {}) {
  if (!pgServer) pgServer = startPostgres();
  return makeProject({ ...opts, pg: pgServer, db: `shop${++dbCount}` });
}

// Every relation the expected results name (the target_info variant aside).
const KEYS = Object.keys(RELATIONS).sort();

for (const warehouse of ['sqlite', 'postgres']) {
  describe(`dbt project on ${warehouse}`, () => {
    let p;
    before(() => { p = warehouse === 'postgres' ? pgProject() : makeProject(); });

    for (const { name: load } of LOADS.loads) {
      test(`${load}: sluice build, every relation as expected`, () => {
        p.load(load);
        const r = p.run('build', ['--vars', varsOf(load)]);
        assertExit(r, 0);
        for (const key of KEYS) assertRelation(p, load, key);
        // the ephemeral model is inlined, never a relation; disabled models
        // (enabled: false in dbt_project.yml and in config()) are not built
        const rels = p.relations();
        for (const absent of ['int_customer_orders', 'old_orders', 'disabled_inline', 'dim_customers', 'stg_products']) {
          assert.ok(!rels.some(x => x.endsWith(`.${absent}`)), `${absent} must not be a relation: ${rels.join(' ')}`);
        }
        // tables built under a temporary name and swapped in leave nothing
        assert.deepEqual(rels.filter(x => /__dbt_tmp|dbt_tmp/.test(x)), [], 'temporary relations left');
        // SCD2: a closed version ends when the next one starts; scd ids unique
        for (const [schema, name, key] of [['snapshots', 'customers_snapshot', 'id'], ['main', 'orders_snapshot', 'order_id']]) {
          const rows = p.read(schema, name, `${key}, dbt_valid_to is null, dbt_valid_to`);
          const h = rows[0];
          const [k, from, to, scd] = [key, 'dbt_valid_from', 'dbt_valid_to', 'dbt_scd_id'].map(c => h.indexOf(c));
          for (let i = 1; i + 1 < rows.length; i++) {
            if (rows[i][k] === rows[i + 1][k]) {
              assert.equal(rows[i][to], rows[i + 1][from], `${name} ${key}=${rows[i][k]}: valid_to of a version is valid_from of the next`);
            }
          }
          const ids = rows.slice(1).map(r => r[scd]);
          assert.equal(new Set(ids).size, ids.length, `${name}: dbt_scd_id unique`);
        }
      });
    }

    if (warehouse === 'sqlite') {
      test('files laid out as dbt-sqlite lays them: schemas_and_paths, then schema_directory/<schema>.db', () => {
        const files = fs.readdirSync(p.whDir).filter(f => f.endsWith('.db')).sort();
        for (const f of ['main.db', 'raw.db', 'main_staging.db', 'main_marts.db', 'snapshots.db']) {
          assert.ok(files.includes(f), `${f} not in ${p.whDir}: ${files.join(' ')}`);
        }
      });
    }

    test('seed types are inferred as dbt infers them (column_types win)', () => {
      for (const [seed, cols] of Object.entries(SEED_TYPES)) {
        for (const [col, type] of Object.entries(cols)) {
          if (warehouse === 'postgres') {
            const out = p.query(`SELECT data_type FROM information_schema.columns
              WHERE table_schema = 'main' AND table_name = '${seed}' AND column_name = '${col}'`);
            assert.equal(parseCsv(out)[1]?.[0], PG_TYPES[type], `${seed}.${col}`);
          } else if (type === 'integer' || type === 'float') {
            const out = p.query(`SELECT DISTINCT typeof("${col}") FROM "main"."${seed}" WHERE "${col}" IS NOT NULL`);
            assert.deepEqual(parseCsv(out).slice(1).map(x => x[0]), [type === 'integer' ? 'integer' : 'real'],
              `${seed}.${col}`);
          }
        }
      }
      // column_types: sku stays text, leading zeros kept
      assert.deepEqual(p.read('main', 'raw_products', 'sku').slice(1).map(r => r[0]),
        ['00101', '00102', '00203', '00304']);
    });

    if (warehouse === 'postgres') {
      test('materializations resolve as dbt resolves configs (project < YAML < config())', () => {
        const kind = (schema, name) => parseCsv(p.query(`SELECT table_type FROM information_schema.tables
          WHERE table_schema = '${schema}' AND table_name = '${name}'`))[1]?.[0];
        assert.equal(kind('main_staging', 'stg_customers'), 'VIEW');   // dbt_project.yml
        assert.equal(kind('main_staging', 'stg_payments'), 'VIEW');    // config() over YAML
        assert.equal(kind('main_staging', 'products'), 'BASE TABLE');  // YAML over the project, alias
        assert.equal(kind('main', 'int_order_payments'), 'BASE TABLE'); // `materialized: table` without +
        assert.equal(kind('main', 'target_info'), 'BASE TABLE');      // YAML
        assert.equal(kind('main_marts', 'customers'), 'BASE TABLE');  // alias, custom schema
        assert.equal(kind('snapshots', 'customers_snapshot'), 'BASE TABLE'); // target_schema as is
      });
    }

    test('--full-refresh rebuilds an incremental model from scratch', () => {
      const r = p.run('build', ['--vars', varsOf('load3'), '--full-refresh', '--select', 'inc_orders_append']);
      assertExit(r, 0);
      // now exactly stg_orders' rows, no earlier versions and no deleted order
      const stg = expectedRows('load3', 'main_staging.stg_orders', warehouse);
      const cols = ['order_id', 'customer_id', 'status', 'amount_cents', 'updated_at'];
      const idx = cols.map(c => stg[0].indexOf(c));
      const want = [cols, ...stg.slice(1).map(row => idx.map(i => row[i]))];
      assertRows(p.read('main', 'inc_orders_append', 'order_id, updated_at'), want, 'full refresh');
    });

    test('on_schema_change: fail stops the model, exit 1, the table unchanged', () => {
      const before = p.read('main', 'inc_osc_fail', 'order_id, updated_at');
      const vars = JSON.stringify({ ...JSON.parse(varsOf('load3')), osc_fail_version: 2 });
      const r = p.run('build', ['--vars', vars, '--select', 'inc_osc_fail']);
      assertExit(r, 1);
      assert.match(r.stdout + r.stderr, /inc_osc_fail/);
      assert.match(r.stdout + r.stderr, /schema|column/i);
      assert.deepEqual(p.read('main', 'inc_osc_fail', 'order_id, updated_at'), before);
    });
  });
}

describe('a failing model', () => {
  for (const warehouse of ['sqlite', 'postgres']) {
    test(`${warehouse}: upstream rebuilt, the failed table as it was, downstream skipped, exit 1`, () => {
      const p = warehouse === 'postgres' ? pgProject() : makeProject();
      p.load('load1');
      assertExit(p.run('build', ['--vars', varsOf('load1')]), 0);
      p.load('load2');
      fs.writeFileSync(path.join(p.dir, 'models/intermediate/int_order_payments.sql'),
        "select order_id, no_such_column_xyz as broken\nfrom {{ ref('stg_payments') }}\n");
      const r = p.run('build', ['--vars', varsOf('load2')]);
      assertExit(r, 1);
      const out = r.stdout + r.stderr;
      assert.match(out, /int_order_payments/);
      assert.match(out, /no_such_column_xyz/, 'the database message names the column');
      assert.match(out, /fct_orders[^\n]*skip|skip[^\n]*fct_orders/i, 'fct_orders reported skipped');
      // upstream and unrelated nodes: load2's results
      for (const key of ['main.raw_payments', 'main_staging.stg_payments', 'main_staging.stg_orders',
        'main_marts.customers', 'main.inc_orders_merge', 'main.orders_snapshot']) {
        assertRelation(p, 'load2', key);
      }
      // the failed model and what is downstream of it: load1's, still readable
      assertRelation(p, 'load1', 'main.int_order_payments');
      assertRelation(p, 'load1', 'main_marts.fct_orders');
      // hooks of the skipped model did not run
      assertRows(p.read('main', 'hook_log', 'model_name'),
        [['model_name'], ['customers'], ['customers'], ['fct_orders']], 'hook_log');
    });
  }
});

describe('variants', () => {
  test('a generate_schema_name override puts custom schemas as they are', () => {
    const p = makeProject({ overlay: 'variants/schema_override' });
    p.load('load1');
    const r = p.run('build', ['--vars', varsOf('load1'), '--select', '+stg_customers +fct_orders']);
    assertExit(r, 0);
    const rels = p.relations();
    assert.ok(rels.includes('staging.stg_customers'), rels.join(' '));
    assert.ok(rels.includes('marts.fct_orders'), rels.join(' '));
    assert.ok(!rels.some(x => x.startsWith('main_staging.') || x.startsWith('main_marts.')), rels.join(' '));
    assertRows(p.read('marts', 'fct_orders', 'order_id'), expectedRows('load1', 'main_marts.fct_orders', 'sqlite'),
      'fct_orders in marts');
  });

  test("a disabled model's refs are not resolved (one to a model that is gone)", () => {
    const p = makeProject({ overlay: 'variants/disabled_dangling_ref' });
    p.load('load1');
    const r = p.run('build', ['--vars', varsOf('load1'), '--select', '+stg_customers']);
    assertExit(r, 0);
    assert.ok(!p.relations().some(x => x.endsWith('.retired_report')));
  });

  test('the template showcase renders as jinja2 renders it', () => {
    const p = makeProject();
    fs.copyFileSync(path.join(FIX, 'extras/jinja_showcase.sql'), path.join(p.dir, 'models/misc/jinja_showcase.sql'));
    const r = p.run('build', ['--select', 'jinja_showcase']);
    assertExit(r, 0);
    const want = parseCsv(fs.readFileSync(path.join(FIX, 'expected/jinja_showcase.csv'), 'utf8'));
    const got = p.read('main', 'jinja_showcase', 'check_id');
    // one assertion per construct, so a failure names it
    const byName = rows => Object.fromEntries(rows.slice(1).map(row => [row[1], row[2]]));
    const g = byName(got);
    for (const [check, value] of Object.entries(byName(want))) {
      assert.equal(g[check], value, `showcase check ${check}`);
    }
  });
});
