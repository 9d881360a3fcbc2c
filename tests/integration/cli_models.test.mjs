// dbt's commands through the real binary, on small projects written here:
// a dbt project on SQLite (build, run, seed, snapshot, compile, show, ls),
// a sluice project whose model reads a CSV source through source() (build
// brings the extract and load tasks upstream of what it selects), dbt's
// selection methods, exit statuses 0/1/2 with their messages, a failing
// model that skips what is downstream and leaves the previous table,
// --full-refresh of an incremental model, --vars and --threads 4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sluice, tmpdir, writeFiles } from '../lib/harness.mjs';

// Rows of a query on a SQLite file, as objects.
function rows(db, sql) {
  const out = execFileSync('sqlite3', ['-json', db, sql], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

// A dbt project on SQLite: two seeds, two staging views, a mart table, an
// incremental model, a snapshot; profiles.yml in the project folder.
function dbtProject(extra = {}) {
  const dir = tmpdir('sluice-dbt-');
  writeFiles(dir, {
    'dbt_project.yml': 'name: jaffle\nprofile: jaffle\nmodels:\n  jaffle:\n    marts:\n      +materialized: table\n      +tags: [mart]\n',
    'profiles.yml': 'jaffle:\n  target: dev\n  outputs:\n    dev:\n      type: sqlite\n      threads: 2\n      path: ./wh.db\n      schema: main\n',
    'seeds/raw_customers.csv': 'id,name\n1,Ann\n2,Bob\n3,Cy\n',
    'seeds/raw_orders.csv': 'id,customer_id,amount\n1,1,10\n2,1,5\n3,2,7\n',
    'models/staging/stg_customers.sql': "select id as customer_id, name from {{ ref('raw_customers') }}\n",
    'models/staging/stg_orders.sql': "select id as order_id, customer_id, amount from {{ ref('raw_orders') }}\n",
    'models/marts/customers.sql':
      "select c.customer_id, c.name, count(o.order_id) as n_orders\n" +
      "from {{ ref('stg_customers') }} c left join {{ ref('stg_orders') }} o using (customer_id)\n" +
      "group by 1, 2\n",
    'models/marts/orders_inc.sql':
      "{{ config(materialized='incremental', unique_key='order_id') }}\n" +
      "select * from {{ ref('stg_orders') }}\n" +
      "{% if is_incremental() %} where order_id > (select max(order_id) from {{ this }}) {% endif %}\n",
    'snapshots/customers_snap.sql':
      "{% snapshot customers_snap %}\n" +
      "{{ config(target_schema='main', unique_key='customer_id', strategy='check', check_cols='all') }}\n" +
      "select * from {{ ref('stg_customers') }}\n{% endsnapshot %}\n",
    ...extra,
  });
  return dir;
}

const lines = out => out.split('\n');
const nodeLines = out => lines(out).filter(l => /^\d+ of \d+ /.test(l));
const relations = out => nodeLines(out).map(l => l.match(/ (\S+) \.+ \[/)[1]).sort();

test('build on a dbt project: seeds, models and a snapshot in DAG order, dbt\'s lines and summary', () => {
  const dir = dbtProject();
  const r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const nl = nodeLines(r.stdout);
  assert.equal(nl.length, 7, r.stdout);
  assert.ok(nl.some(l => /^\d of 7 OK loaded seed file main\.raw_customers \.+ \[INSERT 3 in \d+\.\d\ds\]$/.test(l)), r.stdout);
  assert.ok(nl.some(l => /^\d of 7 OK created sql view model main\.stg_orders \.+ \[CREATE VIEW in \d+\.\d\ds\]$/.test(l)), r.stdout);
  assert.ok(nl.some(l => /^\d of 7 OK created sql table model main\.customers \.+ \[SELECT 3 in /.test(l)), r.stdout);
  assert.ok(nl.some(l => /OK created sql incremental model main\.orders_inc /.test(l)), r.stdout);
  assert.ok(nl.some(l => /OK snapshotted snapshot main\.customers_snap /.test(l)), r.stdout);
  // the order of a DAG: a node's line comes after its upstream nodes' lines
  const at = name => nl.findIndex(l => l.includes(` main.${name} `));
  assert.ok(at('raw_orders') < at('stg_orders') && at('stg_orders') < at('orders_inc'));
  assert.ok(at('stg_customers') < at('customers') && at('stg_customers') < at('customers_snap'));
  assert.match(r.stdout, /^Finished running 2 view models, 1 table model, 1 incremental model, 2 seeds, 1 snapshot in \d+\.\d\ds\.$/m);
  assert.match(r.stdout, /^Completed successfully$/m);
  assert.match(r.stdout, /^Done\. PASS=7 WARN=0 ERROR=0 SKIP=0 TOTAL=7$/m);
  const db = path.join(dir, 'wh.db');
  assert.deepEqual(rows(db, 'select customer_id, name, n_orders from customers order by 1'),
    [{ customer_id: 1, name: 'Ann', n_orders: 2 }, { customer_id: 2, name: 'Bob', n_orders: 1 },
      { customer_id: 3, name: 'Cy', n_orders: 0 }]);
  assert.equal(rows(db, 'select count(*) as n from customers_snap')[0].n, 3);
  // no lake in a dbt project; the run is recorded in .sluice/state.db
  assert.ok(!fs.existsSync(path.join(dir, 'lake')));
  assert.ok(fs.existsSync(path.join(dir, '.sluice', 'state.db')));
  const runs = sluice(['runs', '--project-dir', dir, '--format', 'json']);
  assert.equal(runs.code, 0, runs.stderr);
  assert.equal(JSON.parse(runs.stdout)[0].command, 'build');
  // sluice sql reads a dbt project's warehouse too
  const q = sluice(['sql', '--project-dir', dir, '--format', 'csv', 'select name from customers order by 1']);
  assert.equal(q.code, 0, q.stderr);
  assert.equal(q.stdout, 'name\nAnn\nBob\nCy\n');
});

test('run builds the models only, seed the seeds, snapshot the snapshots', () => {
  const dir = dbtProject();
  let r = sluice(['seed', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 2);
  assert.match(r.stdout, /Finished running 2 seeds in /);
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 4);
  assert.doesNotMatch(r.stdout, /seed file|snapshot/);
  assert.doesNotMatch(r.stdout, /^table /m); // no table summary in a dbt project
  r = sluice(['snapshot', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(nodeLines(r.stdout).map(l => l.replace(/ \.+ .*/, '')), ['1 of 1 OK snapshotted snapshot main.customers_snap']);
  // nothing of the command's kind: nothing to do, exit 0
  fs.rmSync(path.join(dir, 'snapshots'), { recursive: true });
  r = sluice(['snapshot', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout, 'Nothing to do: the project has no snapshots.\n');
  // the selection is matched against the whole graph: a seed's downstream
  r = sluice(['run', '--project-dir', dir, '-s', 'raw_orders+']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(relations(r.stdout), ['main.customers', 'main.orders_inc', 'main.stg_orders']);
});

test('a failing model fails its node, skips what is downstream, keeps the rest and the previous table: exit 1', () => {
  const dir = dbtProject();
  assert.equal(sluice(['build', '--project-dir', dir]).code, 0);
  const db = path.join(dir, 'wh.db');
  writeFiles(dir, { 'models/staging/stg_orders.sql': "select nope from {{ ref('raw_orders') }}\n" });
  const r = sluice(['build', '--project-dir', dir, '--exclude', 'resource_type:snapshot']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^\d of 6 ERROR creating sql view model main\.stg_orders \.+ \[ERROR in \d+\.\d\ds\]$/m);
  assert.match(r.stdout, /^\d of 6 SKIP sql table model main\.customers \.+ \[SKIP\]$/m);
  assert.match(r.stdout, /^\d of 6 SKIP sql incremental model main\.orders_inc \.+ \[SKIP\]$/m);
  assert.match(r.stdout, /^\d of 6 OK created sql view model main\.stg_customers /m);
  assert.match(r.stdout, /^Completed with 1 error and 0 warnings:$/m);
  assert.match(r.stdout, /^Failure in model stg_orders \(models\/staging\/stg_orders\.sql\)\n  .*no such column: nope/m);
  assert.match(r.stdout, /^Done\. PASS=3 WARN=0 ERROR=1 SKIP=2 TOTAL=6$/m);
  assert.match(r.stdout, /^to rerun what did not succeed: \S+ build --resume \S+$/m);
  // the previous relations are still there and readable
  assert.equal(rows(db, 'select count(*) as n from customers')[0].n, 3);
  assert.equal(rows(db, 'select count(*) as n from stg_orders')[0].n, 3);
  // the fix, then --resume reruns only what did not succeed
  writeFiles(dir, { 'models/staging/stg_orders.sql': "select id as order_id, customer_id, amount from {{ ref('raw_orders') }}\n" });
  const id = r.stdout.match(/--resume (\S+)/)[1];
  const again = sluice(['build', '--project-dir', dir, '--resume', id]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual(relations(again.stdout), ['main.customers', 'main.orders_inc', 'main.stg_orders']);
});

test('a skipped node names the upstream node that failed, not one that had not run yet', () => {
  const dir = dbtProject({
    'models/a_bad.sql': 'select nope\n',
    'models/b_ok.sql': "select * from {{ ref('stg_customers') }}\n",
    'models/c_both.sql': "select * from {{ ref('b_ok') }}, {{ ref('a_bad') }}\n",
  });
  const r = sluice(['build', '--project-dir', dir, '--threads', '1', '-s', '+c_both']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const runId = r.stdout.match(/--resume (\S+)/)[1];
  const shown = JSON.parse(sluice(['runs', 'show', runId, '--project-dir', dir, '--format', 'json']).stdout);
  const skipped = shown.attempts.find(a => a.task === 'model.jaffle.c_both');
  assert.equal(skipped.status, 'skipped');
  assert.equal(skipped.error, 'upstream model.jaffle.a_bad did not succeed');
});

test('configuration and template errors exit 2 with file:line:column, before anything runs', () => {
  const dir = dbtProject({ 'models/staging/bad.sql': "select {{ 1 | lowr }}\n" });
  let r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^sluice: models\/staging\/bad\.sql:1:\d+: unknown filter 'lowr'/m);
  assert.ok(!fs.existsSync(path.join(dir, 'wh.db')));
  writeFiles(dir, { 'models/staging/bad.sql': "select * from {{ ref('stg_order') }}\n" });
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bad\.sql:1:\d+: ref\('stg_order'\) not found; did you mean 'stg_orders'\?/);
  writeFiles(dir, { 'models/staging/bad.sql': 'select {{ no_such_macro() }}\n' });
  for (const cmd of ['build', 'compile', 'ls']) {
    r = sluice([cmd, '--project-dir', dir]);
    assert.equal(r.code, 2, cmd + ': ' + r.stderr);
    assert.match(r.stderr, /^sluice: models\/staging\/bad\.sql:1:\d+: 'no_such_macro' is undefined/);
  }
  fs.rmSync(path.join(dir, 'models/staging/bad.sql'));
  r = sluice(['build', '--project-dir', dir, '--target', 'prod']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /prod/);
  r = sluice(['build', '--project-dir', dir, '-s', 'nothing_like_it']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'sluice: --select: "nothing_like_it" matches no node\n');
  r = sluice(['build', '--project-dir', dir, '--threads', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--threads must be a number of tasks at once from 1 to 1024, not '0'/);
  r = sluice(['build', '--project-dir', dir, '--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /build: unknown or incomplete option '--bogus'/);
  r = sluice(['ls', '--project-dir', dir, '--output', 'xml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--output must be selector, name, path or json, not 'xml'/);
  r = sluice(['ls', '--project-dir', dir, '--resource-type', 'exposure']);
  assert.equal(r.code, 2);
  r = sluice(['build', '--project-dir', tmpdir('sluice-empty-')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sluice\.yml|dbt_project\.yml/);
});

test('ls lists with dbt\'s selection methods and outputs', () => {
  const dir = dbtProject();
  const ls = (...a) => {
    const r = sluice(['ls', '--project-dir', dir, ...a]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').filter(Boolean);
  };
  assert.deepEqual(ls(), ['jaffle.customers_snap', 'jaffle.marts.customers', 'jaffle.marts.orders_inc',
    'jaffle.raw_customers', 'jaffle.raw_orders', 'jaffle.staging.stg_customers', 'jaffle.staging.stg_orders']);
  assert.deepEqual(ls('--resource-type', 'model', '--output', 'name'),
    ['customers', 'orders_inc', 'stg_customers', 'stg_orders']);
  assert.deepEqual(ls('--resource-type', 'seed', '--resource-type', 'snapshot', '--output', 'name'),
    ['customers_snap', 'raw_customers', 'raw_orders']);
  assert.deepEqual(ls('-s', 'path:models/staging', '--output', 'path'),
    ['models/staging/stg_customers.sql', 'models/staging/stg_orders.sql']);
  assert.deepEqual(ls('-s', 'models/marts/customers.sql', '--output', 'name'), ['customers']);
  assert.deepEqual(ls('-s', 'resource_type:seed', '--output', 'name'), ['raw_customers', 'raw_orders']);
  assert.deepEqual(ls('-s', 'config.materialized:incremental', '--output', 'name'), ['orders_inc']);
  assert.deepEqual(ls('-s', 'config.materialized:table,tag:mart', '--output', 'name'), ['customers']);
  assert.deepEqual(ls('-s', 'tag:mart', '--exclude', 'orders_inc', '--output', 'name'), ['customers']);
  assert.deepEqual(ls('-s', 'staging', '--output', 'name'), ['stg_customers', 'stg_orders']);
  assert.deepEqual(ls('-s', 'fqn:jaffle.marts', '--output', 'name'), ['customers', 'orders_inc']);
  assert.deepEqual(ls('-s', '+customers', '--output', 'name'),
    ['customers', 'raw_customers', 'raw_orders', 'stg_customers', 'stg_orders']);
  assert.deepEqual(ls('-s', 'stg_orders+', '--output', 'name'), ['customers', 'orders_inc', 'stg_orders']);
  assert.deepEqual(ls('-s', '1+customers', '--output', 'name'), ['customers', 'stg_customers', 'stg_orders']);
  assert.deepEqual(ls('-s', 'raw_customers stg_orders', '--output', 'name'), ['raw_customers', 'stg_orders']);
  // dbt's --select a b: the words after --select (or --exclude) are items too
  assert.deepEqual(ls('--select', 'raw_customers', 'stg_orders', '--output', 'name'), ['raw_customers', 'stg_orders']);
  assert.deepEqual(ls('--resource-type', 'model', '--exclude', 'customers', 'orders_inc', '--output', 'name'),
    ['stg_customers', 'stg_orders']);
  const stray = sluice(['ls', '--project-dir', dir, '--output', 'name', 'stg_orders']);
  assert.equal(stray.code, 2);
  assert.equal(stray.stderr, "sluice: ls: unexpected argument 'stg_orders'\n");
  assert.deepEqual(ls('-s', '@stg_orders', '--output', 'name', '--resource-type', 'model'),
    ['customers', 'orders_inc', 'stg_customers', 'stg_orders']);
  const json = ls('-s', 'orders_inc', '--output', 'json').map(l => JSON.parse(l));
  assert.equal(json.length, 1);
  const j = json[0];
  assert.equal(j.unique_id, 'model.jaffle.orders_inc');
  assert.equal(j.name, 'orders_inc');
  assert.equal(j.resource_type, 'model');
  assert.equal(j.package_name, 'jaffle');
  assert.equal(j.original_file_path, 'models/marts/orders_inc.sql');
  assert.deepEqual(j.fqn, ['jaffle', 'marts', 'orders_inc']);
  assert.equal(j.config.materialized, 'incremental');
  assert.equal(j.config.unique_key, 'order_id');
  assert.deepEqual(j.depends_on.nodes, ['model.jaffle.stg_orders']);
  const r = sluice(['ls', '--project-dir', dir, '-s', 'colour:red']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--select: "colour:red": unknown method "colour"/);
  assert.deepEqual(sluice(['list', '--project-dir', dir, '--output', 'name']).stdout,
    sluice(['ls', '--project-dir', dir, '--output', 'name']).stdout);
});

test('compile writes target/compiled and prints one node\'s SQL; show previews rows', () => {
  const dir = dbtProject();
  let r = sluice(['compile', '--project-dir', dir, '-s', 'customers']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout,
    'select c.customer_id, c.name, count(o.order_id) as n_orders\n' +
    'from "main"."stg_customers" c left join "main"."stg_orders" o using (customer_id)\n' +
    'group by 1, 2\n');
  assert.ok(fs.existsSync(path.join(dir, 'target/compiled/jaffle/models/marts/customers.sql')));
  r = sluice(['compile', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^compiled 5 nodes into .*target\/compiled\/$/m);
  assert.ok(fs.existsSync(path.join(dir, 'target/compiled/jaffle/models/staging/stg_orders.sql')));
  // show runs the compiled SQL without building anything
  assert.equal(sluice(['seed', '--project-dir', dir]).code, 0);
  r = sluice(['show', '--project-dir', dir, '-s', 'stg_orders', '--limit', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout,
    "Previewing node 'stg_orders':\n" +
    '| order_id | customer_id | amount |\n' +
    '| -------- | ----------- | ------ |\n' +
    '|        1 |           1 |     10 |\n' +
    '|        2 |           1 |      5 |\n' +
    '(first 2 rows; --limit 2 cut the rest, --limit 0 shows all)\n');
  r = sluice(['show', '--project-dir', dir, '-s', 'raw_customers', '--output', 'json', '--limit', '0']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.node, 'raw_customers');
  assert.deepEqual(j.show.map(x => x.name), ['Ann', 'Bob', 'Cy']);
  r = sluice(['show', '--project-dir', dir, '--inline', "select 1 as a, null as b, 'x' as c"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Previewing inline node:\n| a   | b    | c   |\n| --- | ---- | --- |\n|   1 | NULL | x   |\n');
  // --inline renders Jinja as a model does: ref, var, and template errors
  // at --inline:line:column
  r = sluice(['show', '--project-dir', dir, '--vars', '{min_id: 1}', '--inline',
    "select count(*) as n from {{ ref('raw_customers') }} where id > {{ var('min_id', 0) }}"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Previewing inline node:\n| n   |\n| --- |\n|   2 |\n');
  r = sluice(['show', '--project-dir', dir, '--inline', "select * from {{ ref('no_such_model') }}"]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--inline:1:\d+: .*no_such_model/);
  r = sluice(['show', '--project-dir', dir, '-s', 'stg_*']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'sluice: show: the selection picks 2 models, seeds or snapshots; select exactly one\n');
  r = sluice(['show', '--project-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /say what to preview: --select NODE or --inline/);
  r = sluice(['show', '--project-dir', dir, '--inline', 'select * from no_such_table']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no such table: no_such_table/);
  assert.ok(!rows(path.join(dir, 'wh.db'), "select name from sqlite_master where name = 'customers'").length);
});

test('--full-refresh rebuilds an incremental model; --vars reaches var()', () => {
  const dir = dbtProject({
    'models/marts/with_var.sql': "select {{ var('factor', 1) }} * 10 as v\n",
  });
  const db = path.join(dir, 'wh.db');
  assert.equal(sluice(['build', '--project-dir', dir]).code, 0);
  assert.equal(rows(db, 'select v from with_var')[0].v, 10);
  // a row changed upstream of the incremental model: an incremental run only
  // appends what is newer, a full refresh rebuilds it
  writeFiles(dir, { 'seeds/raw_orders.csv': 'id,customer_id,amount\n1,1,99\n2,1,5\n3,2,7\n4,3,1\n' });
  let r = sluice(['build', '--project-dir', dir, '--vars', '{factor: 3}']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /OK created sql incremental model main\.orders_inc \.+ \[INSERT 0 1 in /);
  assert.equal(rows(db, 'select amount from orders_inc where order_id = 1')[0].amount, 10);
  assert.equal(rows(db, 'select count(*) as n from orders_inc')[0].n, 4);
  assert.equal(rows(db, 'select v from with_var')[0].v, 30);
  r = sluice(['run', '--project-dir', dir, '--full-refresh', '-s', 'orders_inc']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /OK created sql incremental model main\.orders_inc \.+ \[SELECT 4 in /);
  assert.equal(rows(db, 'select amount from orders_inc where order_id = 1')[0].amount, 99);
});

test('--threads 4 builds a wide graph once each, in dependency order', () => {
  const files = {};
  for (let i = 0; i < 24; i++)
    files[`models/fan/m${i}.sql`] = `select customer_id, ${i} as k from {{ ref('stg_customers') }}\n`;
  files['models/fan/all_fan.sql'] = Array.from({ length: 24 }, (_, i) => `select * from {{ ref('m${i}') }}`).join('\nunion all\n') + '\n';
  const dir = dbtProject(files);
  const r = sluice(['build', '--project-dir', dir, '--threads', '4', '-s', '+all_fan']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const nl = nodeLines(r.stdout);
  assert.equal(nl.length, 27);
  assert.ok(nl[26].includes('main.all_fan'), nl[26]);
  assert.match(r.stdout, /^Done\. PASS=27 WARN=0 ERROR=0 SKIP=0 TOTAL=27$/m);
  assert.equal(rows(path.join(dir, 'wh.db'), 'select count(*) as n from all_fan')[0].n, 72);
});

// A sluice project: a CSV source, a model reading it through source(), a
// model on that one.
function sluiceProject() {
  const dir = tmpdir('sluice-proj-');
  writeFiles(dir, {
    'sluice.yml': 'name: shop\ntargets:\n  local: {type: sqlite, path: ./warehouse.db}\n',
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: orders\n    path: data/orders.csv\n    write: replace\n  - name: customers\n    path: data/customers.csv\n',
    'data/orders.csv': 'id,customer_id,amount\n1,1,10.50\n2,2,3.00\n3,1,1.25\n',
    'data/customers.csv': 'id,name\n1,Ann\n2,Bob\n',
    'models/stg_orders.sql': "{{ config(materialized='table') }}\nselect id as order_id, customer_id, amount from {{ source('shop', 'orders') }}\n",
    'models/order_totals.sql': "select customer_id, count(*) as n from {{ ref('stg_orders') }} group by 1\n",
  });
  return dir;
}

test('ls lists every declared source, read by a model or not, as dbt lists sources', () => {
  const dir = dbtProject({
    'models/staging/_sources.yml':
      'version: 2\nsources:\n  - name: shop\n    schema: main\n    tables:\n' +
      '      - name: orders\n      - name: refunds\n  - name: crm\n    tables:\n      - name: leads\n',
    'models/staging/shop_orders.sql': "select * from {{ source('shop', 'orders') }}\n",
  });
  const ls = (...a) => {
    const r = sluice(['ls', '--project-dir', dir, ...a]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim().split('\n').filter(Boolean);
  };
  assert.deepEqual(ls().filter(l => l.startsWith('source:')),
    ['source:jaffle.crm.leads', 'source:jaffle.shop.orders', 'source:jaffle.shop.refunds']);
  assert.deepEqual(ls('--resource-type', 'source', '--output', 'name'),
    ['crm.leads', 'shop.orders', 'shop.refunds']);
  assert.deepEqual(ls('--resource-type', 'source', '--output', 'path'), ['models/staging/_sources.yml']);
  assert.deepEqual(ls('-s', 'source:shop.refunds', '--output', 'name'), ['shop.refunds']);
  assert.deepEqual(ls('-s', 'source:crm', '--output', 'selector'), ['source:jaffle.crm.leads']);
  assert.deepEqual(ls('--resource-type', 'source', '--exclude', 'source:shop'), ['source:jaffle.crm.leads']);
  const json = ls('--resource-type', 'source', '--output', 'json').map(l => JSON.parse(l));
  assert.deepEqual(json.map(j => [j.unique_id, j.name, j.source_name, j.resource_type, j.package_name,
    j.original_file_path]), [
    ['source.jaffle.crm.leads', 'leads', 'crm', 'source', 'jaffle', 'models/staging/_sources.yml'],
    ['source.jaffle.shop.orders', 'orders', 'shop', 'source', 'jaffle', 'models/staging/_sources.yml'],
    ['source.jaffle.shop.refunds', 'refunds', 'shop', 'source', 'jaffle', 'models/staging/_sources.yml'],
  ]);
});

test('sluice project: run is extract, load, then the models reading the sources', () => {
  const dir = sluiceProject();
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^shop\.orders +1 +3 +3 +0 +3 /m);
  assert.match(r.stdout, /^2 tables, 0 failed, /m);
  assert.match(r.stdout, /OK created sql table model main\.stg_orders \.+ \[SELECT 3 in /);
  assert.match(r.stdout, /OK created sql view model main\.order_totals /);
  assert.match(r.stdout, /^Completed successfully$/m);
  const db = path.join(dir, 'warehouse.db');
  assert.deepEqual(rows(db, 'select customer_id, n from order_totals order by 1'),
    [{ customer_id: 1, n: 2 }, { customer_id: 2, n: 1 }]);
  const dag = sluice(['dag', '--project-dir', dir]);
  assert.equal(dag.code, 0, dag.stderr);
  assert.match(dag.stdout, /^model\.shop\.stg_orders <- load:shop\.orders$/m);
  assert.match(dag.stdout, /^model\.shop\.order_totals <- model\.shop\.stg_orders$/m);
  const ls = sluice(['ls', '--project-dir', dir]);
  assert.equal(ls.stdout, 'shop.order_totals\nshop.stg_orders\nsource:shop.shop.customers\nsource:shop.shop.orders\n');
});

test('sluice project: build --select brings the extract and load upstream; --exclude removes them', () => {
  const dir = sluiceProject();
  let r = sluice(['build', '--project-dir', dir, '-s', 'order_totals']);
  // order_totals reads stg_orders, which is not selected and not built yet
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^shop\.orders +1 +3 +3 +0 +3 /m);
  assert.doesNotMatch(r.stdout, /^shop\.customers/m);
  assert.match(r.stdout, /ERROR creating sql view model main\.order_totals/);
  r = sluice(['build', '--project-dir', dir, '-s', '+order_totals']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^1 table, 0 failed, /m);
  assert.equal(nodeLines(r.stdout).length, 2);
  // a selection of models without their loads: the models only
  writeFiles(dir, { 'data/orders.csv': 'id,customer_id,amount\n1,1,10.50\n2,2,3.00\n3,1,1.25\n4,2,2\n' });
  r = sluice(['build', '--project-dir', dir, '-s', 'stg_orders', '--exclude', 'kind:extract kind:load']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /^table /m);
  assert.match(r.stdout, /\[SELECT 3 in /);
  r = sluice(['build', '--project-dir', dir, '-s', 'source:shop.orders+']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[SELECT 4 in /);
  assert.equal(rows(path.join(dir, 'warehouse.db'), 'select count(*) as n from order_totals')[0].n, 2);
  // a failing load skips the models reading it
  writeFiles(dir, { 'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: orders\n    path: data/orders.csv\n    columns: {amount: int64}\n    max_bad_rows: 0\n  - name: customers\n    path: data/customers.csv\n' });
  r = sluice(['build', '--project-dir', dir, '--full-refresh']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /SKIP sql table model main\.stg_orders/);
  assert.match(r.stdout, /SKIP sql view model main\.order_totals/);
  assert.match(r.stdout, /^Completed with 2 nodes skipped$/m);
});

test('backfill runs the models too, once per logical date', () => {
  const dir = sluiceProject();
  const r = sluice(['backfill', '--project-dir', dir, '--start', '2024-01-01', '--end', '2024-01-02']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^2024-01-01T00:00:00Z  \S+  success   6\/6 tasks succeeded /m);
  assert.match(r.stdout, /^2024-01-02T00:00:00Z  \S+  success   6\/6 tasks succeeded /m);
  writeFiles(dir, { 'models/order_totals.sql': "select nope from {{ ref('stg_orders') }}\n" });
  const bad = sluice(['backfill', '--project-dir', dir, '--start', '2024-01-03', '--end', '2024-01-04']);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /^  error: model order_totals: .*no such column: nope/m);
  assert.match(bad.stdout, /^1 run, 1 failed; stopped at the first failed run/m);
});

test('sluice project without models: run as before, no models folder needed', () => {
  const dir = sluiceProject();
  fs.rmSync(path.join(dir, 'models'), { recursive: true });
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /Completed|Finished running/);
  r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^2 tables, 0 failed, /m);
  r = sluice(['seed', '--project-dir', dir]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'Nothing to do: the project has no seeds.\n');
});
