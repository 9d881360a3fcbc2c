// Reloading a seed on PostgreSQL: a table already there with the same
// columns is emptied and refilled in place (dbt's truncate-and-insert), so
// views over it — one reading it through source(), one made by hand in
// another schema — survive a second build and a `sluice seed`, and show
// exactly the new rows. Changed columns without --full-refresh fail naming
// the views a drop would take; --full-refresh drops and recreates the
// table, and the views over it go with it, as in dbt.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sluice, tmpdir, writeFiles, startPostgres } from '../lib/harness.mjs';

let pg;
before(() => { pg = startPostgres(); });
after(() => pg.stop());

const rows = sql => pg.psql(sql).trim();
const viewCount = () => rows("select count(*) from pg_views where viewname in ('items_v', 'hand_v')");

function project(schema) {
  const dir = tmpdir('sluice-seedpg-');
  writeFiles(dir, {
    'dbt_project.yml': 'name: seedpg\nprofile: seedpg\n',
    'profiles.yml': `seedpg:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: ${pg.host}\n      port: ${pg.port}\n      user: postgres\n      password: ''\n      dbname: postgres\n      schema: ${schema}\n      threads: 1\n`,
    'seeds/items.csv': 'id,name\n1,a\n2,b\n',
    // through source(), not ref(): nothing orders the view after the seed
    'models/sources.yml': `version: 2\nsources:\n  - name: seeded\n    schema: ${schema}\n    tables:\n      - name: items\n`,
    'models/items_v.sql': "{{ config(materialized='view') }}\nselect id, name from {{ source('seeded', 'items') }}\n",
  });
  return dir;
}

test('a view over a seed survives a second build and a sluice seed, with exactly the new rows', () => {
  const dir = project('reload');
  // the seed first: nothing orders the view after it
  let r = sluice(['seed', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  pg.psql('create schema other; create view other.hand_v as select count(*) as n from reload.items');
  assert.equal(rows('select count(*) from reload.items_v'), '2');

  writeFiles(dir, { 'seeds/items.csv': 'id,name\n1,a\n3,c\n4,d\n' });
  r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /OK loaded seed file reload\.items \.+ \[INSERT 3 in /);
  assert.equal(viewCount(), '2');
  assert.equal(rows('select id, name from reload.items_v order by id'), '1|a\n3|c\n4|d');
  assert.equal(rows('select n from other.hand_v'), '3');

  writeFiles(dir, { 'seeds/items.csv': 'id,name\n5,e\n6,f\n' });
  r = sluice(['seed', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(viewCount(), '2');
  assert.equal(rows('select id, name from reload.items_v order by id'), '5|e\n6|f');
  assert.equal(rows('select n from other.hand_v'), '2');
  r = sluice(['seed', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(rows('select n from other.hand_v'), '2');
  assert.equal(rows("select count(*) from pg_tables where tablename like 'items%'"), '1');
  pg.psql('set client_min_messages = warning; drop schema other cascade; drop schema reload cascade');
});

test('changed seed columns: without --full-refresh the views are named and kept; --full-refresh drops them with the table', () => {
  const dir = project('changed');
  // the seed first: nothing orders the view after it
  let r = sluice(['seed', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  pg.psql('create schema other; create view other.hand_v as select count(*) as n from changed.items');

  // a new column: the table must be replaced, and that would drop both views
  writeFiles(dir, { 'seeds/items.csv': 'id,name,qty\n7,g,1\n' });
  r = sluice(['seed', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /the seed's columns or their types changed, and replacing its table would drop the views built on it: "changed"\."items_v", "other"\."hand_v"; run with --full-refresh to drop them with it \(then rebuild them\), or drop them first/);
  assert.equal(viewCount(), '2');
  assert.equal(rows('select id, name from changed.items_v order by id'), '1|a\n2|b');

  // a type change (text to integer) is a changed column too
  writeFiles(dir, { 'seeds/items.csv': 'id,name\n1,10\n' });
  r = sluice(['seed', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /would drop the views built on it: "changed"\."items_v", "other"\."hand_v"/);

  // --full-refresh: dropped and recreated, as dbt does (DROP ... CASCADE)
  writeFiles(dir, { 'seeds/items.csv': 'id,name,qty\n7,g,1\n8,h,2\n' });
  r = sluice(['seed', '--project-dir', dir, '--full-refresh']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /OK loaded seed file changed\.items \.+ \[INSERT 2 in /);
  assert.equal(viewCount(), '0');
  assert.equal(rows('select id, name, qty from changed.items order by id'), '7|g|1\n8|h|2');

  // with no view over it, changed columns simply replace the table
  writeFiles(dir, { 'seeds/items.csv': 'id,label\n9,i\n' });
  r = sluice(['seed', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(rows('select id, label from changed.items'), '9|i');
  pg.psql('set client_min_messages = warning; drop schema other cascade; drop schema changed cascade');
});
