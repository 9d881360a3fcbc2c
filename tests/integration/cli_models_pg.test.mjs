// dbt's commands on a throwaway PostgreSQL: a dbt project whose profile is
// a postgres output builds with --threads 4 (each model task on a pooled
// connection of its own), show and compile read the server, a failing
// model exits 1 and leaves the previous table; a sluice project's model
// reads a CSV source loaded into the same database.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sluice, tmpdir, writeFiles, startPostgres } from '../lib/harness.mjs';

let pg;
before(() => { pg = startPostgres(); });
after(() => pg.stop());

const nodeLines = out => out.split('\n').filter(l => /^\d+ of \d+ /.test(l));

function dbtProject(schema) {
  const dir = tmpdir('sluice-dbtpg-');
  const files = {
    'dbt_project.yml': 'name: pgshop\nprofile: pgshop\n',
    'profiles.yml': `pgshop:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: ${pg.host}\n      port: ${pg.port}\n      user: postgres\n      password: ''\n      dbname: postgres\n      schema: ${schema}\n      threads: 4\n`,
    'seeds/raw_items.csv': 'id,price\n1,2.50\n2,4.00\n3,1.25\n',
    'models/stg_items.sql': "select id, price from {{ ref('raw_items') }}\n",
    'models/totals.sql': "{{ config(materialized='table') }}\nselect count(*) as n, sum(price) as total from {{ ref('stg_items') }}\n",
  };
  for (let i = 0; i < 12; i++)
    files[`models/fan/f${i}.sql`] = `{{ config(materialized='table') }}\nselect id, id * ${i} as k from {{ ref('stg_items') }}\n`;
  writeFiles(dir, files);
  return dir;
}

test('a dbt project on PostgreSQL: build with --threads 4, show, compile, a failure keeps the previous table', () => {
  const dir = dbtProject('analytics');
  let r = sluice(['build', '--project-dir', dir, '--threads', '4']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 15);
  assert.match(r.stdout, /OK created sql table model analytics\.totals \.+ \[SELECT 1 in /);
  assert.match(r.stdout, /^Done\. PASS=15 WARN=0 ERROR=0 SKIP=0 TOTAL=15$/m);
  assert.equal(pg.psql('select n, total from analytics.totals').trim(), '3|7.75');
  assert.equal(pg.psql('select sum(k) from analytics.f11').trim(), '66');
  r = sluice(['show', '--project-dir', dir, '-s', 'totals']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^\|\s+3 \|\s+7\.75 \|$/m);
  r = sluice(['compile', '--project-dir', dir, '-s', 'stg_items']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'select id, price from "analytics"."raw_items"\n');
  writeFiles(dir, { 'models/totals.sql': "{{ config(materialized='table') }}\nselect count(*) as n, sum(nope) as total from {{ ref('stg_items') }}\n" });
  r = sluice(['run', '--project-dir', dir, '-s', 'totals']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /ERROR creating sql table model analytics\.totals/);
  assert.match(r.stdout, /^Failure in model totals \(models\/totals\.sql\)\n  .*nope/m);
  assert.equal(pg.psql('select n, total from analytics.totals').trim(), '3|7.75');
});

test('a sluice project on PostgreSQL: the model reads the loaded CSV source', () => {
  const dir = tmpdir('sluice-pgproj-');
  writeFiles(dir, {
    'sluice.yml': `name: shop\ntarget: pg\ntargets:\n  pg:\n    type: postgres\n    host: ${pg.host}\n    port: ${pg.port}\n    user: postgres\n    dbname: postgres\n    schema: marts\n`,
    'sources/files.yml': 'source: files\nkind: csv\ntables:\n  - name: sales\n    path: data/sales.csv\n',
    'data/sales.csv': 'id,amount\n1,10.00\n2,5.50\n',
    'models/sales_total.sql': "{{ config(materialized='table') }}\nselect sum(amount) as total from {{ source('files', 'sales') }}\n",
  });
  const r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^files\.sales +1 +2 +2 +0 +2 /m);
  assert.match(r.stdout, /OK created sql table model marts\.sales_total /);
  assert.equal(pg.psql('select total from marts.sales_total').trim(), '15.50');
});
