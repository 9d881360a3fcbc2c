// `sluice run` on a postgres source (a throwaway cluster): customers,
// products, orders and order_items extracted incrementally by updated_at
// with a lookback window and merged into the SQLite warehouse. After every
// run each warehouse table equals its source table exactly: inserts,
// updates and late rows inside the lookback arrive, nothing is duplicated,
// also when a run dies between the lake commit and the watermark update.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sluice, tmpdir, writeFiles, startPostgres } from '../lib/harness.mjs';

let pg;
let dir;

// Column lists per table: [name, PostgreSQL expression giving the text the
// warehouse holds].
const ts = c => [c, `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')`];
const tables = {
  customers: { pk: ['customer_id'], cols: [['customer_id'], ['name'], ['email'], ts('updated_at')] },
  products: { pk: ['product_id'], cols: [['product_id'], ['name'], ['price'], ['tags', 'array_to_json(tags)'], ts('updated_at')] },
  orders: { pk: ['order_id'], cols: [['order_id'], ['customer_id'], ['status'], ['placed'], ['total'], ts('updated_at')] },
  order_items: { pk: ['order_id', 'line'], cols: [['order_id'], ['line'], ['product_id'], ['qty'], ['price'], ts('updated_at')] },
};

const schemaSql = `
CREATE TABLE customers (customer_id int PRIMARY KEY, name text NOT NULL, email varchar(100),
  updated_at timestamptz NOT NULL);
CREATE TABLE products (product_id int PRIMARY KEY, name text, price numeric(10,2),
  tags text[], updated_at timestamptz NOT NULL);
CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id int REFERENCES customers,
  status text, placed date, total numeric(12,2), updated_at timestamptz NOT NULL);
CREATE TABLE order_items (order_id bigint REFERENCES orders, line int, product_id int
  REFERENCES products, qty int, price numeric(10,2), updated_at timestamptz NOT NULL,
  PRIMARY KEY (order_id, line));
INSERT INTO customers SELECT g, 'Customer ' || g || CASE WHEN g % 10 = 0 THEN E' "quoted"\\ttab' ELSE '' END,
  CASE WHEN g % 7 = 0 THEN NULL ELSE 'c' || g || '@example.com' END,
  timestamptz '2024-03-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 60) g;
INSERT INTO products SELECT g, 'Product ' || g, (g * 3.17)::numeric(10,2),
  ARRAY['t' || g, 'a b'], timestamptz '2024-03-01 00:00:00+00' + g * interval '2 minute'
  FROM generate_series(1, 25) g;
INSERT INTO orders SELECT g, 1 + g % 60, 'new', date '2024-02-01' + g % 28, 0,
  timestamptz '2024-03-01 01:00:00+00' + g * interval '17 second' FROM generate_series(1, 300) g;
INSERT INTO order_items SELECT o, l, 1 + (o * l) % 25, 1 + l, (1 + (o * l) % 25) * 3.17,
  timestamptz '2024-03-01 01:00:00+00' + o * interval '17 second' + l * interval '1 millisecond'
  FROM generate_series(1, 300) o, generate_series(1, 3) l;
UPDATE orders o SET total = (SELECT sum(qty * price) FROM order_items i WHERE i.order_id = o.order_id);
`;

function sourceYml() {
  let y = 'source: shop_db\nkind: postgres\nconnection: ${SHOP_DB_URL}\ntables:\n';
  for (const [name, t] of Object.entries(tables)) {
    y += `  - name: ${name}\n    primary_key: [${t.pk.join(', ')}]\n    cursor: updated_at\n    lookback: 1h\n    write: merge\n`;
  }
  return y;
}

before(() => {
  pg = startPostgres();
  pg.psql(schemaSql);
  dir = tmpdir();
  writeFiles(dir, { 'sluice.yml': 'name: shop\nlake: ./lake\n', 'sources/shop_db.yml': sourceYml() });
});
after(() => pg && pg.stop('immediate'));

function run(env = {}) {
  return sluice(['run', '--project-dir', dir], { env: { SHOP_DB_URL: pg.url, ...env } });
}

function sourceRows(name) {
  const t = tables[name];
  const exprs = t.cols.map(([c, e]) => `coalesce((${e || c})::text, '<null>')`).join(', ');
  const sql = `SELECT coalesce(json_agg(json_build_array(${exprs}) ORDER BY ${t.pk.join(', ')}), '[]') FROM ${name}`;
  return JSON.parse(pg.psql(sql));
}

function warehouseRows(name) {
  const t = tables[name];
  const exprs = t.cols.map(([c]) => `coalesce(CAST("${c}" AS TEXT), '<null>')`).join(', ');
  const sql = `SELECT json_group_array(json_array(${exprs})) FROM (SELECT * FROM "shop_db__${name}" ORDER BY ${t.pk.map(c => `"${c}"`).join(', ')})`;
  return JSON.parse(execFileSync('sqlite3', [path.join(dir, 'warehouse.raw.db'), sql], { encoding: 'utf8' }));
}

function assertWarehouseEqualsSource() {
  for (const name of Object.keys(tables)) {
    const want = sourceRows(name);
    const got = warehouseRows(name);
    assert.equal(got.length, want.length, `${name}: row count`);
    assert.deepEqual(got, want, `${name}: rows differ`);
  }
}

test('first run lands every row of every table with exact values', () => {
  const r = run();
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /shop_db\.orders\s+\d+\s+300\s+300\s+0/);
  assert.match(r.stdout, /shop_db\.order_items\s+\d+\s+900\s+900\s+0/);
  assertWarehouseEqualsSource();
  // arrays arrive as JSON, numerics as exact decimals
  const p = warehouseRows('products')[0];
  assert.deepEqual(p.slice(0, 4), ['1', 'Product 1', '3.17', '["t1","a b"]']);
});

test('second run: inserts, updates and late rows inside the lookback', () => {
  pg.psql(`
    UPDATE orders SET status = 'shipped', updated_at = '2024-03-01 03:00:00+00' WHERE order_id % 30 = 0;
    INSERT INTO orders SELECT g, 1 + g % 60, 'new', date '2024-03-01', 10.5,
      timestamptz '2024-03-01 03:00:00+00' + g * interval '1 second' FROM generate_series(301, 320) g;
    INSERT INTO order_items SELECT g, 1, 3, 2, 5.25, timestamptz '2024-03-01 03:00:00+00' + g * interval '1 second'
      FROM generate_series(301, 320) g;
    -- late: committed now with a timestamp 30 minutes behind the watermark
    INSERT INTO order_items SELECT o, 4, 2, 1, 6.34, timestamptz '2024-03-01 01:55:00+00'
      FROM generate_series(1, 5) o;
    UPDATE customers SET email = 'changed@example.com', updated_at = '2024-03-01 01:30:00+00' WHERE customer_id = 3;
  `);
  const r = run();
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assertWarehouseEqualsSource();
  assert.equal(warehouseRows('order_items').length, 925);
});

test('third run: more updates, a late customer, and an unchanged table', () => {
  pg.psql(`
    UPDATE products SET price = price * 2, updated_at = '2024-03-01 02:00:00+00' WHERE product_id <= 5;
    INSERT INTO customers VALUES (61, 'Late Customer', NULL, '2024-03-01 01:10:00+00');
    UPDATE order_items SET qty = qty + 1, updated_at = '2024-03-01 04:00:00+00' WHERE order_id = 7;
  `);
  const r = run();
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assertWarehouseEqualsSource();
  assert.equal(warehouseRows('customers').length, 61);
});

test('a run killed after the lake commit, before the watermark moved, reruns without duplicates', () => {
  pg.psql(`
    UPDATE orders SET status = 'returned', updated_at = '2024-03-01 05:00:00+00' WHERE order_id IN (1, 2, 3);
    INSERT INTO orders VALUES (321, 1, 'new', '2024-03-02', 1.00, '2024-03-01 05:00:01+00');
    INSERT INTO order_items VALUES (321, 1, 1, 1, 1.00, '2024-03-01 05:00:01+00');
  `);
  const crashed = run({ SLUICE_TEST_CRASH_AFTER: 'lake_commit' });
  assert.equal(crashed.code, 137, crashed.stderr + crashed.stdout);
  const r = run();
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assertWarehouseEqualsSource();
  for (const [name, t] of Object.entries(tables)) {
    const pk = t.pk.map(c => `"${c}"`).join(', ');
    const out = execFileSync('sqlite3', [path.join(dir, 'warehouse.raw.db'),
      `SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT ${pk} FROM "shop_db__${name}")) FROM "shop_db__${name}"`],
    { encoding: 'utf8' });
    assert.equal(out.trim(), '0', `${name} has duplicates`);
  }
  // and once more with nothing new: still equal
  const again = run();
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assertWarehouseEqualsSource();
});

test('--full-refresh re-extracts every row and the warehouse still equals the source', () => {
  const r = sluice(['run', '--project-dir', dir, '--full-refresh'], { env: { SHOP_DB_URL: pg.url } });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /shop_db\.order_items\s+\d+\s+926\s+926\s+0/);
  assertWarehouseEqualsSource();
});

test('an unsupported column type is a clear error naming the column', () => {
  pg.psql('CREATE TABLE odd (id int PRIMARY KEY, span interval, updated_at timestamptz)');
  const d = tmpdir();
  writeFiles(d, {
    'sluice.yml': 'name: x\nlake: ./lake\n',
    'sources/db.yml': 'source: db\nkind: postgres\nconnection: ${SHOP_DB_URL}\ntables:\n  - name: odd\n    primary_key: [id]\n',
  });
  const r = sluice(['run', '--project-dir', d], { env: { SHOP_DB_URL: pg.url } });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /column "span" has type interval/);
  assert.match(r.stdout + r.stderr, /cast_unsupported_to_text/);
});

test('columns whose names differ only in case land under unique names and load into SQLite', () => {
  pg.psql('CREATE TABLE cased (id int PRIMARY KEY, "Amount" int, amount int, "AMOUNT" text)');
  pg.psql("INSERT INTO cased VALUES (1, 10, 20, 'x'), (2, 11, 21, NULL)");
  const d = tmpdir();
  writeFiles(d, {
    'sluice.yml': 'name: x\nlake: ./lake\n',
    'sources/db.yml': 'source: db\nkind: postgres\nconnection: ${SHOP_DB_URL}\ntables:\n  - name: cased\n    primary_key: [id]\n',
  });
  const r = sluice(['run', '--project-dir', d], { env: { SHOP_DB_URL: pg.url } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^note: db\.cased: column names that repeat \(ignoring case\) were renamed: amount → amount_1, AMOUNT → AMOUNT_2$/m);
  const rows = execFileSync('sqlite3', ['-json', path.join(d, 'warehouse.raw.db'),
    'SELECT id, "Amount", amount_1, "AMOUNT_2" FROM db__cased ORDER BY id'], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(rows), [
    { id: 1, Amount: 10, amount_1: 20, AMOUNT_2: 'x' },
    { id: 2, Amount: 11, amount_1: 21, AMOUNT_2: null },
  ]);
});

test('a primary key naming one of two spellings keeps it; no key is reported null', () => {
  pg.psql('CREATE TABLE k2 ("Key" int, key int, v text)');
  pg.psql("INSERT INTO k2 VALUES (1, 10, 'a'), (1, 20, 'b'), (2, 10, 'c')");
  const d = tmpdir();
  writeFiles(d, {
    'sluice.yml': 'name: x\nlake: ./lake\n',
    'sources/db.yml': 'source: db\nkind: postgres\nconnection: ${SHOP_DB_URL}\ntables:\n  - name: k2\n    primary_key: [key, Key]\n    write: merge\n',
  });
  let r = sluice(['run', '--project-dir', d], { env: { SHOP_DB_URL: pg.url } });
  assert.equal(r.code, 2, 'both spellings named: they cannot both keep their name in SQLite');
  assert.match(r.stderr, /db\.yml:6: primary_key names "key" and "Key" in table "k2": one column to a warehouse that ignores case/);
  writeFiles(d, { 'sources/db.yml': 'source: db\nkind: postgres\nconnection: ${SHOP_DB_URL}\ntables:\n  - name: k2\n    primary_key: [key]\n    write: merge\n' });
  r = sluice(['run', '--project-dir', d], { env: { SHOP_DB_URL: pg.url } });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /renamed: Key → Key_1$/m);
  assert.doesNotMatch(r.stdout + r.stderr, /is null/);
  const rows = execFileSync('sqlite3', ['-json', path.join(d, 'warehouse.raw.db'),
    'SELECT key, "Key_1", v FROM db__k2 ORDER BY key, "Key_1"'], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(rows), [{ key: 10, Key_1: 2, v: 'c' }, { key: 20, Key_1: 1, v: 'b' }]);
});
