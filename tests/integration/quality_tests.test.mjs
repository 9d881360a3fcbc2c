// Data tests end to end on SQLite: the quality project
// (fixtures/quality/project, seeds with deliberate defects) built by
// `sluice build` and tested by `sluice test` with selections; every test's
// status, failing-row count, sample and store_failures table compared with
// fixtures/quality/expected.json (computed from the seeds by expected.py);
// tests on a sluice project's extracted table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sluice, tmpdir, writeFiles } from '../lib/harness.mjs';
import { buildSuite } from './fixtures/quality/checks.mjs';
import { makeProject, assertExit, assertLines } from './fixtures/quality/harness.mjs';

buildSuite('sqlite', () => makeProject());

// A sluice project's extracted tables are dbt sources: properties YAML
// attaches tests to them as to any source (their columns, description,
// tests), and a failing one skips the models built from the table.
test('a sluice project: data tests on an extracted table, from properties YAML', () => {
  const dir = tmpdir('sluice-qsl-');
  writeFiles(dir, {
    'sluice.yml': 'name: shop\nlake: ./lake\n',
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: orders\n    path: data/orders_*.csv\n    columns: {id: int64, amount: int64}\n',
    // id 2 twice, one id missing, one unexpected status
    'data/orders_1.csv': 'id,amount,status\n1,10,placed\n2,20,shipped\n2,30,lost\n,5,placed\n',
    'models/_sources.yml': `version: 2
sources:
  - name: shop
    tables:
      - name: orders
        description: Orders as extracted.
        columns:
          - name: id
            data_tests: [unique, not_null]
          - name: status
            data_tests:
              - accepted_values:
                  values: [placed, shipped]
                  severity: warn
`,
    'models/stg_orders.sql': "select id, amount from {{ source('shop', 'orders') }}\n",
  });
  const r = sluice(['build', '--project-dir', dir]);
  r.args = ['build', '--project-dir', dir];
  assertLines(r, {
    source_unique_shop_orders_id: 'FAIL',
    source_not_null_shop_orders_id: 'FAIL',
    source_accepted_values_shop_orders_status__placed__shipped: 'WARN',
    stg_orders: 'SKIP',
  }, 'sluice project build');
  assertExit(r, 1);
  assert.match(r.stdout, /FAIL 1 source_unique_shop_orders_id/);
});
