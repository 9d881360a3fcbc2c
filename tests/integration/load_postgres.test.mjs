// Loading the lake into PostgreSQL (`--target pg`), against a real server:
// every type round-trips exactly with NULLs apart from empty strings; merges
// keep the latest row per key; a server stopped in the middle of a COPY fails
// the task with a clear error and leaves no partial rows, and the rerun loads
// every row once; hostile column names stay quoted; the schema evolves; a
// second load loads nothing. Values are read back with psql.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, sluiceSpawn, tmpdir, writeFiles, startPostgres } from '../lib/harness.mjs';
import { typesYml, typesCsv, cols } from '../lib/types_fixture.mjs';
import { runSummary as summary } from '../lib/harness.mjs';

let pg;
let dbs = 0;
before(() => { pg = startPostgres(); });
after(() => { pg?.stop('immediate'); });

// A project whose `pg` target is a fresh database of the test server.
function project(files) {
  const dir = tmpdir();
  const db = `load_${++dbs}`;
  pg.psql(`CREATE DATABASE ${db}`);
  writeFiles(dir, {
    'sluice.yml': `name: t
lake: ./lake
target: local
targets:
  local: {type: sqlite, path: ./warehouse.db}
  pg:
    type: postgres
    host: ${pg.host}
    port: ${pg.port}
    dbname: ${db}
    user: postgres
`, ...files,
  });
  return { dir, db };
}

// Rows of `SELECT exprs FROM from ORDER BY order` as arrays, through
// json_agg so that text with newlines and NULLs come back exactly.
function pgRows(db, exprs, from, order = null) {
  const sql = `SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1;
    SELECT coalesce(json_agg(q.r), '[]') FROM (SELECT json_build_array(${exprs.join(', ')}) AS r FROM ${from}${order ? ` ORDER BY ${order}` : ''}) q`;
  return JSON.parse(pg.psql(sql, db));
}

function pgColumns(db, schema, table) {
  return JSON.parse(pg.psql(`SELECT coalesce(json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum), '[]')
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = '${schema}' AND c.relname = '${table}' AND a.attnum > 0 AND NOT a.attisdropped`, db));
}

function errorLine(stdout, table) {
  return stdout.split('\n').find(l => l.startsWith(`error: ${table}:`));
}

// ------------------------------------------------------------ type round trip

// PostgreSQL's text of each value (session in UTC, ISO dates).
const expectPg = [
  ['1', 'true', '2147483647', '9223372036854775807', '1.5', '12345678901234567890.123456789012345678', '12345678.90', 'tab\there', '2025-01-02', '2025-01-02 03:04:05+00'],
  ['2', 'false', '-2147483648', '-9223372036854775808', '-0.25', '-0.000000000000000001', '-0.01', 'line1\nline2\nline3', '1970-01-01', '1970-01-01 00:00:00+00'],
  ['3', null, null, null, null, null, null, null, null, null],
  ['4', 'false', '0', '0', '0', '0.000000000000000000', '0.00', '', '2000-02-29', '2024-02-29 23:59:59.999999+00'],
  ['5', 'true', '7', '42', '3.14159', '-99999999999999999999.999999999999999999', '99999999.99', 'back\\slash "quoted" \'single\' ünïcødé 日本語 🎉', '9999-12-31', '1969-12-31 23:59:59.5+00'],
  ['6', 'false', '-1', '-1', '123456.789', '0.500000000000000000', '0.50', '\\N', '0001-01-01', '2025-06-30 10:00:00+00'],
  ['7', 'true', '1', '1', '0.30000000000000004', '1.000000000000000000', '1.00', '  padded, with comma; semi | pipe  ', '2025-01-01', '2025-01-01 00:00:00+00'],
  ['8', 'true', '2', '2', '0.1', '2.000000000000000000', '2.00', 'NULL', '2025-01-01', '2025-01-01 00:00:00+00'],
  ['9', 'false', '3', '3', '1e+20', '3.000000000000000000', '3.00', '007', '2025-01-01', '2025-01-01 00:00:00.000001+00'],
];

test('every type round-trips CSV -> lake -> PostgreSQL exactly, NULL apart from empty string', () => {
  const { dir, db } = project({ 'sources/shop.yml': typesYml, 'data/types_1.csv': typesCsv });
  const r = sluice(['run', '--project-dir', dir, '--target', 'pg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const s = summary(r.stdout, 'shop.types');
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded, s.status], ['9', '9', '0', '9', 'ok']);
  assert.ok(!fs.existsSync(path.join(dir, 'warehouse.db')), 'the sqlite target was not touched');

  assert.deepEqual(pgColumns(db, 'raw', 'shop__types'), [
    ['id', 'integer'], ['b', 'boolean'], ['i32', 'integer'], ['i64', 'bigint'], ['f64', 'double precision'],
    ['d38', 'numeric(38,18)'], ['d10', 'numeric(10,2)'], ['s', 'text'], ['dt', 'date'], ['ts', 'timestamp with time zone']]);
  const rows = pgRows(db, cols.map(c => `"${c}"::text`), 'raw.shop__types', 'id');
  assert.equal(rows.length, expectPg.length);
  for (let i = 0; i < rows.length; i++)
    for (let c = 0; c < cols.length; c++)
      assert.equal(rows[i][c], expectPg[i][c], `row id=${i + 1} column ${cols[c]}`);
  // NULL and '' differ; the double is bit-exact.
  assert.deepEqual(pgRows(db, ['s IS NULL', "s = ''"], 'raw.shop__types', 'id').slice(2, 4), [[true, null], [false, true]]);
  assert.deepEqual(pgRows(db, ['f64 = 0.30000000000000004::float8'], 'raw.shop__types WHERE id = 7'), [[true]]);

  // The same lake loads into SQLite with `sluice load` (default target).
  const l = sluice(['load', '--project-dir', dir]);
  assert.equal(l.code, 0, l.stderr + l.stdout);
  assert.equal(summary(l.stdout, 'shop.types').loaded, '9');
  // And a second load into PostgreSQL loads nothing.
  const again = sluice(['load', '--project-dir', dir, '--target', 'pg']);
  assert.equal(again.code, 0, again.stderr + again.stdout);
  assert.equal(summary(again.stdout, 'shop.types').loaded, '0');
  assert.equal(pg.psql('SELECT count(*) FROM raw.shop__types', db).trim(), '9');
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

const mergeRuns = [
  'id,name,tier,updated_at\n1,ann,bronze,2025-01-01T00:00:00Z\n2,bob,bronze,2025-01-01T00:00:00Z\n3,cy,bronze,2025-01-01T00:00:00Z\n4,dee,bronze,2025-01-01T00:00:00Z\n',
  'id,name,tier,updated_at\n2,bob,silver,2025-02-01T00:00:00Z\n3,cy,silver,2025-02-01T00:00:00Z\n5,eve,bronze,2025-02-01T00:00:00Z\n3,cy,gold,2025-02-02T00:00:00Z\n',
  // 4 updated, a late-arriving older version of 2, a new 6
  'id,name,tier,updated_at\n4,dee,silver,2025-03-01T00:00:00Z\n2,bob,bronze-late,2025-01-15T00:00:00Z\n6,fay,bronze,2025-03-01T00:00:00Z\n',
];

// The greatest cursor wins: the late, older version of 2 is stale.
const mergeExpected = [
  ['1', 'ann', 'bronze', '2025-01-01 00:00:00+00'],
  ['2', 'bob', 'silver', '2025-02-01 00:00:00+00'],
  ['3', 'cy', 'gold', '2025-02-02 00:00:00+00'],
  ['4', 'dee', 'silver', '2025-03-01 00:00:00+00'],
  ['5', 'eve', 'bronze', '2025-02-01 00:00:00+00'],
  ['6', 'fay', 'bronze', '2025-03-01 00:00:00+00'],
];

test('merge into PostgreSQL over three runs keeps the latest row per key', () => {
  const { dir, db } = project({ 'sources/shop.yml': mergeYml });
  const states = [];
  for (let i = 0; i < mergeRuns.length; i++) {
    writeFiles(dir, { [`data/customers_${i + 1}.csv`]: mergeRuns[i] });
    const r = sluice(['run', '--project-dir', dir, '--target', 'pg']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(summary(r.stdout, 'shop.customers').loaded, String(mergeRuns[i].trim().split('\n').length - 1));
    states.push(pgRows(db, ['id::text', 'name', 'tier', 'updated_at::text'], 'raw.shop__customers', 'id'));
  }
  assert.deepEqual(states[1].map(x => [x[0], x[2]]), [['1', 'bronze'], ['2', 'silver'], ['3', 'gold'], ['4', 'bronze'], ['5', 'bronze']]);
  assert.deepEqual(states[2], mergeExpected);
  assert.deepEqual(pgRows(db, ['count(*)', 'count(DISTINCT id)'], 'raw.shop__customers'), [[6, 6]]);
  // The same three lake versions in one load, into another database, agree.
  const other = `${db}_b`;
  pg.psql(`CREATE DATABASE ${other}`);
  fs.writeFileSync(path.join(dir, 'sluice.yml'), fs.readFileSync(path.join(dir, 'sluice.yml'), 'utf8').replace(`dbname: ${db}`, `dbname: ${other}`));
  const r = sluice(['load', '--project-dir', dir, '--target', 'pg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'shop.customers').loaded, '11');
  assert.deepEqual(pgRows(other, ['id::text', 'name', 'tier', 'updated_at::text'], 'raw.shop__customers', 'id'), mergeExpected);
  assert.deepEqual(pgRows(other, ['table_name', 'lake_version::text', '"rows"::text'], 'raw._sluice_loads', 'lake_version'),
    [['shop__customers', '0', '4'], ['shop__customers', '1', '4'], ['shop__customers', '2', '3']]);
});

// ------------------------------------------------- server stopped mid-load

function bigCsv(file, from, n) {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, 'id,v,at\n');
  const chunk = 100000;
  for (let i = from; i < from + n; i += chunk) {
    const parts = [];
    for (let k = i; k < Math.min(i + chunk, from + n); k++)
      parts.push(`${k},value number ${k} with some padding text,2025-01-01T00:00:${String(k % 60).padStart(2, '0')}Z`);
    fs.writeSync(fd, parts.join('\n') + '\n');
  }
  fs.closeSync(fd);
}

test('PostgreSQL stopped during a load: clear error, no partial rows, the rerun loads every row once', async (t) => {
  const bigRows = Number(process.env.SLUICE_TEST_BIG_ROWS || 2000000);
  const { dir, db } = project({
    'sources/big.yml': 'source: big\nkind: csv\ntables:\n  - name: t\n    path: data/t_*.csv\n    columns: {id: int64, v: string, at: timestamp}\n',
    'data/t_0.csv': 'id,v,at\n' + Array.from({ length: 10 }, (_, i) => `${i + 1},small ${i + 1},2025-01-01`).join('\n') + '\n',
  });
  let r = sluice(['run', '--project-dir', dir, '--target', 'pg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(pg.psql('SELECT count(*) FROM raw.big__t', db).trim(), '10');

  bigCsv(path.join(dir, 'data/t_1.csv'), 11, bigRows);
  r = sluice(['extract', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'big.t').landed, String(bigRows));

  const child = sluiceSpawn(['load', '--project-dir', dir, '--target', 'pg']);
  let out = '';
  child.stdout.on('data', d => { out += d; });
  child.stderr.on('data', d => { out += d; });
  const done = new Promise(res => child.on('close', code => res(code)));
  // Wait for the COPY to be streaming, then stop the server hard.
  let sawCopy = false;
  const t0 = Date.now();
  while (child.exitCode === null && Date.now() - t0 < 120000) {
    let n = '0';
    try {
      n = pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'COPY%' AND state = 'active'").trim();
    } catch { /* server busy starting a backend: try again */ }
    if (n !== '0') { sawCopy = true; break; }
    await new Promise(res => setTimeout(res, 10));
  }
  assert.ok(sawCopy, `the load was seen streaming a COPY before it ended:\n${out}`);
  await new Promise(res => setTimeout(res, 200));
  pg.stop('immediate');
  const code = await done;
  assert.equal(code, 1, out);
  assert.equal(summary(out, 'big.t').status, 'FAILED');
  const msg = errorLine(out, 'big.t');
  assert.ok(msg, out);
  assert.match(msg, /connection|server closed|terminat/i);
  t.diagnostic(msg);
  assert.match(msg, /connection/i, 'the message mentions the connection');
  assert.doesNotMatch(out, /AddressSanitizer|LeakSanitizer|runtime error/);

  pg.start();
  assert.equal(pg.psql('SELECT count(*) FROM raw.big__t', db).trim(), '10', 'no partial rows after the crash');
  assert.deepEqual(pgRows(db, ['lake_version::text'], 'raw._sluice_loads', 'lake_version'), [['0']]);

  r = sluice(['load', '--project-dir', dir, '--target', 'pg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'big.t').loaded, String(bigRows));
  const [[n, d, s]] = pgRows(db, ['count(*)::text', 'count(DISTINCT id)::text', 'sum(id)::text'], 'raw.big__t');
  const total = bigRows + 10;
  assert.equal(n, String(total));
  assert.equal(d, String(total));
  assert.equal(s, String(BigInt(total) * BigInt(total + 1) / 2n));
  r = sluice(['load', '--project-dir', dir, '--target', 'pg']);
  assert.equal(summary(r.stdout, 'big.t').loaded, '0');
  assert.equal(pg.psql('SELECT count(*) FROM raw.big__t', db).trim(), String(total));
});

test('a load into a stopped server fails with the connection error, then succeeds once it is back', (t) => {
  const { dir, db } = project({
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: t\n    path: data/t.csv\n    columns: {id: int64}\n',
    'data/t.csv': 'id\n1\n2\n',
  });
  let r = sluice(['extract', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  pg.stop('fast');
  try {
    r = sluice(['load', '--project-dir', dir, '--target', 'pg']);
  } finally {
    pg.start();
  }
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const msg = errorLine(r.stdout, 'shop.t');
  assert.ok(msg, r.stdout);
  t.diagnostic(msg);
  assert.match(msg, /connect/i);
  assert.match(msg, new RegExp(`${pg.port}`), 'names where it connected');
  r = sluice(['load', '--project-dir', dir, '--target', 'pg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(summary(r.stdout, 'shop.t').loaded, '2');
  assert.equal(pg.psql('SELECT sum(id) FROM raw.shop__t', db).trim(), '3');
});

// ------------------------------------------------------- schema evolution

test('PostgreSQL: a new column is added; a too-narrow column fails by name', () => {
  const yml = 'source: shop\nkind: csv\ntables:\n  - name: items\n    path: data/items_*.csv\n    columns: {a: int64, b: string}\n';
  const { dir, db } = project({ 'sources/shop.yml': yml, 'data/items_1.csv': 'a,b\n1,x\n2,y\n' });
  let r = sluice(['run', '--project-dir', dir, '--target', 'pg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  writeFiles(dir, {
    'sources/shop.yml': yml.replace('b: string}', 'b: string, c: "decimal(10,2)"}'),
    'data/items_2.csv': 'a,b,c\n3,z,1.25\n4,,\n',
  });
  r = sluice(['run', '--project-dir', dir, '--target', 'pg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(pgColumns(db, 'raw', 'shop__items'), [['a', 'bigint'], ['b', 'text'], ['c', 'numeric(10,2)']]);
  assert.deepEqual(pgRows(db, ['a::text', 'b', 'c::text'], 'raw.shop__items', 'a'),
    [['1', 'x', null], ['2', 'y', null], ['3', 'z', '1.25'], ['4', null, null]]);

  // Both lake versions, the older without c, in one load into a fresh table.
  const { dir: dir2, db: db2 } = project({ 'sources/shop.yml': yml, 'data/items_1.csv': 'a,b\n1,x\n2,y\n' });
  assert.equal(sluice(['extract', '--project-dir', dir2]).code, 0);
  writeFiles(dir2, {
    'sources/shop.yml': yml.replace('b: string}', 'b: string, c: "decimal(10,2)"}'),
    'data/items_2.csv': 'a,b,c\n3,z,1.25\n4,,\n',
  });
  assert.equal(sluice(['extract', '--project-dir', dir2]).code, 0);
  r = sluice(['load', '--project-dir', dir2, '--target', 'pg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(pgRows(db2, ['a::text', 'b', 'c::text'], 'raw.shop__items', 'a'),
    [['1', 'x', null], ['2', 'y', null], ['3', 'z', '1.25'], ['4', null, null]]);

  // A pre-existing column narrower than the lake type is an error naming both.
  const { dir: dir3, db: db3 } = project({
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: items\n    path: data/items_*.csv\n    columns: {a: int64, b: int64}\n',
    'data/items_1.csv': 'a,b\n1,10000000000\n',
  });
  pg.psql('CREATE SCHEMA raw; CREATE TABLE raw.shop__items (a bigint, b integer)', db3);
  r = sluice(['run', '--project-dir', dir3, '--target', 'pg']);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  const msg = errorLine(r.stdout, 'shop.items');
  assert.ok(msg, r.stdout);
  assert.match(msg, /shop__items/);
  assert.match(msg, /"b"/);
  assert.match(msg, /int32/);
  assert.match(msg, /int64/);
  assert.equal(pg.psql('SELECT count(*) FROM raw.shop__items', db3).trim(), '0');
});

// ----------------------------------------------------------- hostile names

test('PostgreSQL: a hostile CSV header becomes a quoted column and drops nothing', () => {
  const evil = 'a"; DROP TABLE x; --';
  const { dir, db } = project({
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: evil\n    path: data/evil.csv\n',
    'data/evil.csv': `id,"a""; DROP TABLE x; --",'); DROP TABLE x; --\n1,boom,bang\n2,,""\n`,
  });
  pg.psql('CREATE TABLE public.x (v int); INSERT INTO public.x VALUES (42); CREATE SCHEMA raw; CREATE TABLE raw.x (v int); INSERT INTO raw.x VALUES (43)', db);
  const r = sluice(['run', '--project-dir', dir, '--target', 'pg']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(pg.psql('SELECT v FROM public.x', db).trim(), '42');
  assert.equal(pg.psql('SELECT v FROM raw.x', db).trim(), '43');
  assert.deepEqual(pgColumns(db, 'raw', 'shop__evil').map(c => c[0]), ['id', evil, "'); DROP TABLE x; --"]);
  assert.deepEqual(pgRows(db, ['id::text', `"a""; DROP TABLE x; --"`, `"'); DROP TABLE x; --"`], 'raw.shop__evil', 'id'),
    [['1', 'boom', 'bang'], ['2', null, '']]);
});

test('loads of many tables at once into a new PostgreSQL database all land (schema and _sluice_loads made once, not raced)', () => {
  // Each round is a new database: the raw schema and raw._sluice_loads do
  // not exist yet, and eight loads start together to create them.
  for (let round = 0; round < 3; round++) {
    const names = [1, 2, 3, 4, 5, 6, 7, 8].map(i => `t${i}`);
    const files = {
      'sources/s.yml': 'source: s\nkind: csv\ntables:\n' + names.map(n => `  - name: ${n}\n    path: data/${n}.csv\n`).join(''),
    };
    names.forEach((n, i) => { files[`data/${n}.csv`] = 'id\n' + Array.from({ length: i + 1 }, (_, k) => k).join('\n') + '\n'; });
    const { dir, db } = project(files);
    const r = sluice(['run', '--project-dir', dir, '--target', 'pg', '--threads', '8']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const counts = names.map(n => pgRows(db, ['count(*)'], `raw.s__${n}`)[0][0]);
    assert.deepEqual(counts, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(pgRows(db, ['count(DISTINCT table_name)'], 'raw._sluice_loads'), [[8]]);
  }
});
