// `sluice ls`, `sluice compile` and --select/--exclude on the test project
// of fixtures/models/project: dbt's selector syntax checked on the set of
// nodes listed and on the relations a selected build creates.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startPostgres } from '../lib/harness.mjs';
import { makeProject, assertExit, varsOf } from './fixtures/models/harness.mjs';

const SEEDS = ['raw_customers', 'raw_payments', 'raw_products'];
const STAGING = ['stg_customers', 'stg_orders', 'stg_payments', 'stg_products'];
const INC = ['inc_orders_append', 'inc_orders_merge', 'inc_payments_merge', 'inc_daily_delete_insert',
  'inc_osc_ignore', 'inc_osc_append', 'inc_osc_sync', 'inc_osc_fail'];
const MODELS = [...STAGING, 'int_order_payments', 'int_customer_orders', 'dim_customers', 'fct_orders',
  'target_info', ...INC];
const SNAPSHOTS = ['customers_snapshot', 'orders_snapshot'];
const ALL = [...SEEDS, ...MODELS, ...SNAPSHOTS];

// The JSON objects `ls --output json` printed (one per line, as dbt).
function lsJson(r) {
  assertExit(r, 0);
  const nodes = [];
  for (const line of r.stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    nodes.push(JSON.parse(t));
  }
  return nodes;
}

// Names of the models, seeds and snapshots selected (sources left out).
function selected(p, args) {
  return lsJson(p.run('ls', ['--output', 'json', ...args]))
    .filter(n => ['model', 'seed', 'snapshot'].includes(n.resource_type))
    .map(n => n.name).sort();
}

describe('sluice ls', () => {
  let p;
  before(() => { p = makeProject(); });

  test('every enabled node, none of the disabled ones', () => {
    assert.deepEqual(selected(p, []), [...ALL].sort());
  });

  test('--output json describes nodes as dbt ls does', () => {
    const nodes = Object.fromEntries(lsJson(p.run('ls', ['--output', 'json'])).map(n => [n.unique_id, n]));
    const stgPay = nodes['model.shop.stg_payments'];
    assert.ok(stgPay, Object.keys(nodes).join(' '));
    assert.equal(stgPay.name, 'stg_payments');
    assert.equal(stgPay.resource_type, 'model');
    assert.equal(stgPay.package_name, 'shop');
    assert.equal(stgPay.original_file_path, 'models/staging/stg_payments.sql');
    assert.equal(stgPay.config.materialized, 'view', 'config() wins over properties YAML');
    assert.deepEqual([...stgPay.tags].sort(), ['payments', 'staging'], 'tags add up');
    assert.deepEqual(stgPay.depends_on.nodes, ['seed.shop.raw_payments']);

    const products = nodes['model.shop.stg_products'];
    assert.equal(products.config.materialized, 'table', 'properties YAML wins over dbt_project.yml');
    assert.equal(products.alias, 'products');

    const dim = nodes['model.shop.dim_customers'];
    assert.equal(dim.alias, 'customers');
    assert.equal(dim.config.schema, 'marts');
    assert.deepEqual([...dim.tags].sort(), ['core', 'marts']);
    assert.deepEqual([...dim.depends_on.nodes].sort(),
      ['model.shop.int_customer_orders', 'model.shop.stg_customers']);

    const intPay = nodes['model.shop.int_order_payments'];
    assert.equal(intPay.config.materialized, 'table', "'materialized: table' without + in dbt_project.yml");
    assert.equal(nodes['model.shop.int_customer_orders'].config.materialized, 'ephemeral');

    const merge = nodes['model.shop.inc_payments_merge'];
    assert.equal(merge.config.materialized, 'incremental');
    assert.equal(merge.config.incremental_strategy, 'merge');
    assert.deepEqual(merge.config.unique_key, ['order_id', 'payment_method']);
    assert.equal(nodes['model.shop.inc_orders_merge'].config.unique_key, 'order_id', 'config from YAML');
    assert.equal(nodes['model.shop.inc_osc_fail'].config.on_schema_change, 'fail');

    assert.equal(nodes['seed.shop.raw_products'].resource_type, 'seed');
    assert.equal(nodes['seed.shop.raw_products'].config.delimiter, ';');
    assert.equal(nodes['snapshot.shop.customers_snapshot'].resource_type, 'snapshot');
    assert.equal(nodes['snapshot.shop.customers_snapshot'].config.strategy, 'check');
    assert.equal(nodes['snapshot.shop.orders_snapshot'].config.strategy, 'timestamp');
    assert.deepEqual(nodes['snapshot.shop.orders_snapshot'].depends_on.nodes, ['model.shop.stg_orders']);
    assert.ok(!nodes['model.shop.old_orders'] && !nodes['model.shop.disabled_inline'], 'disabled models listed');
  });

  test('--resource-type', () => {
    assert.deepEqual(selected(p, ['--resource-type', 'snapshot']), SNAPSHOTS);
    assert.deepEqual(selected(p, ['--resource-type', 'seed']), SEEDS);
    assert.deepEqual(selected(p, ['--resource-type', 'model', '--select', '+dim_customers']),
      ['dim_customers', 'int_customer_orders', 'stg_customers', 'stg_orders']);
  });

  const CASES = [
    [['--select', 'path:models/staging'], STAGING],
    [['--select', 'path:models/incremental/inc_osc_fail.sql'], ['inc_osc_fail']],
    [['--select', 'tag:marts'], ['dim_customers', 'fct_orders']],
    [['--select', 'tag:finance'], ['fct_orders']],           // properties YAML
    [['--select', 'tag:core'], ['dim_customers']],           // config()
    [['--select', 'tag:payments'], ['stg_payments']],
    [['--select', 'tag:seed_data'], ['raw_customers']],
    [['--select', 'config.materialized:incremental'], INC],
    [['--select', 'config.materialized:view'], ['stg_customers', 'stg_orders', 'stg_payments']],
    [['--select', 'resource_type:snapshot'], SNAPSHOTS],
    [['--select', 'source:crm+'], ['customers_snapshot']],
    [['--select', '+fct_orders'], ['fct_orders', 'int_order_payments', 'raw_payments', 'stg_orders', 'stg_payments']],
    [['--select', '1+fct_orders'], ['fct_orders', 'int_order_payments', 'stg_orders']],
    [['--select', 'stg_payments+1'], ['inc_payments_merge', 'int_order_payments', 'stg_payments']],
    [['--select', 'stg_orders+'], ['dim_customers', 'fct_orders', 'int_customer_orders', 'orders_snapshot',
      'stg_orders', ...INC.filter(x => x !== 'inc_payments_merge')]],
    [['--select', '@stg_payments'], ['fct_orders', 'inc_payments_merge', 'int_order_payments', 'raw_payments',
      'stg_orders', 'stg_payments']],
    [['--select', 'tag:marts tag:staging'], ['dim_customers', 'fct_orders', ...STAGING]],
    [['--select', 'tag:finance', 'tag:core'], ['dim_customers', 'fct_orders']],
    [['--select', 'stg_orders+,tag:incremental'], INC.filter(x => x !== 'inc_payments_merge')],
    [['--select', 'path:models/marts,tag:finance'], ['fct_orders']],
    [['--select', 'tag:incremental', '--exclude', 'inc_osc_fail inc_osc_sync'],
      INC.filter(x => x !== 'inc_osc_fail' && x !== 'inc_osc_sync')],
    [['--select', 'stg_orders+', '--exclude', 'tag:incremental'],
      ['dim_customers', 'fct_orders', 'int_customer_orders', 'orders_snapshot', 'stg_orders']],
    [['--exclude', 'tag:incremental resource_type:seed'],
      [...STAGING, 'int_order_payments', 'int_customer_orders', 'dim_customers', 'fct_orders', 'target_info',
        ...SNAPSHOTS]],
  ];
  for (const [args, want] of CASES) {
    test(`ls ${args.join(' ')}`, () => {
      assert.deepEqual(selected(p, args), [...want].sort());
    });
  }
});

describe('selected builds', () => {
  test('+fct_orders, then incrementals less two: exactly those relations', () => {
    const p = makeProject();
    p.load('load1');
    assertExit(p.run('build', ['--vars', varsOf('load1'), '--select', '+fct_orders']), 0);
    const sources = ['raw.crm_customers', 'raw.orders'];
    const first = ['main.hook_log', 'main.int_order_payments', 'main.raw_payments', 'main_marts.fct_orders',
      'main_staging.stg_orders', 'main_staging.stg_payments'];
    assert.deepEqual(p.relations(), [...sources, ...first].sort());
    assertExit(p.run('build', ['--vars', varsOf('load1'), '--select', 'tag:incremental,config.materialized:incremental',
      '--exclude', 'inc_osc_fail inc_osc_sync']), 0);
    const more = ['main.inc_daily_delete_insert', 'main.inc_orders_append', 'main.inc_orders_merge',
      'main.inc_osc_append', 'main.inc_osc_ignore', 'main.inc_payments_merge'];
    assert.deepEqual(p.relations(), [...sources, ...first, ...more].sort());
  });

  test('sluice seed and sluice snapshot build only seeds, only snapshots', () => {
    const p = makeProject();
    p.load('load1');
    assertExit(p.run('seed', []), 0);
    assert.deepEqual(p.relations(), ['main.raw_customers', 'main.raw_payments', 'main.raw_products',
      'raw.crm_customers', 'raw.orders']);
    assertExit(p.run('run', ['--vars', varsOf('load1'), '--select', 'stg_orders']), 0);
    assertExit(p.run('snapshot', []), 0);
    const rels = p.relations();
    assert.ok(rels.includes('snapshots.customers_snapshot') && rels.includes('main.orders_snapshot'), rels.join(' '));
    assert.ok(!rels.includes('main_marts.fct_orders'), rels.join(' '));
  });
});

describe('sluice compile', () => {
  for (const warehouse of ['sqlite', 'postgres']) {
    test(`${warehouse}: rendered SQL in target/compiled/shop/`, () => {
      const p = warehouse === 'postgres'
        ? makeProject({ pg: startPostgres(), db: 'compile' }) : makeProject();
      p.load('load1');
      const r = p.run('compile', ['--vars', varsOf('load1')]);
      assertExit(r, 0);
      const compiled = rel => {
        const f = path.join(p.dir, 'target/compiled/shop', rel);
        assert.ok(fs.existsSync(f), `${f} missing`);
        const s = fs.readFileSync(f, 'utf8');
        assert.ok(!/\{\{|\{%/.test(s), `${rel} still holds template syntax:\n${s}`);
        return s;
      };
      const pay = compiled('models/staging/stg_payments.sql');
      if (warehouse === 'postgres') assert.match(pay, /\(amount::numeric\(16, 2\) \/ 100\)::numeric\(16, 2\)/);
      else assert.match(pay, /round\(amount \/ 100\.0, 2\)/);
      assert.match(pay, /raw_payments/);
      const dim = compiled('models/marts/dim_customers.sql');
      assert.match(dim, /__dbt__cte__int_customer_orders/);
      assert.match(dim, /coalesce\(cast\(c\.customer_id as text\), '_null_'\)/);
      assert.match(dim, />= 25 \* 100/, '--vars wins over dbt_project.yml vars');
      const fct = compiled('models/marts/fct_orders.sql');
      assert.match(fct, /'ord-' \|\| coalesce\(cast\(o\.order_id as text\), '_null_'\)/);
      assert.match(fct, /coalesce\(p\.credit_card_cents, 0\) \+ coalesce\(p\.coupon_cents, 0\) \+ coalesce\(p\.bank_transfer_cents, 0\) \+ coalesce\(p\.gift_card_cents, 0\)/);
      assert.match(fct, /case when o\.amount_cents = 0 then null/);
      const ip = compiled('models/intermediate/int_order_payments.sql');
      assert.match(ip, /-- methods: credit_card, coupon, bank_transfer, gift_card; labels: card\/coupon\/bank\/gift/);
      const ti = compiled('models/misc/target_info.sql');
      assert.match(ti, warehouse === 'postgres' ? /'default' as dialect/ : /'sqlite-specific' as dialect/);
      assert.match(ti, /'north' as region/);
      assert.match(ti, /'fallback' as env_default/);
      // not built yet: is_incremental() is false
      assert.doesNotMatch(compiled('models/incremental/inc_orders_append.sql'), /where updated_at >/);
      // compile builds nothing (main.hook_log is the harness's own on
      // PostgreSQL: see pgProject)
      assert.deepEqual(p.relations().filter(x => !x.startsWith('raw.') && x !== 'main.hook_log'), []);
    });
  }
});
