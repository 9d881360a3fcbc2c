// The run as a DAG of tasks, through the real binary: retries until a task
// succeeds (every attempt recorded), a failed table skipping its load while
// an independent one completes, a timeout ending a hung HTTP task, SIGTERM
// cancelling a run that a rerun completes with every row landed once,
// --resume rerunning only what did not succeed, backfills (one run per
// logical date, {{ ds }} rendered in params), selection operators and the
// graph as text and Graphviz dot.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sluice, sluiceSpawn, tmpdir, writeFiles, warehouseSql } from '../lib/harness.mjs';

const servers = [];
after(async () => { for (const s of servers) await s.close(); });

// A JSON API on 127.0.0.1: handler(req, url, n) answers the n-th request
// (from 1) with {status, body} or null to leave it hanging; every request is
// logged ({path, query}).
async function api(handler) {
  const s = { log: [], hanging: [] };
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1');
    s.log.push({ path: u.pathname, query: Object.fromEntries(u.searchParams) });
    Promise.resolve(handler(req, u, s.log.length)).then(a => {
      if (!a) { s.hanging.push(res); return; }
      const text = JSON.stringify(a.body);
      res.writeHead(a.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    });
  });
  await new Promise(r => srv.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${srv.address().port}`;
  s.close = () => new Promise(r => { srv.closeAllConnections?.(); srv.close(() => r()); });
  servers.push(s);
  return s;
}

const records = (n, from = 1) => Array.from({ length: n }, (_, i) => ({ id: from + i, name: `r${from + i}` }));

function project(files) {
  const dir = tmpdir();
  writeFiles(dir, { 'sluice.yml': 'name: t\nlake: ./lake\n', ...files });
  return dir;
}

const run = (dir, args, env) => sluice([...args, '--project-dir', dir], { env });

// The same without blocking this process, whose HTTP servers must answer.
function runAsync(dir, args) {
  const child = sluiceSpawn([...args, '--project-dir', dir]);
  let stdout = '', stderr = '';
  child.stdout.on('data', d => { stdout += d; });
  child.stderr.on('data', d => { stderr += d; });
  return new Promise(r => child.on('exit', (code, signal) => r({ code, signal, stdout, stderr })));
}

function showJson(dir, id) {
  const r = run(dir, ['runs', 'show', id, '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function runsJson(dir) {
  const r = run(dir, ['runs', '--format', 'json', '--limit', '100']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const runId = stdout => stdout.match(/^run (\S+)/m)[1];
const attemptsOf = (show, task) => show.attempts.filter(a => a.task === task);
const count = (dir, table) => Number(warehouseSql(dir, `select count(*) from raw."${table}";`).trim());

test('a task that fails twice is retried and the run is green with three attempts recorded', async () => {
  const srv = await api((req, u, n) => (n <= 2 ? { status: 500, body: { error: 'boom' } }
                                                : { status: 200, body: records(3) }));
  const dir = project({
    'sources/api.yml': `source: api\nkind: http\nretries: 2\nretry_delay: 0s\ntables:\n` +
      `  - name: items\n    url: ${srv.url}/items\n    max_retries: 0\n`,
  });
  const r = await runAsync(dir, ['run']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(srv.log.length, 3);
  const show = showJson(dir, runId(r.stdout));
  assert.equal(show.status, 'success');
  const a = attemptsOf(show, 'extract:api.items');
  assert.deepEqual(a.map(x => [x.attempt, x.status]), [[1, 'up_for_retry'], [2, 'up_for_retry'], [3, 'success']]);
  assert.match(a[0].error, /500/);
  assert.equal(a[2].rows, 3);
  assert.equal(a[2].error, null);
  assert.ok(a.every(x => x.started_at && x.ended_at));
  assert.deepEqual(attemptsOf(show, 'load:api.items').map(x => [x.attempt, x.status, x.rows]), [[1, 'success', 3]]);
  assert.equal(count(dir, 'api__items'), 3);
});

test('a table that keeps failing skips its load while an independent table completes; exit 1', () => {
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: good\n    path: data/good.csv\n' +
      '  - name: bad\n    path: data/missing*.csv\n    retries: 1\n    retry_delay: 0s\n',
    'data/good.csv': 'id\n1\n2\n',
  });
  const r = run(dir, ['run']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^s\.bad\s.*FAILED$/m);
  assert.match(r.stdout, /^error: s\.bad: extract: .*no files match/m);
  assert.match(r.stdout, /tasks: 2 succeeded, 1 failed, 1 skipped, 0 cancelled/);
  const show = showJson(dir, runId(r.stdout));
  assert.equal(show.status, 'failed');
  assert.deepEqual(attemptsOf(show, 'extract:s.bad').map(x => x.status), ['up_for_retry', 'failed']);
  const skipped = attemptsOf(show, 'load:s.bad');
  assert.deepEqual(skipped.map(x => [x.attempt, x.status, x.error]), [[0, 'skipped', 'upstream extract:s.bad did not succeed']]);
  assert.deepEqual(attemptsOf(show, 'load:s.good').map(x => x.status), ['success']);
  assert.deepEqual(show.tasks, { total: 4, success: 2, failed: 1, skipped: 1, cancelled: 0, running: 0 });
  assert.equal(count(dir, 's__good'), 2);
});

test('a timeout ends a task reading a stalled HTTP server and is recorded timed_out', { timeout: 120000 }, async () => {
  const srv = await api(() => null); // accepts, never answers
  const dir = project({
    'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: items\n    url: ${srv.url}/items\n` +
      '    max_retries: 0\n    timeout: 1s\n',
  });
  const r = await runAsync(dir, ['run']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^api\.items\s.*TIMED OUT$/m);
  const show = showJson(dir, runId(r.stdout));
  assert.deepEqual(attemptsOf(show, 'extract:api.items').map(x => x.status), ['timed_out']);
  assert.match(attemptsOf(show, 'extract:api.items')[0].error, /timed out.*\(timeout: 1s per attempt\)/);
  assert.deepEqual(attemptsOf(show, 'load:api.items').map(x => x.status), ['skipped']);
});

test('a timeout ends a task waiting for a table lock another live process holds', { timeout: 120000 }, async () => {
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: t\n    path: data/t.csv\n    timeout: 1s\n',
    'data/t.csv': 'id\n1\n',
  });
  let r = await runAsync(dir, ['run']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // This test process (alive, same host) holds the table's lock for an hour.
  const now = Date.now() * 1000;
  execFileSync('sqlite3', [path.join(dir, '.sluice', 'state.db'),
    `INSERT INTO locks(name, owner, host, pid, acquired_at, expires_at) VALUES ('table:s.t', 'other', '${os.hostname()}', ${process.pid}, ${now}, ${now + 3600e6});`]);
  r = await runAsync(dir, ['run']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^s\.t\s.*TIMED OUT$/m);
  const show = showJson(dir, runId(r.stdout));
  const x = attemptsOf(show, 'extract:s.t');
  assert.deepEqual(x.map(a => a.status), ['timed_out']);
  assert.match(x[0].error, new RegExp(`another sluice process works on this table: state db \\S+: timed out while waiting for lock "table:s\\.t", held by pid ${process.pid} on `));
  assert.deepEqual(attemptsOf(show, 'load:s.t').map(a => a.status), ['skipped']);
});

test('SIGTERM in the middle of a run leaves it cancelled; the rerun lands every row exactly once', async () => {
  let child = null;
  let signalled = false;
  // The API answers only once the run has been sent SIGTERM, so the
  // signal always lands while the extract of api.c is in flight.
  const srv = await api(async () => {
    while (!child) await new Promise(r => setTimeout(r, 10));
    if (!signalled) {
      signalled = true;
      child.kill('SIGTERM');
      await new Promise(r => setTimeout(r, 200));
    }
    return { status: 200, body: records(5) };
  });
  const dir = project({
    'sources/a.yml': 'source: a\nkind: csv\ntables:\n  - name: a\n    path: data/a.csv\n  - name: b\n    path: data/b.csv\n',
    'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: c\n    url: ${srv.url}/c\n    max_retries: 0\n`,
    'sources/z.yml': 'source: z\nkind: csv\ntables:\n  - name: d\n    path: data/d.csv\n',
    'data/a.csv': 'id\n1\n2\n', 'data/b.csv': 'id\n3\n4\n5\n', 'data/d.csv': 'id\n6\n',
  });
  child = sluiceSpawn(['run', '--threads', '1', '--project-dir', dir]);
  let out = '';
  child.stdout.on('data', d => { out += d; });
  child.stderr.on('data', d => { out += d; });
  const code = await new Promise(r => child.on('exit', (c, s) => r(c ?? s)));
  assert.equal(code, 143, out);
  assert.match(out, /cancelled by SIGTERM/);
  // Stopped tables are cancelled, not failed: nothing in this run failed.
  assert.match(out, /^\d+ tables, 0 failed, [1-9]\d* cancelled, /m);
  // A table whose two tasks were both cancelled says so once.
  assert.doesNotMatch(out, /cancelled before it started; then: cancelled before it started/);
  // The extract stopped in flight is named first, though its load (never
  // started) was reported cancelled before the extract stopped.
  assert.match(out, /^error: api\.c: extract: .*cancelled; then: cancelled before it started$/m);
  const first = runsJson(dir)[0];
  assert.equal(first.status, 'cancelled');
  const show = showJson(dir, first.run_id);
  const c = attemptsOf(show, 'extract:api.c');
  assert.deepEqual(c.map(x => x.status), ['cancelled']);
  assert.match(c[0].error, /cancelled/);
  assert.ok(show.tasks.cancelled >= 2, JSON.stringify(show.tasks)); // extract:api.c and load:api.c at least

  const again = await runAsync(dir, ['run']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual([count(dir, 'a__a'), count(dir, 'a__b'), count(dir, 'api__c'), count(dir, 'z__d')], [2, 3, 5, 1]);
  // A third run lands nothing twice.
  assert.equal((await runAsync(dir, ['run'])).code, 0);
  assert.deepEqual([count(dir, 'a__a'), count(dir, 'a__b'), count(dir, 'z__d')], [2, 3, 1]);
});

test('SIGTERM while a task waits for its retry records that it was cancelled after its attempt, once per table', async () => {
  const srv = await api(() => ({ status: 500, body: { error: 'boom' } }));
  const dir = project({
    'sources/api.yml': `source: api\nkind: http\nretries: 3\nretry_delay: 1h\ntables:\n` +
      `  - name: c\n    url: ${srv.url}/c\n    max_retries: 0\n`,
  });
  const child = sluiceSpawn(['run', '--threads', '1', '--project-dir', dir]);
  let out = '';
  child.stdout.on('data', d => { out += d; });
  child.stderr.on('data', d => { out += d; });
  const exited = new Promise(r => child.on('exit', (c, s) => r(c ?? s)));
  // Signal once the first attempt is recorded up_for_retry (the task then
  // waits an hour for its retry).
  for (;;) {
    const r = run(dir, ['runs', '--format', 'json']);
    if (r.code === 0) {
      const id = JSON.parse(r.stdout)[0]?.run_id;
      const s = id && run(dir, ['runs', 'show', id, '--format', 'json']);
      if (s && s.code === 0 && JSON.parse(s.stdout).attempts
        .some(a => a.task === 'extract:api.c' && a.status === 'up_for_retry')) break;
    }
    await new Promise(r => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  assert.equal(await exited, 143, out);
  const show = showJson(dir, runsJson(dir)[0].run_id);
  const c = attemptsOf(show, 'extract:api.c');
  assert.deepEqual(c.map(x => x.status), ['up_for_retry', 'cancelled']);
  assert.equal(c[1].error, 'cancelled while waiting to retry (after attempt 1)');
  assert.equal(attemptsOf(show, 'load:api.c')[0].error, 'cancelled before it started');
  assert.match(out, /error: api\.c: cancelled while waiting to retry \(after attempt 1\); then: cancelled before it started\n/);
  assert.equal(srv.log.length, 1);
});

test('--resume reruns only the failed and skipped tasks, with the same logical date', () => {
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: good\n    path: data/good.csv\n' +
      '  - name: bad\n    path: data/bad*.csv\n  - name: other\n    path: data/other.csv\n',
    'data/good.csv': 'id\n1\n', 'data/other.csv': 'id\n2\n',
  });
  const r = run(dir, ['run', '--logical-date', '2024-03-01', '--select', 's.good s.bad']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const old = runId(r.stdout);
  assert.match(r.stdout, new RegExp(`--resume ${old}`));
  writeFiles(dir, { 'data/bad.csv': 'id\n7\n8\n' });
  // --resume takes its selection from the run it resumes.
  assert.equal(run(dir, ['run', '--resume', old, '--select', 's.good']).code, 2);
  const again = run(dir, ['run', '--resume', old]);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  const show = showJson(dir, runId(again.stdout));
  assert.equal(show.resumed_from, old);
  assert.equal(show.logical_date, '2024-03-01T00:00:00Z');
  assert.equal(show.data_interval_end, '2024-03-02T00:00:00Z');
  assert.deepEqual(show.attempts.map(a => [a.task, a.status]), [['extract:s.bad', 'success'], ['load:s.bad', 'success']]);
  assert.equal(count(dir, 's__bad'), 2);
  assert.equal(count(dir, 's__good'), 1);
  // s.other was not selected: resuming does not add it.
  assert.match(warehouseSql(dir, "select count(*) from raw.sqlite_master where name = 's__other';"), /^0/);
  // The resumed run succeeded: nothing is left to resume in it.
  const none = run(dir, ['run', '--resume', show.run_id]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /has nothing to resume/);
  const unknown = run(dir, ['run', '--resume', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--resume: no run nope in the state db/);
});

test('a backfill over three dates makes three runs with the right logical dates and rendered params', async () => {
  const srv = await api((req, u) => ({ status: 200, body: records(1, Number(u.searchParams.get('day').slice(8))) }));
  const dir = project({
    'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: items\n    url: ${srv.url}/items\n` +
      '    params: {day: "{{ ds }}", from: "{{ data_interval_start }}", to: "{{ data_interval_end }}"}\n',
  });
  const r = await runAsync(dir, ['backfill', '--start', '2024-01-01', '--end', '2024-01-03']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^3 runs, 0 failed$/m);
  const runs = runsJson(dir).reverse();
  assert.deepEqual(runs.map(x => [x.trigger, x.status, x.logical_date, x.data_interval_start, x.data_interval_end]), [
    ['backfill', 'success', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'],
    ['backfill', 'success', '2024-01-02T00:00:00Z', '2024-01-02T00:00:00Z', '2024-01-03T00:00:00Z'],
    ['backfill', 'success', '2024-01-03T00:00:00Z', '2024-01-03T00:00:00Z', '2024-01-04T00:00:00Z'],
  ]);
  assert.deepEqual(srv.log.map(l => [l.query.day, l.query.from, l.query.to]), [
    ['2024-01-01', '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'],
    ['2024-01-02', '2024-01-02T00:00:00Z', '2024-01-03T00:00:00Z'],
    ['2024-01-03', '2024-01-03T00:00:00Z', '2024-01-04T00:00:00Z'],
  ]);
});

test('a backfill --step that would end a data interval after the year 9999 is a usage error', () => {
  const dir = project({
    'sources/a.yml': 'source: a\nkind: csv\ntables:\n  - name: a\n    path: data/a.csv\n',
    'data/a.csv': 'id\n1\n',
  });
  for (const [start, end, step] of [['2024-01-01', '2024-01-02', '106751991d'], ['9999-12-31', '9999-12-31', '2d']]) {
    const r = run(dir, ['backfill', '--start', start, '--end', end, '--step', step]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stderr, `sluice: backfill: --step ${step} puts the last data interval's end after the year 9999; use a shorter --step\n`);
  }
  // The last interval may end on 10000-01-01 itself.
  const ok = run(dir, ['backfill', '--start', '9999-12-30', '--end', '9999-12-31', '--step', '1d']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^2 runs, 0 failed$/m);
});

test('a backfill stops at the first failed run unless --continue-on-failure', () => {
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: bad\n    path: data/bad*.csv\n',
  });
  let r = run(dir, ['backfill', '--start', '2024-01-01', '--end', '2024-01-03']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^1 run, 1 failed; stopped at the first failed run/m);
  r = run(dir, ['backfill', '--start', '2024-01-01T00:00:00Z', '--end', '2024-01-01T02:00:00Z', '--step', '1h', '--continue-on-failure']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^3 runs, 3 failed$/m);
  assert.deepEqual(runsJson(dir).slice(0, 3).map(x => x.logical_date).reverse(),
    ['2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z', '2024-01-01T02:00:00Z']);
  r = run(dir, ['backfill', '--start', '2024-01-03', '--end', '2024-01-01']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--end 2024-01-01 is before --start 2024-01-03/);
});

test('a backfill --step whose run would end past the last representable time is a usage error', () => {
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: bad\n    path: data/bad*.csv\n',
  });
  // 106751990 days fits in 64 bits of microseconds, but 2024 plus it does not.
  let r = run(dir, ['backfill', '--start', '2024-01-01', '--end', '2024-01-02', '--step', '106751990d']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--step 106751990d puts the last data interval's end after the year 9999/);
  assert.match(run(dir, ['runs']).stderr, /has no runs yet/);
  // 106751992 days does not fit at all.
  r = run(dir, ['backfill', '--start', '2024-01-01', '--end', '2024-01-02', '--step', '106751992d']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /--step must be a duration like 1d, 6h or 15m, not '106751992d'/);
});

test('run --logical-date and backfill --start/--end read dates alike and name the flag that is wrong', () => {
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: bad\n    path: data/bad*.csv\n',
  });
  const said = "must be a date \\(2024-01-31\\) or an ISO-8601 timestamp \\(2024-01-31T06:00:00Z\\), not '2024-13-01'";
  let r = run(dir, ['run', '--logical-date', '2024-13-01']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`run: --logical-date ${said}`));
  r = run(dir, ['backfill', '--start', '2024-13-01', '--end', '2024-01-02']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`backfill: --start ${said}`));
  r = run(dir, ['backfill', '--start', '2024-01-01', '--end', '2024-13-01']);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`backfill: --end ${said}`));
});

function dagProject() {
  return project({
    'sources/shop.yml': 'source: shop\nkind: csv\ntags: [nightly]\ntables:\n' +
      '  - name: orders\n    path: data/o.csv\n    tags: [finance]\n  - name: customers\n    path: data/c.csv\n',
    'sources/crm.yml': 'source: crm\nkind: csv\ntables:\n  - name: leads\n    path: data/l.csv\n    tags: [finance]\n',
  });
}

const dagLines = (dir, args) => {
  const r = run(dir, ['dag', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim().split('\n').map(l => l.split(' ')[0]).sort();
};

test('sluice dag --select picks nodes by name, source, tag, kind and graph operators', () => {
  const dir = dagProject();
  assert.equal(dagLines(dir, []).length, 6);
  assert.deepEqual(dagLines(dir, ['--select', 'shop.orders']), ['extract:shop.orders', 'load:shop.orders']);
  assert.deepEqual(dagLines(dir, ['--select', 'tag:finance']),
    ['extract:crm.leads', 'extract:shop.orders', 'load:crm.leads', 'load:shop.orders']);
  // a source's tags are its tables' tags
  assert.deepEqual(dagLines(dir, ['--select', 'tag:nightly', '--exclude', 'shop.orders']),
    ['extract:shop.customers', 'load:shop.customers']);
  // commas intersect, spaces unite
  assert.deepEqual(dagLines(dir, ['--select', 'tag:finance,source:crm']), ['extract:crm.leads', 'load:crm.leads']);
  assert.deepEqual(dagLines(dir, ['--select', 'crm.leads shop.customers', '--select', 'kind:extract,shop.orders']),
    ['extract:crm.leads', 'extract:shop.customers', 'extract:shop.orders', 'load:crm.leads', 'load:shop.customers']);
  // +name: and what it waits for; name+: and what waits for it
  assert.deepEqual(dagLines(dir, ['--select', '+load:shop.orders']), ['extract:shop.orders', 'load:shop.orders']);
  assert.deepEqual(dagLines(dir, ['--select', 'extract:crm.leads+']), ['extract:crm.leads', 'load:crm.leads']);
  assert.deepEqual(dagLines(dir, ['--select', 'kind:load', '--exclude', 'source:shop']), ['load:crm.leads']);
  const text = run(dir, ['dag', '--select', 'crm.leads']);
  assert.match(text.stdout, /^load:crm\.leads <- extract:crm\.leads$/m);
  const none = run(dir, ['dag', '--select', 'tag:nope']);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /tag:nope/);
  // the same syntax selects what `sluice run` runs
  writeFiles(dir, { 'data/l.csv': 'id\n1\n' });
  const r = run(dir, ['run', '--select', 'source:crm']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^1 table, 0 failed/m);
});

test('sluice dag --format dot is Graphviz input with an edge per dependency', () => {
  const dir = dagProject();
  const r = run(dir, ['dag', '--format', 'dot']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^digraph /);
  assert.equal(r.stdout.match(/->/g).length, 3);
  assert.match(r.stdout, /"extract:shop\.orders" -> "load:shop\.orders"/);
  const bad = run(dir, ['dag', '--format', 'svg']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--format must be text or dot, not 'svg'/);
});

test('retries, retry_delay, timeout and tags are checked with file:line', () => {
  const cases = [
    ['sluice.yml', 'name: t\ndefaults:\n  retries: -1\n', /sluice\.yml:3: .*retries/],
    ['sluice.yml', 'name: t\ndefaults:\n  retry_delay: soon\n', /sluice\.yml:3: "retry_delay" in defaults must be a duration like 10s, 5m or 1h, not "soon"/],
    ['sluice.yml', 'name: t\ndefaults:\n  tags: [x]\n', /sluice\.yml:3: unknown key "tags" in defaults/],
    ['sources/s.yml', 'source: s\nkind: csv\ntimeout: 0s\ntables:\n  - name: t\n    path: x.csv\n', /sources\/s\.yml:3: "timeout" in source "s" must be a duration like 30s, 10m or 2h \(or none\), not "0s"/],
    ['sources/s.yml', 'source: s\nkind: csv\ntables:\n  - name: t\n    path: x.csv\n    tags: ["a b"]\n', /sources\/s\.yml:6: tag "a b" in table "t" must be letters, digits, _ and -/],
  ];
  for (const [file, text, re] of cases) {
    const dir = project({ [file]: text });
    const r = run(dir, ['dag']);
    assert.equal(r.code, 2, `${text}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('table wins over source wins over defaults for retries and timeout', () => {
  const dir = project({
    'sluice.yml': 'name: t\ndefaults: {retries: 3, retry_delay: 0s, timeout: 1h}\n',
    'sources/s.yml': 'source: s\nkind: csv\nretries: 1\ntables:\n  - name: a\n    path: data/a*.csv\n' +
      '  - name: b\n    path: data/b*.csv\n    retries: 0\n',
  });
  const r = run(dir, ['run']);
  assert.equal(r.code, 1);
  const show = showJson(dir, runId(r.stdout));
  assert.equal(attemptsOf(show, 'extract:s.a').length, 2);
  assert.equal(attemptsOf(show, 'extract:s.b').length, 1);
});

test('--fail-fast: the first failure cancels a task still running', { timeout: 120000 }, async () => {
  const srv = await api(() => null); // never answers: the task runs until cancelled
  const dir = project({
    'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: slow\n    url: ${srv.url}/slow\n    max_retries: 0\n`,
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: bad\n    path: data/missing*.csv\n',
  });
  const r = await runAsync(dir, ['run', '--threads', '2', '--fail-fast']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const show = showJson(dir, runId(r.stdout));
  assert.equal(show.status, 'failed');
  assert.deepEqual(attemptsOf(show, 'extract:s.bad').map(x => x.status), ['failed']);
  assert.deepEqual(attemptsOf(show, 'extract:api.slow').map(x => x.status), ['cancelled']);
  assert.deepEqual(attemptsOf(show, 'load:api.slow').map(x => x.status), ['cancelled']);
  assert.match(r.stdout, /^api\.slow\s.*cancelled$/m);
});

test('a run whose process was killed is marked failed by the next run', async () => {
  let child = null;
  const srv = await api(async () => {
    child.kill('SIGKILL');
    return null;
  });
  const dir = project({
    'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: items\n    url: ${srv.url}/items\n    max_retries: 0\n`,
  });
  child = sluiceSpawn(['run', '--project-dir', dir]);
  const signal = await new Promise(r => child.on('exit', (c, s) => r(s)));
  assert.equal(signal, 'SIGKILL');
  const killed = runsJson(dir)[0];
  assert.equal(killed.status, 'running');
  const r = run(dir, ['dag']); // reading the graph reaps nothing
  assert.equal(r.code, 0);
  assert.equal(runsJson(dir)[0].status, 'running');
  writeFiles(dir, { 'sources/api.yml': 'source: api\nkind: csv\ntables:\n  - name: items\n    path: data/i.csv\n', 'data/i.csv': 'id\n1\n' });
  const again = run(dir, ['run']);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.match(again.stderr, /1 earlier run marked failed: the process ended without finishing/);
  const show = showJson(dir, killed.run_id);
  assert.equal(show.status, 'failed');
  assert.equal(show.message, 'the process ended without finishing the run');
  assert.deepEqual(show.attempts.map(a => [a.task, a.status]), [['extract:api.items', 'failed']]);
  // and it can be resumed
  const resumed = run(dir, ['run', '--resume', killed.run_id]);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.equal(count(dir, 'api__items'), 1);
});

test('an attempt whose start cannot be recorded does not run and fails its task', async () => {
  const { execFileSync } = await import('node:child_process');
  const path = (await import('node:path')).default;
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: t\n    path: data/t.csv\n',
    'data/t.csv': 'id\n1\n',
  });
  assert.equal(run(dir, ['dag']).code, 0);
  assert.equal(run(dir, ['run', '--select', 'nothing*']).code, 2); // creates state.db, runs nothing
  execFileSync('sqlite3', [path.join(dir, '.sluice', 'state.db'),
    "CREATE TRIGGER no_extract BEFORE INSERT ON tasks WHEN NEW.task LIKE 'extract:%' BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;"]);
  const r = run(dir, ['run']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^error: s\.t: extract: not started: recording its start failed: state db \S+: insert task: disk I\/O error/m);
  // nothing was extracted, and the load was skipped
  assert.equal(run(dir, ['lake', 'ls']).stdout.includes('raw/s/t'), false);
  const show = runsJson(dir)[0];
  assert.equal(show.status, 'failed');
});

test('with lake_commit_lock: state, tasks running at once each commit under a lock of their own, and none is left held', () => {
  const dir = project({
    'sluice.yml': 'name: t\nlake: ./lake\nlake_commit_lock: state\n',
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n' +
      [1, 2, 3, 4].map(i => `  - name: t${i}\n    path: data/t${i}.csv\n`).join(''),
    'data/t1.csv': 'id\n1\n', 'data/t2.csv': 'id\n2\n3\n', 'data/t3.csv': 'id\n4\n5\n6\n', 'data/t4.csv': 'id\n7\n',
  });
  const r = sluice(['run', '--threads', '2', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(warehouseSql(dir, "SELECT (SELECT count(*) FROM raw.s__t1) || ',' || (SELECT count(*) FROM raw.s__t2) || ',' || (SELECT count(*) FROM raw.s__t3) || ',' || (SELECT count(*) FROM raw.s__t4)").trim(), "1,2,3,1");
  const held = execFileSync('sqlite3', [path.join(dir, '.sluice', 'state.db'), "SELECT count(*) FROM locks WHERE name LIKE 'lake-commit:%'"]).toString().trim();
  assert.equal(held, '0');
});
