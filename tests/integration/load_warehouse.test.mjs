// Loading the lake into the SQLite warehouse (`sluice run`, `sluice load`):
// every type and awkward string round-trips CSV -> lake -> SQLite with NULLs
// kept apart from empty strings; merges keep the latest row per key across
// runs; new columns evolve the table and type changes fail by name; hostile
// column names stay quoted; a second load loads nothing; the run ledger
// reconciles. Values are read back with the sqlite3 CLI, not with sluice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, tmpdir, writeFiles } from '../lib/harness.mjs';
import { typesYml, typesCsv, cols } from '../lib/types_fixture.mjs';
import { runSummary as summary, warehouseSql as sqlite, warehouseRows as sqliteRows } from '../lib/harness.mjs';

function project(files) {
  const dir = tmpdir();
  writeFiles(dir, { 'sluice.yml': 'name: t\nlake: ./lake\n', ...files });
  return dir;
}

function sqliteColumns(dir, table) {
  return JSON.parse(sqlite(dir, `SELECT json_group_array(json_array(name, type)) FROM pragma_table_info('${table}', 'raw');`));
}

// ------------------------------------------------------------ type round trip

// Expected SQLite text per column (bool as 0/1, decimals as exact text,
// timestamps fixed-width UTC); null = SQL NULL.
const expectSqlite = [
  ['1', '1', '2147483647', '9223372036854775807', '1.5', '12345678901234567890.123456789012345678', '12345678.90', 'tab\there', '2025-01-02', '2025-01-02 03:04:05.000000'],
  ['2', '0', '-2147483648', '-9223372036854775808', '-0.25', '-0.000000000000000001', '-0.01', 'line1\nline2\nline3', '1970-01-01', '1970-01-01 00:00:00.000000'],
  ['3', null, null, null, null, null, null, null, null, null],
  ['4', '0', '0', '0', '0.0', '0.000000000000000000', '0.00', '', '2000-02-29', '2024-02-29 23:59:59.999999'],
  ['5', '1', '7', '42', '3.14159', '-99999999999999999999.999999999999999999', '99999999.99', 'back\\slash "quoted" \'single\' ünïcødé 日本語 🎉', '9999-12-31', '1969-12-31 23:59:59.500000'],
  ['6', '0', '-1', '-1', '123456.789', '0.500000000000000000', '0.50', '\\N', '0001-01-01', '2025-06-30 10:00:00.000000'],
  ['7', '1', '1', '1', '0.3', '1.000000000000000000', '1.00', '  padded, with comma; semi | pipe  ', '2025-01-01', '2025-01-01 00:00:00.000000'],
  ['8', '1', '2', '2', '0.1', '2.000000000000000000', '2.00', 'NULL', '2025-01-01', '2025-01-01 00:00:00.000000'],
  ['9', '0', '3', '3', '1.0e+20', '3.000000000000000000', '3.00', '007', '2025-01-01', '2025-01-01 00:00:00.000001'],
];

test('every type round-trips CSV -> lake -> SQLite exactly, NULL apart from empty string', () => {
  const dir = project({ 'sources/shop.yml': typesYml, 'data/types_1.csv': typesCsv });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const s = summary(r.stdout, 'shop.types');
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded, s.status], ['9', '9', '0', '9', 'ok']);

  // Declared types of the warehouse table (warehouse.h's mapping).
  assert.deepEqual(sqliteColumns(dir, 'shop__types'), [
    ['id', 'INTEGER'], ['b', 'BOOLEAN'], ['i32', 'INTEGER'], ['i64', 'BIGINT'], ['f64', 'REAL'],
    ['d38', 'DECIMAL_TEXT(38,18)'], ['d10', 'DECIMAL_TEXT(10,2)'], ['s', 'TEXT'], ['dt', 'DATE'], ['ts', 'TIMESTAMP']]);

  const rows = sqliteRows(dir, cols.map(c => `CAST("${c}" AS TEXT)`), 'raw.shop__types ORDER BY id');
  assert.equal(rows.length, expectSqlite.length);
  for (let i = 0; i < rows.length; i++)
    for (let c = 0; c < cols.length; c++)
      assert.equal(rows[i][c], expectSqlite[i][c], `row id=${i + 1} column ${cols[c]}`);

  // Storage classes: integers and reals are numbers, the rest text; NULL
  // and '' differ; '007' stayed text; the double is bit-exact.
  const kinds = sqliteRows(dir, cols.map(c => `typeof("${c}")`), 'raw.shop__types ORDER BY id');
  assert.deepEqual(kinds[0], ['integer', 'integer', 'integer', 'integer', 'real', 'text', 'text', 'text', 'text', 'text']);
  assert.deepEqual(kinds[2], ['integer', 'null', 'null', 'null', 'null', 'null', 'null', 'null', 'null', 'null']);
  assert.equal(kinds[3][7], 'text');
  const exact = sqliteRows(dir, ['f64 = 0.30000000000000004', 'f64 = 0.3', 'i64 = 9223372036854775807'], 'raw.shop__types WHERE id IN (7, 1) ORDER BY id');
  assert.deepEqual(exact, [[0, 0, 1], [1, 0, 0]]);
  // Text order of the fixed-width timestamps is time order.
  const order = sqliteRows(dir, ['id'], 'raw.shop__types WHERE ts IS NOT NULL ORDER BY ts, id');
  assert.deepEqual(order.map(x => x[0]), [5, 2, 4, 7, 8, 9, 1, 6]);
});

// ------------------------------------------------------------------- merge

const mergeYml = `source: shop
kind: csv
tables:
  - name: customers
    path: data/customers_*.csv
    primary_key: [id]
    columns: {id: int64, name: string, tier: string, updated_at: timestamp}
    write: merge
    cursor: updated_at
`;

// Each run adds one file; the merge keeps one row per id.
const mergeRuns = [
  'id,name,tier,updated_at\n1,ann,bronze,2025-01-01T00:00:00Z\n2,bob,bronze,2025-01-01T00:00:00Z\n3,cy,bronze,2025-01-01T00:00:00Z\n4,dee,bronze,2025-01-01T00:00:00Z\n',
  // updates of 2 and 3 (3 twice in one file: the later record wins), a new 5
  'id,name,tier,updated_at\n2,bob,silver,2025-02-01T00:00:00Z\n3,cy,silver,2025-02-01T00:00:00Z\n5,eve,bronze,2025-02-01T00:00:00Z\n3,cy,gold,2025-02-02T00:00:00Z\n',
  // 4 updated; a late-arriving OLDER version of 2 (updated_at before run 2's);
  // 5 unchanged; 6 new
  'id,name,tier,updated_at\n4,dee,silver,2025-03-01T00:00:00Z\n2,bob,bronze-late,2025-01-15T00:00:00Z\n6,fay,bronze,2025-03-01T00:00:00Z\n',
];

// The greatest cursor wins: the late, older version of 2 does not replace
// run 2's newer row.
const mergeExpected = [
  [1, 'ann', 'bronze', '2025-01-01 00:00:00.000000'],
  [2, 'bob', 'silver', '2025-02-01 00:00:00.000000'],
  [3, 'cy', 'gold', '2025-02-02 00:00:00.000000'],
  [4, 'dee', 'silver', '2025-03-01 00:00:00.000000'],
  [5, 'eve', 'bronze', '2025-02-01 00:00:00.000000'],
  [6, 'fay', 'bronze', '2025-03-01 00:00:00.000000'],
];

test('merge over three runs keeps the latest row per key, row for row', () => {
  const dir = project({ 'sources/shop.yml': mergeYml });
  const after = [];
  for (let i = 0; i < mergeRuns.length; i++) {
    writeFiles(dir, { [`data/customers_${i + 1}.csv`]: mergeRuns[i] });
    const r = sluice(['run', '--project-dir', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const s = summary(r.stdout, 'shop.customers');
    assert.equal(s.loaded, String(mergeRuns[i].trim().split('\n').length - 1), `run ${i + 1}`);
    after.push(sqliteRows(dir, ['id', 'name', 'tier', 'updated_at'], 'raw.shop__customers ORDER BY id'));
  }
  assert.deepEqual(after[0].map(x => x[2]), ['bronze', 'bronze', 'bronze', 'bronze']);
  assert.deepEqual(after[1].map(x => [x[0], x[2]]), [[1, 'bronze'], [2, 'silver'], [3, 'gold'], [4, 'bronze'], [5, 'bronze']]);
  assert.deepEqual(after[2], mergeExpected);
  const n = sqliteRows(dir, ['count(*)', 'count(DISTINCT id)'], 'raw.shop__customers');
  assert.deepEqual(n, [[6, 6]]);
});

test('merge of three lake versions in one load gives the same table', () => {
  const dir = project({ 'sources/shop.yml': mergeYml });
  for (let i = 0; i < mergeRuns.length; i++) {
    writeFiles(dir, { [`data/customers_${i + 1}.csv`]: mergeRuns[i] });
    const r = sluice(['extract', '--project-dir', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  }
  const r = sluice(['load', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'shop.customers').loaded, '11');
  assert.deepEqual(sqliteRows(dir, ['id', 'name', 'tier', 'updated_at'], 'raw.shop__customers ORDER BY id'), mergeExpected);
});

test('merge without a cursor: the latest lake version wins', () => {
  const dir = project({ 'sources/shop.yml': mergeYml.replace('    cursor: updated_at\n', '') });
  for (let i = 0; i < mergeRuns.length; i++) {
    writeFiles(dir, { [`data/customers_${i + 1}.csv`]: mergeRuns[i] });
    const r = sluice(['run', '--project-dir', dir]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
  }
  const rows = sqliteRows(dir, ['id', 'name', 'tier', 'updated_at'], 'raw.shop__customers ORDER BY id');
  assert.deepEqual(rows[1], [2, 'bob', 'bronze-late', '2025-01-15 00:00:00.000000']);
  assert.deepEqual(rows.length, 6);
});

// --------------------------------------------------------- schema evolution

test('a column that appears in a later file is added to the warehouse table', () => {
  const yml = `source: shop
kind: csv
tables:
  - name: items
    path: data/items_*.csv
    columns: {a: int64, b: string}
`;
  const dir = project({ 'sources/shop.yml': yml, 'data/items_1.csv': 'a,b\n1,x\n2,y\n' });
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(sqliteColumns(dir, 'shop__items'), [['a', 'BIGINT'], ['b', 'TEXT']]);
  // Files of one table share a header within a run, so the wider file
  // comes in the next run; its new column is declared too.
  writeFiles(dir, {
    'sources/shop.yml': yml.replace('b: string}', 'b: string, c: "decimal(10,2)"}'),
    'data/items_2.csv': 'a,b,c\n3,z,1.25\n4,,\n',
  });
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'shop.items').loaded, '2');
  assert.deepEqual(sqliteColumns(dir, 'shop__items'), [['a', 'BIGINT'], ['b', 'TEXT'], ['c', 'DECIMAL_TEXT(10,2)']]);
  assert.deepEqual(sqliteRows(dir, ['a', 'b', 'c'], 'raw.shop__items ORDER BY a'),
    [[1, 'x', null], [2, 'y', null], [3, 'z', '1.25'], [4, null, null]]);
  // A full reload (replace) of an old file into the evolved table also works.
  r = sluice(['load', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'shop.items').loaded, '0');
});

test('a declared type change fails naming the table, the column and both types', (t) => {
  const yml = `source: shop
kind: csv
tables:
  - name: items
    path: data/items_*.csv
    columns: {a: int64, b: int64}
`;
  const dir = project({ 'sources/shop.yml': yml, 'data/items_1.csv': 'a,b\n1,10\n2,20\n' });
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  writeFiles(dir, {
    'sources/shop.yml': yml.replace('b: int64', 'b: string'),
    'data/items_2.csv': 'a,b\n3,thirty\n',
  });
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'shop.items').status, 'FAILED');
  const msg = r.stdout.split('\n').find(l => l.startsWith('error: shop.items'));
  assert.ok(msg, r.stdout);
  t.diagnostic(msg);
  assert.match(msg, /shop\/items|shop__items/);
  assert.match(msg, /["']b["']/);
  assert.match(msg, /int64/);
  assert.match(msg, /string/);
  // Nothing changed in the warehouse.
  assert.deepEqual(sqliteRows(dir, ['a', 'typeof(b)', 'b'], 'raw.shop__items ORDER BY a'), [[1, 'integer', 10], [2, 'integer', 20]]);
});

test('a warehouse column too narrow for the lake type fails naming table, column and both types', (t) => {
  const dir = project({
    'sources/shop.yml': `source: shop
kind: csv
tables:
  - name: items
    path: data/items_*.csv
    columns: {a: int64, b: "decimal(12,4)"}
`,
    'data/items_1.csv': 'a,b\n1,12345678.1234\n',
  });
  // The raw table exists already, with b narrower than the lake's decimal(12,4).
  sqlite(dir, 'CREATE TABLE raw.shop__items (a BIGINT, b DECIMAL_TEXT(10,2));');
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const msg = r.stdout.split('\n').find(l => l.startsWith('error: shop.items'));
  assert.ok(msg, r.stdout);
  t.diagnostic(msg);
  assert.match(msg, /shop__items/);
  assert.match(msg, /"b"/);
  assert.match(msg, /decimal\(10,2\)/);
  assert.match(msg, /decimal\(12,4\)/);
  assert.deepEqual(sqliteRows(dir, ['count(*)'], 'raw.shop__items'), [[0]]);
});

// ----------------------------------------------------------- hostile names

test('a hostile CSV header becomes a quoted column and drops nothing', () => {
  const evil = 'a"; DROP TABLE x; --';
  const dir = project({
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: evil\n    path: data/evil.csv\n',
    'data/evil.csv': `id,"a""; DROP TABLE x; --",'); DROP TABLE x; --\n1,boom,bang\n2,,\n`,
  });
  sqlite(dir, 'CREATE TABLE main.x (v INTEGER); INSERT INTO main.x VALUES (42); CREATE TABLE raw.x (v INTEGER); INSERT INTO raw.x VALUES (43);');
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'shop.evil').loaded, '2');
  assert.deepEqual(sqliteRows(dir, ['v'], 'main.x'), [[42]]);
  assert.deepEqual(sqliteRows(dir, ['v'], 'raw.x'), [[43]]);
  const names = sqliteColumns(dir, 'shop__evil').map(c => c[0]);
  assert.deepEqual(names, ['id', evil, "'); DROP TABLE x; --"]);
  assert.deepEqual(sqliteRows(dir, ['id', `"a""; DROP TABLE x; --"`, `"'); DROP TABLE x; --"`], 'raw.shop__evil ORDER BY id'),
    [[1, 'boom', 'bang'], [2, null, null]]);
});

// ------------------------------------------------------------- idempotence

test('loading twice loads nothing the second time and counts stay equal', () => {
  const dir = project({
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: t\n    path: data/t_*.csv\n    columns: {id: int64}\n',
    'data/t_1.csv': 'id,v\n1,a\n2,b\n3,c\n',
  });
  let r = sluice(['extract', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.ok(!fs.existsSync(path.join(dir, 'warehouse.raw.db')) ||
    sqlite(dir, "SELECT count(*) FROM raw.sqlite_master WHERE name = 'shop__t';").trim() === '0',
  'extract alone loads nothing');
  r = sluice(['load', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  let s = summary(r.stdout, 'shop.t');
  assert.deepEqual([s.files, s.read, s.loaded, s.status], ['-', '-', '3', 'ok']);
  r = sluice(['load', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  s = summary(r.stdout, 'shop.t');
  assert.equal(s.loaded, '0');
  assert.deepEqual(sqliteRows(dir, ['count(*)', 'sum(id)'], 'raw.shop__t'), [[3, 6]]);
  // A run that extracts nothing new loads nothing either.
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'shop.t').loaded, '0');
  // A new file loads only its rows.
  writeFiles(dir, { 'data/t_2.csv': 'id,v\n4,d\n' });
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(summary(r.stdout, 'shop.t').loaded, '1');
  r = sluice(['load', '--project-dir', dir]);
  assert.equal(summary(r.stdout, 'shop.t').loaded, '0');
  assert.deepEqual(sqliteRows(dir, ['count(*)', 'count(DISTINCT id)', 'sum(id)'], 'raw.shop__t'), [[4, 4, 10]]);
  // The bookkeeping: one row per loaded lake version, in the raw schema (a
  // run that extracts nothing still commits an empty lake version).
  const loads = sqliteRows(dir, ['lake_version', 'rows'], "raw._sluice_loads WHERE table_name = 'shop__t' ORDER BY lake_version");
  const versions = fs.readdirSync(path.join(dir, 'lake/raw/shop/t/_delta_log')).filter(f => f.endsWith('.json')).length;
  assert.deepEqual(loads.map(x => x[0]), Array.from({ length: versions }, (_, i) => i));
  assert.equal(loads.reduce((a, x) => a + x[1], 0), 4);
  assert.deepEqual(loads[0], [0, 3]);
  assert.deepEqual(loads[loads.length - 1], [versions - 1, 1]);
});

// ------------------------------------------------------------------ ledger

test('sluice runs shows read = landed + quarantined and loaded per table', () => {
  const dir = project({
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: t\n    path: data/t_*.csv\n    columns: {id: int64, amount: "decimal(10,2)"}\n    max_bad_rows: 10\n',
    'data/t_1.csv': 'id,amount\n1,1.00\n2,oops\n3,3.00\nfour,4.00\n5,5.00\n',
  });
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  let s = summary(r.stdout, 'shop.t');
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded], ['5', '3', '2', '3']);
  r = sluice(['load', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const runs = sluice(['runs', '--project-dir', dir]);
  assert.equal(runs.code, 0, runs.stderr);
  const ledgers = [...runs.stdout.matchAll(/raw\/shop\/t\s+read (\d+) = landed (\d+) \+ quarantined (\d+); loaded (-?\d+)/g)]
    .map(m => m.slice(1).map(Number));
  assert.equal(ledgers.length, 2, runs.stdout);
  for (const [read, landed, quarantined] of ledgers) assert.equal(read, landed + quarantined);
  // newest first: the load-only run loaded 0, the first run read 5 and loaded 3
  assert.deepEqual(ledgers.find(l => l[0] === 5), [5, 3, 2, 3]);
  assert.deepEqual(ledgers.find(l => l[0] === 0), [0, 0, 0, 0]);
  assert.deepEqual(sqliteRows(dir, ['count(*)'], 'raw.shop__t'), [[3]]);
});

// The warehouse records which lake table (its Delta metaData id) each
// load came from, so a recreated lake table (lake deleted, re-extracted,
// versions restarting at 0) is never skipped silently as "already loaded".
test('a recreated lake table fails the load loudly instead of being skipped; --full-refresh reloads it', () => {
  const dir = project({
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: t\n    path: data/t_*.csv\n    columns: {id: int64}\n',
    'data/t_1.csv': 'id\n1\n',
  });
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  writeFiles(dir, { 'data/t_2.csv': 'id\n2\n' });
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  // The lake and state.db both gone: the run extracts every file again into
  // a new lake table, which the warehouse must not append to its old rows.
  fs.rmSync(path.join(dir, 'lake'), { recursive: true });
  fs.rmSync(path.join(dir, '.sluice'), { recursive: true });
  writeFiles(dir, { 'data/t_3.csv': 'id\n3\n' });
  let r = sluice(['run', '--project-dir', dir]);
  const s = summary(r.stdout, 'shop.t');
  assert.equal(s.landed, '3');
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /lake table raw\/shop\/t was recreated/);
  assert.match(r.stdout, /run with --full-refresh to replace them/);
  assert.deepEqual(sqliteRows(dir, ['count(*)'], 'raw.shop__t'), [[2]]);
  // --full-refresh replaces the warehouse rows with the new lake table's.
  r = sluice(['run', '--project-dir', dir, '--full-refresh']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(sqliteRows(dir, ['count(*)', 'sum(id)'], 'raw.shop__t'), [[3, 6]]);
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(sqliteRows(dir, ['count(*)', 'sum(id)'], 'raw.shop__t'), [[3, 6]]);
});

test('--full-refresh rebuilds append and merge tables instead of duplicating rows', () => {
  const yml = `source: shop
kind: csv
tables:
  - name: events
    path: data/events_*.csv
    columns: {id: int64, v: string}
  - name: people
    path: data/people_*.csv
    columns: {id: int64, name: string, updated_at: timestamp}
    primary_key: [id]
    cursor: updated_at
    write: merge
`;
  const dir = project({
    'sources/shop.yml': yml,
    'data/events_1.csv': 'id,v\n1,a\n2,b\n',
    'data/people_1.csv': 'id,name,updated_at\n1,ann,2025-01-01\n2,bob,2025-01-01\n',
  });
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  writeFiles(dir, {
    'data/events_2.csv': 'id,v\n3,c\n',
    'data/people_2.csv': 'id,name,updated_at\n2,bobby,2025-02-01\n3,cy,2025-02-01\n',
  });
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  // Rows that vanished from the source files disappear on a full refresh.
  writeFiles(dir, { 'data/people_1.csv': 'id,name,updated_at\n1,ann,2025-01-01\n' });
  const r = sluice(['run', '--project-dir', dir, '--full-refresh']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(summary(r.stdout, 'shop.events').loaded, '3');
  assert.deepEqual(sqliteRows(dir, ['id', 'v'], 'raw.shop__events ORDER BY id'), [[1, 'a'], [2, 'b'], [3, 'c']]);
  assert.deepEqual(sqliteRows(dir, ['id', 'name'], 'raw.shop__people ORDER BY id'), [[1, 'ann'], [2, 'bobby'], [3, 'cy']]);
  // An ordinary run afterwards adds nothing twice.
  writeFiles(dir, { 'data/events_3.csv': 'id,v\n4,d\n' });
  const r2 = sluice(['run', '--project-dir', dir]);
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  assert.equal(summary(r2.stdout, 'shop.events').loaded, '1');
  assert.deepEqual(sqliteRows(dir, ['count(*)', 'count(DISTINCT id)'], 'raw.shop__events'), [[4, 4]]);
});

test('after a declared type change, --full-refresh rebuilds the lake and warehouse tables with the new type', () => {
  const yml = `source: shop
kind: csv
tables:
  - name: items
    path: data/items_*.csv
    columns: {a: int64, b: int64}
`;
  const dir = project({ 'sources/shop.yml': yml, 'data/items_1.csv': 'a,b\n1,10\n2,20\n' });
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  writeFiles(dir, {
    'sources/shop.yml': yml.replace('b: int64', 'b: string'),
    'data/items_2.csv': 'a,b\n3,thirty\n',
  });
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  r = sluice(['run', '--project-dir', dir, '--full-refresh']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'shop.items').loaded, '3');
  assert.deepEqual(sqliteColumns(dir, 'shop__items'), [['a', 'BIGINT'], ['b', 'TEXT']]);
  assert.deepEqual(sqliteRows(dir, ['a', 'typeof(b)', 'b'], 'raw.shop__items ORDER BY a'),
    [[1, 'text', '10'], [2, 'text', '20'], [3, 'text', 'thirty']]);
  const show = sluice(['lake', 'show', 'raw/shop/items', '--project-dir', dir]);
  assert.match(show.stdout, /b\s+string/);
});
