// Column-level lineage in `sluice ls --select m --output json`, on the
// small dbt project of fixtures/lineage_small (SQLite): before anything is
// built (relations' columns from the upstream models' own lineage) and
// after `sluice build` (from the warehouse), each model's column map
// exactly, and a model the PostgreSQL parser refuses keeping its place
// with the parser's reason.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, sluice, tmpdir } from '../lib/harness.mjs';

const FIX = path.join(ROOT, 'tests/integration/fixtures/lineage_small');

function project() {
  const root = tmpdir('sluice-lineage-');
  const dir = path.join(root, 'project');
  fs.cpSync(FIX, dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'profiles.yml'), `small:
  target: dev
  outputs:
    dev: {type: sqlite, schema: main, path: ${root}/warehouse.db, threads: 1}
`);
  const run = (cmd, args) => sluice([cmd, '--project-dir', dir, '--profiles-dir', dir, ...args]);
  return { root, dir, run };
}

// The one JSON line ls prints for the selection.
function lsOne(p, sel) {
  const r = p.run('ls', ['--select', sel, '--output', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, r.stdout);
  return JSON.parse(lines[0]);
}

const ref = (model, column) => ({
  node: model.startsWith('raw_') ? `seed.small.${model}` : `model.small.${model}`,
  relation: `"main"."${model}"`,
  column,
});
const col = (how, ...from) => ({ how, from: from.map(([m, c]) => ref(m, c)) });

const CUSTOMERS = {
  customer_id: col('direct', ['stg_customers', 'customer_id']),
  first_name: col('direct', ['stg_customers', 'first_name']),
  last_name: col('direct', ['stg_customers', 'last_name']),
  first_order: col('aggregated', ['stg_orders', 'order_date']),
  most_recent_order: col('aggregated', ['stg_orders', 'order_date']),
  number_of_orders: col('aggregated', ['stg_orders', 'order_id']),
  customer_lifetime_value: col('aggregated', ['stg_payments', 'amount']),
};

const PAY = () => col('aggregated', ['stg_payments', 'payment_method'], ['stg_payments', 'amount']);
const ORDERS = {
  order_id: col('direct', ['stg_orders', 'order_id']),
  customer_id: col('direct', ['stg_orders', 'customer_id']),
  order_date: col('direct', ['stg_orders', 'order_date']),
  status_code: col('transformed', ['stg_orders', 'status']),
  credit_card_amount: PAY(),
  coupon_amount: PAY(),
  bank_transfer_amount: PAY(),
  amount: col('aggregated', ['stg_payments', 'amount']),
  customer_order_seq: col('aggregated', ['stg_orders', 'customer_id'], ['stg_orders', 'order_date']),
};

const EVENTS = {
  customer_id: col('direct', ['stg_orders', 'customer_id']),
  event_date: col('direct', ['stg_orders', 'order_date']),
  kind: col('transformed', ['stg_payments', 'payment_method']),
};

const STG_PAYMENTS = {
  payment_id: col('direct', ['raw_payments', 'id']),
  order_id: col('direct', ['raw_payments', 'order_id']),
  payment_method: col('direct', ['raw_payments', 'payment_method']),
  amount: col('transformed', ['raw_payments', 'amount']),
};

describe('sluice ls: column lineage', () => {
  let p;
  before(() => { p = project(); });

  test('before a build: select * read through the upstream models, no warehouse made', () => {
    const c = lsOne(p, 'customers');
    assert.equal(c.unique_id, 'model.small.customers');
    assert.deepEqual(c.columns, CUSTOMERS);
    assert.equal(c.lineage_error, undefined);
    assert.equal(fs.existsSync(path.join(p.root, 'warehouse.db')), false, 'ls creates no warehouse');
  });

  test('after sluice build: every model\'s column map exactly', () => {
    const b = p.run('build', []);
    assert.equal(b.code, 0, b.stdout + b.stderr);
    assert.deepEqual(lsOne(p, 'customers').columns, CUSTOMERS);
    assert.deepEqual(lsOne(p, 'orders').columns, ORDERS);
    assert.deepEqual(Object.keys(lsOne(p, 'orders').columns), Object.keys(ORDERS), 'the SELECT\'s order');
    assert.deepEqual(lsOne(p, 'customer_events').columns, EVENTS);
    assert.deepEqual(lsOne(p, 'stg_payments').columns, STG_PAYMENTS);
  });

  test('SQL the PostgreSQL parser refuses: no columns, the parser\'s reason', () => {
    const u = lsOne(p, 'unparsed');
    assert.deepEqual(u.columns, {});
    assert.equal(u.lineage_error, 'syntax error at or near "not" (line 2, column 26)');
    assert.deepEqual(u.depends_on.nodes, ['model.small.stg_orders'], 'model-level lineage stays');
  });

  test('seeds have no column lineage; other outputs are unchanged', () => {
    const s = lsOne(p, 'raw_orders');
    assert.equal(s.resource_type, 'seed');
    assert.equal(s.columns, undefined);
    const r = p.run('ls', ['--select', 'customers', '--output', 'name']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'customers\n');
  });
});
