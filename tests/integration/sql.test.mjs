// `sluice sql "select ..."` on the selected target, with its schemas as
// loads see them: SQLite with the raw database attached as "raw", a real
// PostgreSQL with the search path set to the target's schema, then raw.
// Rows print as an aligned table (NULL distinct from '', accents aligned),
// CSV or JSON; --limit cuts and says so; bad SQL exits 1 with the
// database's message; usage errors exit 2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { SLUICE, sluice, tmpdir, writeFiles, startPostgres } from '../lib/harness.mjs';

const source = `source: shop
kind: csv
tables:
  - name: customers
    path: data/customers.csv
    columns: {id: int64}
`;
const csv = 'id,name,city\n1,Ada,Zürich\n2,Grace,\n3,Linus,"São Paulo"\n';

function project(extraTargets = '', target = 'local') {
  const dir = tmpdir();
  writeFiles(dir, {
    'sluice.yml': `name: t\nlake: ./lake\ntarget: ${target}\ntargets:\n  local: {type: sqlite, path: ./warehouse.db}\n${extraTargets}`,
    'sources/shop.yml': source,
    'data/customers.csv': csv,
  });
  return dir;
}

function sql(dir, args, opts) {
  return sluice(['sql', '--project-dir', dir, ...args], opts);
}

test('sqlite: raw tables are reachable as raw.<source>__<table>, printed as an aligned table', () => {
  const dir = project();
  const run = sluice(['run', '--project-dir', dir]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const r = sql(dir, ["select id, name, city, nullif(city, '') is null as no_city, " +
    "case when id = 2 then null else '' end as note from raw.shop__customers order by id"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout,
    ' id | name  | city      | no_city | note\n' +
    '----+-------+-----------+---------+------\n' +
    '  1 | Ada   | Zürich    |       0 |     \n' +
    '  2 | Grace | NULL      |       1 | NULL\n' +
    '  3 | Linus | São Paulo |       0 |     \n' +
    '(3 rows)\n');
  // the warehouse's main database and the raw file are both there, and named
  assert.ok(fs.existsSync(path.join(dir, 'warehouse.raw.db')));
  // unqualified names find raw tables too (SQLite searches attached databases)
  const u = sql(dir, ['select count(*) as n from shop__customers']);
  assert.equal(u.code, 0, u.stderr);
  assert.equal(u.stdout, ' n\n---\n 3\n(1 row)\n');
});

test('sqlite: csv and json formats, --limit, a query from stdin', () => {
  const dir = project();
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  let r = sql(dir, ['--format', 'csv', "select id, name, city, 'a,\"b\"' as q from raw.shop__customers order by id"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'id,name,city,q\n1,Ada,Zürich,"a,""b"""\n2,Grace,,"a,""b"""\n3,Linus,São Paulo,"a,""b"""\n');
  r = sql(dir, ['--format', 'csv', "select '' as empty, null as absent"]);
  assert.equal(r.stdout, 'empty,absent\n"",\n');
  r = sql(dir, ['--format', 'json', 'select id, city from raw.shop__customers order by id']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [
    { id: '1', city: 'Zürich' }, { id: '2', city: null }, { id: '3', city: 'São Paulo' }]);
  r = sql(dir, ['--format', 'json', 'select id from raw.shop__customers where id > 9']);
  assert.deepEqual(JSON.parse(r.stdout), []);

  r = sql(dir, ['--limit', '2', 'select id from raw.shop__customers order by id']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, ' id\n----\n  1\n  2\n(first 2 rows; more were cut off by --limit 2, --limit 0 prints all)\n');
  r = sql(dir, ['--limit', '3', 'select id from raw.shop__customers order by id']);
  assert.match(r.stdout, /\(3 rows\)\n$/);
  r = sql(dir, ['--format', 'csv', '--limit', '1', 'select id from raw.shop__customers order by id']);
  assert.equal(r.stdout, 'id\n1\n');
  assert.match(r.stderr, /printed the first 1 row; more were cut off by --limit 1/);

  r = sql(dir, ['-'], { input: 'select count(*) as n\n  from raw.shop__customers;\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, ' n\n---\n 3\n(1 row)\n');

  // the default table limit is 100
  r = sql(dir, ['with recursive n(i) as (select 1 union all select i + 1 from n where i < 150) select i from n']);
  assert.match(r.stdout, /\n 100\n\(first 100 rows; more were cut off by --limit 100/);
});

test('sql: bad SQL exits 1 with the database message; usage errors exit 2', () => {
  const dir = project();
  let r = sql(dir, ['select 1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no warehouse at .*warehouse\.db yet; load it first with `.*sluice run`/);
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  r = sql(dir, ['selec 1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /near "selec": syntax error/);
  r = sql(dir, ['select * from raw.nope']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no such table: raw\.nope/);
  r = sql(dir, []);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sql: give one query/);
  r = sql(dir, ['--format', 'xml', 'select 1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown format 'xml'; use table, csv or json/);
  r = sql(dir, ['--limit', '-1', 'select 1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--limit must be a number of rows >= 0, not '-1'/);
  r = sql(dir, ['--target', 'nope', 'select 1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /target "nope" \(from --target\) is not defined in targets/);
  r = sluice(['sql', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /usage: sluice sql/);
  assert.match(r.stdout, /warehouse\.raw\.db/);
  assert.match(r.stdout, /--limit N/);
});

let pg;
let dbs = 0;
before(() => { pg = startPostgres(); });
after(() => { pg?.stop('immediate'); });

test('postgres: the target schema, then raw, are on the search path', () => {
  const db = `sql_${++dbs}`;
  pg.psql(`CREATE DATABASE ${db}`);
  const dir = project(`  pg:\n    type: postgres\n    host: ${pg.host}\n    port: ${pg.port}\n    dbname: ${db}\n    user: postgres\n    schema: analytics\n`, 'pg');
  const run = sluice(['run', '--project-dir', dir]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  pg.psql('CREATE TABLE analytics.cities AS SELECT DISTINCT city FROM raw.shop__customers WHERE city IS NOT NULL', db);
  let r = sql(dir, ['select c.id, c.name, c.city from shop__customers c order by c.id']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout,
    ' id | name  | city     \n' +
    '----+-------+-----------\n' +
    '  1 | Ada   | Zürich   \n' +
    '  2 | Grace | NULL     \n' +
    '  3 | Linus | São Paulo\n' +
    '(3 rows)\n');
  r = sql(dir, ['--format', 'json', 'select city from cities order by city']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [{ city: 'São Paulo' }, { city: 'Zürich' }]);
  r = sql(dir, ['--format', 'csv', 'select count(*) as n from raw.shop__customers']);
  assert.equal(r.stdout, 'n\n3\n');
  r = sql(dir, ['select nope from raw.shop__customers']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /column "nope" does not exist/);
  // one statement only: a second one is refused before anything runs
  r = sql(dir, ['select 1 as a; delete from raw.shop__customers']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /multiple commands|more than one statement/);
  assert.equal(sql(dir, ['--format', 'csv', 'select count(*) as n from raw.shop__customers']).stdout, 'n\n3\n');
  // bytea prints as PostgreSQL's hex text
  r = sql(dir, ['--format', 'csv', "select '\\x00ff41'::bytea as b"]);
  assert.equal(r.stdout, 'b\n\\x00ff41\n');
  // --target picks the other warehouse
  r = sql(dir, ['--target', 'local', 'select 1 as one']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no warehouse at/);
});

test('sqlite: one statement at a time; blobs and text holding NUL bytes print as hex, never cut', () => {
  const dir = project();
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  for (const q of ['select 1 as a; select 2 as b', 'select 1 as a; delete from raw.shop__customers',
    'create table t(a); select * from t']) {
    const r = sql(dir, [q]);
    assert.equal(r.code, 2, q);
    assert.match(r.stderr, /the query holds more than one statement; give one at a time/);
  }
  assert.equal(sql(dir, ['--format', 'csv', 'select count(*) as n from raw.shop__customers']).stdout, 'n\n3\n');
  assert.equal(sql(dir, ['--format', 'csv', 'select 1 as a; -- a comment\n']).stdout, 'a\n1\n');
  const r = sql(dir, ['--format', 'csv', "select x'00ff41' as b, 'a' || char(0) || 'b' as t, '' as e, null as n"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'b,t,e,n\n\\x00ff41,\\x610062,"",\n');
  // rows that cannot be written (a full disk) fail the command
  for (const format of ['table', 'csv']) {
    const full = fs.openSync('/dev/full', 'w');
    const w = spawnSync(SLUICE, ['sql', '--project-dir', dir, '--format', format, 'select 1 as a'],
      { stdio: ['ignore', full, 'pipe'], encoding: 'utf8' });
    fs.closeSync(full);
    assert.equal(w.status, 1, w.stderr);
    assert.match(w.stderr, /cannot write the rows: No space left on device/);
  }
  // JSON keys stay unique when result columns share a name (a join's ids)
  const j = sql(dir, ['--format', 'json', 'select 1 as id, 2 as id, 3 as id_1, 4 as id']);
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout), [{ id: '1', id_2: '2', id_1: '3', id_3: '4' }]);
});
