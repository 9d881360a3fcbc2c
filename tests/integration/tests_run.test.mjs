// Data tests and source freshness through the real binary, on the small
// dbt project in fixtures/tests_small (SQLite): in `sluice build` a test
// failing at severity error skips what is built from what it tests and
// exits 1, a warning exits 0; `sluice test` runs tests alone with dbt's
// selection (indirect selection, test_type:, test_name:); the summary's
// lines and Failures section; state.db's rows with samples; `sluice ls`
// lists tests; `sluice source freshness` by loaded_at_field (dbt sources)
// and by load time (a sluice project's tables), with its exit statuses;
// and a failing test on PostgreSQL.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT, sluice, sluiceSpawn, tmpdir, writeFiles, startPostgres } from '../lib/harness.mjs';

const FIXTURE = path.join(ROOT, 'tests/integration/fixtures/tests_small');

function rows(db, sql) {
  const out = execFileSync('sqlite3', ['-json', db, sql], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

// A fresh copy of the fixture, with files replaced or added.
function project(extra = {}) {
  const dir = tmpdir('sluice-tests-');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  writeFiles(dir, extra);
  return dir;
}

const nodeLines = out => out.split('\n').filter(l => /^\d+ of \d+ /.test(l));
const lineOf = (out, name) => nodeLines(out).find(l => l.includes(` ${name} `));
const REL = 'relationships_stg_orders_customer_id__customer_id__ref_stg_customers_';
const ACC = 'accepted_values_stg_orders_status__placed__shipped';

test('build: a failing error test skips what is built from what it tests, exits 1, and the summary names it', () => {
  const dir = project();
  const r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 13, r.stdout);
  assert.match(lineOf(r.stdout, 'not_null_stg_orders_order_id'), /^\d+ of 13 PASS not_null_stg_orders_order_id \.+ \[PASS in \d+\.\d\ds\]$/);
  assert.match(lineOf(r.stdout, ACC), /^\d+ of 13 WARN 2 accepted_values_\S+ \.+ \[WARN 2 in \d+\.\d\ds\]$/);
  assert.match(lineOf(r.stdout, REL), /^\d+ of 13 FAIL 1 relationships_\S+ \.+ \[FAIL 1 in \d+\.\d\ds\]$/);
  // customer_report reads stg_orders and stg_customers: skipped; order_totals
  // reads only stg_orders, whose failing test also reads stg_customers: built
  assert.match(lineOf(r.stdout, 'main.customer_report'), /SKIP sql view model main\.customer_report \.+ \[SKIP\]$/);
  assert.match(lineOf(r.stdout, 'main.order_totals'), /OK created sql view model main\.order_totals/);
  assert.match(r.stdout, /^Finished running 4 view models, 2 seeds, 7 data tests in /m);
  assert.match(r.stdout, /^Completed with 1 error and 1 warning:$/m);
  assert.match(r.stdout, new RegExp(`^Failure in test ${REL} \\(models/schema\\.yml\\)\\n  Got 1 result, configured to fail if != 0\\n  1 failing row\\n  first failing rows:\\n    from_field=9\\n  failing rows stored in "main_dbt_test__audit"\\."relationships_stg_orders_[0-9a-f]{32}"\\n  compiled code at target/compiled/shop/models/schema\\.yml/relationships_stg_orders_[0-9a-f]{32}\\.sql$`, 'm'));
  assert.match(r.stdout, new RegExp(`^Warning in test ${ACC} \\(models/schema\\.yml\\)\\n  Got 2 results, configured to warn if != 0\\n  2 failing rows\\n  first failing rows:\\n    value_field=lost, n_records=1\\n    value_field=teleported, n_records=1\\n`, 'm'));
  assert.match(r.stdout, /^Done\. PASS=10 WARN=1 ERROR=1 SKIP=1 TOTAL=13$/m);
  const compiled = r.stdout.match(/compiled code at (\S+)/)[1];
  assert.ok(fs.existsSync(path.join(dir, compiled)), compiled);
  // the audit table holds the failing row; the skipped view was not made
  const wh = path.join(dir, 'wh.db');
  assert.deepEqual(rows(path.join(dir, 'wh.main_dbt_test__audit.db'), 'select * from "' +
    r.stdout.match(/"main_dbt_test__audit"\."(\w+)"/)[1] + '"').map(x => String(x.from_field)), ['9']);
  assert.deepEqual(rows(wh, "select name from sqlite_master where name = 'customer_report'"), []);
  // state.db: every test that ran, with its attached node, sample and SQL
  const st = rows(path.join(dir, '.sluice/state.db'),
    'select table_name, test_name, status, failures, sample_json, compiled_sql, seconds from test_results order by id');
  assert.equal(st.length, 7);
  const rel = st.find(x => x.test_name.startsWith(`test.shop.${REL}.`));
  assert.equal(rel.table_name, 'model.shop.stg_orders');
  assert.equal(rel.status, 'fail');
  assert.equal(rel.failures, 1);
  assert.deepEqual(JSON.parse(rel.sample_json), [{ from_field: '9' }]);
  assert.match(rel.compiled_sql, /stg_customers/);
  assert.ok(rel.seconds > 0);
  const acc = st.find(x => x.test_name.startsWith(`test.shop.${ACC}.`));
  assert.equal(acc.status, 'warn');
  assert.equal(JSON.parse(acc.sample_json).length, 2);
  const sing = st.find(x => x.test_name === 'test.shop.assert_totals_positive');
  assert.deepEqual([sing.table_name, sing.status, sing.failures, sing.sample_json], ['', 'pass', 0, '[]']);
  // run_results.json has the tests
  const rr = JSON.parse(fs.readFileSync(path.join(dir, 'target/run_results.json'), 'utf8'));
  assert.equal(rr.results.length, 13);
  assert.equal(rr.results.find(x => x.unique_id.startsWith(`test.shop.${REL}.`)).status, 'fail');
});

test('build: a test at severity warn only warns, exits 0, and nothing is skipped', () => {
  const schema = fs.readFileSync(path.join(FIXTURE, 'models/schema.yml'), 'utf8')
    .replace('severity: error', 'severity: warn');
  const dir = project({ 'models/schema.yml': schema });
  const r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(lineOf(r.stdout, REL), /WARN 1 relationships_/);
  assert.match(lineOf(r.stdout, 'main.customer_report'), /OK created sql view model main\.customer_report/);
  assert.match(r.stdout, /^Completed with 2 warnings:$/m);
  assert.match(r.stdout, new RegExp(`^Warning in test ${REL} `, 'm'));
  assert.match(r.stdout, /^Done\. PASS=11 WARN=2 ERROR=0 SKIP=0 TOTAL=13$/m);
  // sluice run builds models only
  const run = sluice(['run', '--project-dir', dir]);
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.equal(nodeLines(run.stdout).length, 4);
  assert.ok(nodeLines(run.stdout).every(l => / OK created /.test(l)), run.stdout);
});

test('sluice test: runs only tests, with indirect selection, test_type: and test_name:', () => {
  const dir = project();
  assert.equal(sluice(['seed', '--project-dir', dir]).code, 0);
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  const names = out => nodeLines(out).map(l => l.match(/ (\w+) \.+ \[/)[1]).sort();
  // eager: a test of any selected node
  let r = sluice(['test', '--project-dir', dir, '-s', 'stg_customers']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.deepEqual(names(r.stdout), ['not_null_stg_customers_customer_id', REL, 'unique_stg_customers_customer_id'].sort());
  assert.match(r.stdout, /^Finished running 3 data tests in /m);
  assert.match(r.stdout, /^Done\. PASS=2 WARN=0 ERROR=1 SKIP=0 TOTAL=3$/m);
  // cautious: only tests whose every node is selected
  r = sluice(['test', '--project-dir', dir, '-s', 'stg_customers', '--indirect-selection', 'cautious']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(names(r.stdout), ['not_null_stg_customers_customer_id', 'unique_stg_customers_customer_id']);
  r = sluice(['test', '--project-dir', dir, '-s', 'stg_customers', '--indirect-selection', 'empty']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /the selection matched no task/);
  r = sluice(['test', '--project-dir', dir, '-s', 'test_type:singular']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(names(r.stdout), ['assert_totals_positive']);
  r = sluice(['test', '--project-dir', dir, '-s', 'test_name:not_null']);
  assert.deepEqual(names(r.stdout), ['not_null_stg_customers_customer_id', 'not_null_stg_orders_order_id']);
  // a warning alone exits 0
  r = sluice(['test', '--project-dir', dir, '-s', 'test_name:accepted_values']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^Done\. PASS=0 WARN=1 ERROR=0 SKIP=0 TOTAL=1$/m);
  // excluding a model leaves its tests out
  r = sluice(['test', '--project-dir', dir, '--exclude', 'stg_orders']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.deepEqual(names(r.stdout), ['assert_totals_positive', 'not_null_stg_customers_customer_id', 'unique_stg_customers_customer_id']);
  r = sluice(['test', '--project-dir', dir, '--indirect-selection', 'sideways']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--indirect-selection must be eager, cautious, buildable or empty, not 'sideways'/);
  // build --resource-type test runs the tests alone
  r = sluice(['build', '--project-dir', dir, '--resource-type', 'test', '-s', 'stg_orders']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 4);
  assert.ok(nodeLines(r.stdout).every(l => /PASS|WARN|FAIL/.test(l)), r.stdout);
});

test('ls lists tests, with the selection syntax and --resource-type test', () => {
  const dir = project();
  let r = sluice(['ls', '--project-dir', dir, '--resource-type', 'test', '-s', 'stg_orders']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    `shop.${ACC}`, 'shop.not_null_stg_orders_order_id', `shop.${REL}`, 'shop.unique_stg_orders_order_id']);
  r = sluice(['ls', '--project-dir', dir, '-s', 'test_type:singular', '--output', 'json']);
  const o = JSON.parse(r.stdout.trim());
  assert.equal(o.resource_type, 'test');
  assert.equal(o.unique_id, 'test.shop.assert_totals_positive');
  r = sluice(['ls', '--project-dir', dir]);
  assert.equal(r.stdout.trim().split('\n').length, 6 + 7);
});

// UTC "YYYY-MM-DD HH:MM:SS" hours ago.
const ago = hours => new Date(Date.now() - hours * 3600e3).toISOString().slice(0, 19).replace('T', ' ');

test('every command that parses the project writes target/manifest.json; a failure to write it only warns', () => {
  const dir = project();
  const mf = path.join(dir, 'target/manifest.json');
  for (const args of [['seed'], ['run'], ['snapshot'], ['compile'], ['test'], ['build'], ['ls']]) {
    fs.rmSync(mf, { force: true });
    const r = sluice([...args, '--project-dir', dir]);
    assert.ok(r.code === 0 || r.code === 1, `${args}: ${r.stdout}${r.stderr}`);
    assert.ok(fs.existsSync(mf), `sluice ${args.join(' ')} wrote no target/manifest.json`);
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    assert.equal(m.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/manifest/v12.json');
    assert.ok(m.nodes['model.shop.stg_orders'], `${args}: ${Object.keys(m.nodes)}`);
  }
  // run_results' unique_ids are the manifest's
  const rr = JSON.parse(fs.readFileSync(path.join(dir, 'target/run_results.json'), 'utf8'));
  const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
  assert.ok(rr.results.length > 0);
  for (const x of rr.results) assert.ok(m.nodes[x.unique_id], `${x.unique_id} not in the manifest`);
  // a manifest that cannot be written (a folder in its place) warns; the run goes on
  fs.rmSync(mf, { force: true });
  fs.mkdirSync(path.join(mf, 'x'), { recursive: true });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /target\/manifest\.json not written: /);
  assert.match(r.stdout, /^Done\. PASS=4 WARN=0 ERROR=0 SKIP=0 TOTAL=4$/m);
});

test('--resume keeps the run\'s --indirect-selection and --resource-type', () => {
  const dir = project();
  const resumeId = out => (out.match(/--resume (\S+)$/m) || [])[1];
  // before anything is built, every test errs
  let r = sluice(['test', '--project-dir', dir, '--select', 'stg_orders', '--indirect-selection', 'cautious']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 3, r.stdout);
  const testRun = resumeId(r.stdout);
  assert.ok(testRun, r.stdout);
  r = sluice(['build', '--project-dir', dir, '--select', 'stg_orders', '--resource-type', 'test']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 4, r.stdout);
  const buildRun = resumeId(r.stdout);
  assert.ok(buildRun, r.stdout);
  assert.equal(sluice(['seed', '--project-dir', dir]).code, 0);
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  // resumed: the same three tests (cautious leaves out the relationships test,
  // which reads stg_customers too), not the four eager would bring
  r = sluice(['test', '--project-dir', dir, '--resume', testRun]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 3, r.stdout);
  assert.equal(lineOf(r.stdout, REL), undefined, r.stdout);
  // resumed: tests only (eager: the relationships test fails), no model rebuilt
  r = sluice(['build', '--project-dir', dir, '--resume', buildRun]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 4, r.stdout);
  assert.doesNotMatch(r.stdout, /sql view model/, r.stdout);
  assert.match(lineOf(r.stdout, REL), /FAIL 1/);
  // the flags cannot be given again with --resume
  r = sluice(['test', '--project-dir', dir, '--resume', testRun, '--indirect-selection', 'eager']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--resume reruns run \S+ with its own selection, --indirect-selection, resource types, logical date and --full-refresh; drop --indirect-selection/);
  r = sluice(['build', '--project-dir', dir, '--resume', buildRun, '--exclude-resource-type', 'seed']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /drop --exclude-resource-type/);
});

test('names with quotes and spaces: a model, its generic tests, a singular test, accepted values and a store_failures alias with a double quote', () => {
  const model = 'my "odd" model\'s';
  const dir = project({
    [`models/${model}.sql`]: "select order_id, status from {{ ref('stg_orders') }}\n",
    'models/odd.yml': `version: 2
models:
  - name: "my \\"odd\\" model's"
    columns:
      - name: order_id
        tests:
          - not_null
          - unique:
              config:
                store_failures: true
                alias: 'fail"ures'
      - name: status
        tests:
          - accepted_values:
              values: ["it's", 'placed', 'shipped', 'lost', 'a "b"']
              config:
                store_failures: true
`,
    'tests/it\'s a "odd" test.sql': "{{ config(store_failures=true) }}\nselect * from {{ ref(\"my \\\"odd\\\" model's\") }} where order_id < 3\n",
  });
  const r = sluice(['build', '--project-dir', dir, '--select', '+my*+']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(lineOf(r.stdout, 'main.my'), /OK created sql view model main\.my "odd" model's /);
  assert.match(r.stdout, /PASS not_null_my "odd" model's_order_id \./);
  assert.match(r.stdout, /PASS unique_my "odd" model's_order_id \./);
  // 'it''s' and 'a "b"' are literals; 'teleported' is the one value left
  assert.match(r.stdout, /FAIL 1 accepted_values_my "odd" model's_status__it_s__placed__shipped__lost__a_b_ \./);
  assert.match(r.stdout, /FAIL 2 it's a "odd" test \./);
  assert.match(r.stdout, /failing rows stored in "main_dbt_test__audit"\."it's a ""odd"" test"/);
  const audit = path.join(dir, 'wh.main_dbt_test__audit.db');
  assert.deepEqual(rows(audit, 'select count(*) as n from "it\'s a ""odd"" test"'), [{ n: 2 }]);
  assert.deepEqual(rows(audit, 'select count(*) as n from "fail""ures"'), [{ n: 0 }]);
  const av = r.stdout.match(/"main_dbt_test__audit"\."(accepted_values_my ""odd"" model_[0-9a-f]{32})"/);
  assert.ok(av, r.stdout);
  assert.deepEqual(rows(audit, `select value_field from "${av[1]}"`), [{ value_field: 'teleported' }]);
  const st = rows(path.join(dir, '.sluice/state.db'), "select test_name, status, failures from test_results where test_name like '%odd%' order by test_name");
  assert.equal(st.length, 4, JSON.stringify(st));
  assert.deepEqual(st.map(x => x.status).sort(), ['fail', 'fail', 'pass', 'pass']);
});

test('a slow test query: Ctrl-C interrupts it (exit 130), kill -9 leaves state.db usable and no lock behind', async () => {
  const dir = project({
    'tests/slow_cross.sql': `with recursive k(i) as (select 1 union all select i + 1 from k where i < 100000)
select o.order_id from {{ ref('stg_orders') }} o cross join k a cross join k b
where o.order_id + a.i + b.i < 0
`,
  });
  assert.equal(sluice(['seed', '--project-dir', dir]).code, 0);
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  const db = path.join(dir, '.sluice/state.db');
  // starts `sluice test --select slow_cross`, waits until its test is running, sends sig
  const interrupt = async sig => {
    const before = rows(db, 'select count(*) as n from runs')[0].n;
    const child = sluiceSpawn(['test', '--project-dir', dir, '--select', 'slow_cross']);
    let out = '';
    child.stdout.on('data', d => { out += d; });
    child.stderr.on('data', d => { out += d; });
    const exited = new Promise(resolve => child.on('exit', (code, signal) => resolve({ code, signal })));
    for (;;) {
      const t = rows(db, `select t.status from tasks t join runs r using (run_id)
        where t.task = 'test.shop.slow_cross' order by r.rowid desc limit 1`);
      if (rows(db, 'select count(*) as n from runs')[0].n > before && t[0]?.status === 'running') break;
      await new Promise(r => setTimeout(r, 100));
    }
    child.kill(sig);
    const e = await exited;
    return { ...e, out };
  };
  const int = await interrupt('SIGINT');
  assert.equal(int.code, 130, int.out);
  assert.match(int.out, /CANCEL test slow_cross/);
  assert.match(int.out, /cancelled by Ctrl-C \(SIGINT\)/);
  assert.deepEqual(rows(db, 'select status from runs order by rowid desc limit 1'), [{ status: 'cancelled' }]);
  const kill = await interrupt('SIGKILL');
  assert.equal(kill.signal, 'SIGKILL');
  assert.deepEqual(rows(db, 'select status from runs order by rowid desc limit 1'), [{ status: 'running' }]);
  // the next run marks the killed one failed and runs
  const r = sluice(['test', '--project-dir', dir, '--select', 'stg_orders', '--exclude', 'slow_cross']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /1 earlier run marked failed: the process ended without finishing/);
  assert.match(r.stdout, /^Done\. PASS=2 WARN=1 ERROR=1 SKIP=0 TOTAL=4$/m);
  assert.deepEqual(rows(db, "select count(*) as n from runs where status = 'running'"), [{ n: 0 }]);
  assert.deepEqual(rows(db, 'select count(*) as n from locks'), [{ n: 0 }]);
  assert.deepEqual(rows(db, 'pragma integrity_check'), [{ integrity_check: 'ok' }]);
});

test('source freshness by loaded_at_field: pass, warn and error stale, sources.json, exit 1', () => {
  const dir = project({
    'seeds/raw_events.csv': `id,loaded_at\n1,${ago(3)}\n`,
    'seeds/raw_recent.csv': `id,loaded_at\n1,${ago(0)}\n`,
    'models/sources.yml': 'version: 2\nsources:\n  - name: app\n    schema: main\n    loaded_at_field: loaded_at\n' +
      '    freshness:\n      warn_after: {count: 1, period: hour}\n    tables:\n' +
      '      - name: raw_events\n        freshness:\n          warn_after: {count: 1, period: hour}\n          error_after: {count: 2, period: hour}\n' +
      '      - name: raw_recent\n      - name: old_warn\n        identifier: raw_events\n' +
      '      - name: unmeasured\n        freshness: null\n',
  });
  assert.equal(sluice(['seed', '--project-dir', dir]).code, 0);
  let r = sluice(['source', 'freshness', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const lines = nodeLines(r.stdout);
  assert.equal(lines.length, 3, r.stdout);
  assert.match(lines[0], /^1 of 3 ERROR STALE freshness of app\.raw_events \.+ \[ERROR STALE in \d+\.\d\ds\]$/);
  assert.match(lines[1], /^2 of 3 PASS freshness of app\.raw_recent \.+ \[PASS in /);
  assert.match(lines[2], /^3 of 3 WARN freshness of app\.old_warn \.+ \[WARN in /);
  assert.match(r.stdout, /^Done\. PASS=1 WARN=1 ERROR=1 RUNTIME_ERROR=0 TOTAL=3$/m);
  const sj = JSON.parse(fs.readFileSync(path.join(dir, 'target/sources.json'), 'utf8'));
  assert.deepEqual(sj.results.map(x => [x.unique_id, x.status]), [
    ['source.shop.app.raw_events', 'error'], ['source.shop.app.raw_recent', 'pass'], ['source.shop.app.old_warn', 'warn']]);
  // a warning alone exits 0
  r = sluice(['source', 'freshness', '--project-dir', dir, '-s', 'source:app.old_warn']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(nodeLines(r.stdout).length, 1);
  r = sluice(['source', 'freshness', '--project-dir', dir, '-s', 'nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--select: "nope" matches no source table with freshness criteria/);
  const st = rows(path.join(dir, '.sluice/state.db'), 'select source_id, status, by_load_time from freshness_results order by id');
  assert.deepEqual(st.map(x => [x.source_id, x.status, x.by_load_time]), [
    ['source.shop.app.raw_events', 'error', 0], ['source.shop.app.raw_recent', 'pass', 0],
    ['source.shop.app.old_warn', 'warn', 0], ['source.shop.app.old_warn', 'warn', 0]]);
});

test('source freshness in a sluice project: by the tables\' last load in state.db', () => {
  const dir = tmpdir('sluice-fresh-');
  writeFiles(dir, {
    'sluice.yml': 'name: shop\ntargets:\n  local: {type: sqlite, path: ./warehouse.db}\n',
    'sources/shop.yml': 'source: shop\nkind: csv\nfreshness: {warn_after: {count: 1, period: hour}}\ntables:\n' +
      '  - name: orders\n    path: data/orders.csv\n' +
      '  - name: customers\n    path: data/customers.csv\n    freshness: {error_after: {count: 30, period: minute}}\n' +
      '  - name: refunds\n    path: data/refunds.csv\n    freshness: null\n',
    'data/orders.csv': 'id,amount\n1,5\n',
    'data/customers.csv': 'id,name\n1,Ann\n',
    'data/refunds.csv': 'id\n1\n',
  });
  // never loaded: orders warns, customers (error_after) is stale
  let r = sluice(['source', 'freshness', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^1 of 2 WARN freshness of shop\.orders /m);
  assert.match(r.stdout, /^2 of 2 ERROR STALE freshness of shop\.customers /m);
  assert.match(r.stdout, /^Error in source shop\.customers\n  shop\.customers was never loaded \(error_after: 30 minutes\)$/m);
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  r = sluice(['source', 'freshness', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^Done\. PASS=2 WARN=0 ERROR=0 RUNTIME_ERROR=0 TOTAL=2$/m);
  // the last load of customers 2 hours back, of orders 90 minutes back
  const db = path.join(dir, '.sluice/state.db');
  execFileSync('sqlite3', [db, "update tasks set ended_at = ended_at - 7200000000 where task = 'load:shop.customers';" +
    "update tasks set ended_at = ended_at - 5400000000 where task = 'load:shop.orders'"]);
  r = sluice(['source', 'freshness', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^1 of 2 WARN freshness of shop\.orders /m);
  assert.match(r.stdout, /^Warning in source shop\.orders\n  shop\.orders was last loaded 1h 3\dm ago, more than warn_after's 1 hour$/m);
  assert.match(r.stdout, /^2 of 2 ERROR STALE freshness of shop\.customers /m);
  const st = rows(db, 'select source_id, status, by_load_time, age_seconds from freshness_results where run_id = (select max(run_id) from freshness_results) order by id');
  assert.deepEqual(st.map(x => [x.source_id, x.status, x.by_load_time]), [
    ['source.shop.shop.orders', 'warn', 1], ['source.shop.shop.customers', 'error', 1]]);
  assert.ok(st[1].age_seconds >= 7200);
  // a bad value names its file and line
  writeFiles(dir, { 'sources/shop.yml': 'source: shop\nkind: csv\nfreshness: {warn_after: {count: 1, period: week}}\ntables:\n  - name: orders\n    path: data/orders.csv\n' });
  r = sluice(['source', 'freshness', '--project-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sources\/shop\.yml:3: "period" in freshness\.warn_after in source "shop" must be one of minute, hour, day, not "week"/);
});

let pg;
after(() => { if (pg) pg.stop(); });

test('PostgreSQL: a failing test skips what is built from what it tests and keeps its sample', () => {
  pg = startPostgres();
  const dir = project({
    'profiles.yml': `shop:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: ${pg.host}\n      port: ${pg.port}\n      user: postgres\n      password: ''\n      dbname: postgres\n      schema: analytics\n      threads: 2\n`,
  });
  const r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(lineOf(r.stdout, REL), /FAIL 1 relationships_/);
  assert.match(lineOf(r.stdout, 'analytics.customer_report'), /SKIP sql view model analytics\.customer_report/);
  assert.match(r.stdout, /^Done\. PASS=10 WARN=1 ERROR=1 SKIP=1 TOTAL=13$/m);
  assert.match(r.stdout, /failing rows stored in "analytics_dbt_test__audit"\."relationships_stg_orders_[0-9a-f]{32}"/);
  const audit = r.stdout.match(/"analytics_dbt_test__audit"\."(\w+)"/)[1];
  assert.equal(pg.psql(`select from_field from analytics_dbt_test__audit.${audit}`).trim(), '9');
  const st = rows(path.join(dir, '.sluice/state.db'), "select sample_json from test_results where status = 'fail'");
  assert.deepEqual(JSON.parse(st[0].sample_json), [{ from_field: '9' }]);
});
