// The lake, state.db and the warehouse kept honest with each other, end to
// end with the real binary: a Delta log with duplicated adds loads each file
// once; a lake deleted or cut back under state.db fails the run and
// --full-refresh restores every row; a failure to record a run's outcome in
// state.db fails the run; rows with a NULL primary key are quarantined for
// every source kind; long names never share a lake folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { sluiceSpawn, tmpdir, writeFiles, duckText, runSummary, deltaVersions, liveFiles } from '../lib/harness.mjs';
import { warehouseRows } from '../lib/harness.mjs';
import { startHttpServer } from '../lib/httpserver.mjs';

process.setMaxListeners(100);

let api;
before(async () => { api = await startHttpServer([]); });
after(async () => { await api.close(); });

function project(files) {
  const dir = tmpdir();
  writeFiles(dir, { 'sluice.yml': 'name: t\nlake: ./lake\n', ...files });
  return dir;
}

const csvTable = (extra = '') =>
  `source: s\nkind: csv\ntables:\n  - name: t\n    path: data/t*.csv\n    columns: {id: int64}\n${extra}`;

// Runs sluice asynchronously (the HTTP server lives in this process).
function run(dir, args = ['run']) {
  return new Promise((resolve, reject) => {
    const child = sluiceSpawn([...args, '--project-dir', dir]);
    let stdout = '', stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout, stderr, out: stdout + stderr }));
  });
}

async function runOk(dir, args) {
  const r = await run(dir, args);
  assert.equal(r.code, 0, r.out);
  return r;
}

const whCount = (dir, table = 's__t') => warehouseRows(dir, ['count(*)'], `raw."${table}"`)[0][0];
const whIds = (dir, table = 's__t') => warehouseRows(dir, ['id'], `raw."${table}" ORDER BY id`).map(r => r[0]);

function stateSql(dir, sql) {
  return execFileSync('sqlite3', ['-bail', path.join(dir, '.sluice', 'state.db'), sql], { encoding: 'utf8' });
}

function logPath(dir, table, v) {
  return path.join(dir, 'lake', table, '_delta_log', String(v).padStart(20, '0') + '.json');
}

// ------------------------------------------------- duplicated adds (item 3)

test('a Delta log that adds one file twice (in one commit and across commits) loads it once', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n2\n3\n' });
  await runOk(dir, ['extract']);
  writeFiles(dir, { 'data/t2.csv': 'id\n4\n5\n' });
  await runOk(dir, ['extract']);
  const t = 'raw/s/t';
  assert.equal(deltaVersions(dir, t).length, 2);
  // Hand-made duplicates: version 0's add twice in version 0, and again in
  // version 1 next to version 1's own add twice.
  const addOf = v => fs.readFileSync(logPath(dir, t, v), 'utf8').split('\n').find(l => l.startsWith('{"add"'));
  const add0 = addOf(0), add1 = addOf(1);
  fs.appendFileSync(logPath(dir, t, 0), add0 + '\n');
  fs.appendFileSync(logPath(dir, t, 1), add0 + '\n' + add1 + '\n');
  // The lake lists each file once ...
  const ls = await runOk(dir, ['lake', 'ls']);
  assert.match(ls.stdout, /raw\/s\/t\s+1\s+2\s+5\s/);
  // ... and the load reads each once: 5 rows, not 3 + 3 + 3 + 2 + 2.
  const r = await runOk(dir, ['load']);
  assert.equal(runSummary(r.stdout, 's.t').loaded, '5');
  assert.deepEqual(whIds(dir), [1, 2, 3, 4, 5]);
  // A later commit that re-adds an already loaded file loads nothing again.
  fs.writeFileSync(logPath(dir, t, 2), add0 + '\n');
  const again = await runOk(dir, ['load']);
  assert.equal(runSummary(again.stdout, 's.t').loaded, '0');
  assert.deepEqual(whIds(dir), [1, 2, 3, 4, 5]);
});

test('a Delta log that adds one path with two sizes is refused as corrupt, loading nothing', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n2\n' });
  await runOk(dir, ['extract']);
  const t = 'raw/s/t';
  const add = JSON.parse(fs.readFileSync(logPath(dir, t, 0), 'utf8').split('\n').find(l => l.startsWith('{"add"')));
  add.add.size += 1;
  fs.writeFileSync(logPath(dir, t, 1), JSON.stringify(add) + '\n');
  const r = await run(dir, ['load']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /lake table raw\/s\/t: version 1 adds data\/part-\S+ with \d+ bytes, but that file is already in the table with \d+ bytes \(added at version 0\); a data file never changes, so the log is corrupt/);
});

// ------------------------------------------- lake lost under state (item 4)

test('a load that cannot read the lake mark of a lost lake table fails, instead of loading nothing', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n2\n' });
  await runOk(dir);
  fs.rmSync(path.join(dir, 'lake'), { recursive: true });
  // state.db's lake marks become unreadable (a column renamed under it).
  execFileSync('sqlite3', [path.join(dir, '.sluice', 'state.db'),
    'ALTER TABLE lake_marks RENAME COLUMN version TO version_moved;']);
  const l = await run(dir, ['load']);
  assert.equal(l.code, 1, l.out);
  assert.match(l.stdout, /error: s\.t: load: reading the table's lake mark: state db \S+: prepare: no such column: version/);
});

test('a deleted lake fails the next run with --full-refresh as the fix, which restores every row', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n2\n' });
  await runOk(dir);
  writeFiles(dir, { 'data/t2.csv': 'id\n3\n' });
  await runOk(dir);
  fs.rmSync(path.join(dir, 'lake'), { recursive: true });
  for (let i = 0; i < 2; i++) { // not once: every run until it is fixed
    const r = await run(dir);
    assert.equal(r.code, 1, r.out);
    assert.match(r.stdout, /error: s\.t: extract: the lake table raw\/s\/t does not exist in \S+lake, but state\.db records its extraction up to version 1 \(table id [0-9a-f-]+\): the lake was deleted or moved; .*run with --full-refresh to extract the table again/);
    assert.equal(fs.existsSync(path.join(dir, 'lake', 'raw')), false, 'nothing landed');
  }
  // `sluice load` alone says what the warehouse holds and that the lake lost it.
  const l = await run(dir, ['load']);
  assert.equal(l.code, 1, l.out);
  assert.match(l.stdout, /raw\.s__t holds lake versions up to 1 of raw\/s\/t, but the lake \S+ has no such table: the lake was deleted or moved; run with --full-refresh/);
  const f = await runOk(dir, ['run', '--full-refresh']);
  assert.equal(runSummary(f.stdout, 's.t').landed, '3');
  assert.deepEqual(whIds(dir), [1, 2, 3]);
  writeFiles(dir, { 'data/t3.csv': 'id\n4\n' });
  await runOk(dir);
  assert.deepEqual(whIds(dir), [1, 2, 3, 4]);
});

test("a deleted state.db: the next run recovers every commit's files done from the lake and lands nothing twice", async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n2\n' });
  await runOk(dir);
  writeFiles(dir, { 'data/t2.csv': 'id\n3\n' });
  await runOk(dir);
  writeFiles(dir, { 'data/t3.csv': 'id\n4\n' });
  await runOk(dir);
  fs.rmSync(path.join(dir, '.sluice'), { recursive: true });
  let r = await runOk(dir);
  assert.deepEqual(runSummary(r.stdout, 's.t').read, '0', r.stdout);
  assert.deepEqual(whIds(dir), [1, 2, 3, 4]);
  // and later files still land, once
  writeFiles(dir, { 'data/t4.csv': 'id\n5\n' });
  r = await runOk(dir);
  assert.equal(runSummary(r.stdout, 's.t').landed, '1');
  assert.deepEqual(whIds(dir), [1, 2, 3, 4, 5]);
});

test('a state.db from before lake marks still notices a deleted lake, from its ledger', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n2\n' });
  await runOk(dir);
  stateSql(dir, 'DELETE FROM lake_marks');
  fs.rmSync(path.join(dir, 'lake'), { recursive: true });
  const r = await run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /the lake table raw\/s\/t does not exist in \S+, but state\.db records 2 rows landed in it: the lake was deleted or moved; .*--full-refresh/);
  await runOk(dir, ['run', '--full-refresh']);
  assert.deepEqual(whIds(dir), [1, 2]);
});

test('a lake whose latest versions were removed fails the run; --full-refresh restores every row', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n2\n' });
  await runOk(dir);
  writeFiles(dir, { 'data/t2.csv': 'id\n3\n' });
  await runOk(dir);
  writeFiles(dir, { 'data/t3.csv': 'id\n4\n5\n' });
  await runOk(dir);
  assert.equal(deltaVersions(dir, 'raw/s/t').length, 3);
  fs.rmSync(logPath(dir, 'raw/s/t', 2));
  fs.rmSync(logPath(dir, 'raw/s/t', 1));
  const r = await run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /the lake table raw\/s\/t in \S+ ends at version 0, but state\.db records its extraction up to version 2: its latest versions were removed; .*--full-refresh/);
  // The warehouse side says it too.
  const l = await run(dir, ['load']);
  assert.equal(l.code, 1, l.out);
  assert.match(l.stdout, /raw\.s__t records lake version 2 of raw\/s\/t as loaded, but the lake table only has versions up to 0: its latest versions were removed or the lake was replaced; run with --full-refresh/);
  await runOk(dir, ['run', '--full-refresh']);
  assert.deepEqual(whIds(dir), [1, 2, 3, 4, 5]);
  // The lake restarted below what the warehouse had loaded: later loads
  // still go on from the new versions.
  writeFiles(dir, { 'data/t4.csv': 'id\n6\n' });
  await runOk(dir);
  assert.deepEqual(whIds(dir), [1, 2, 3, 4, 5, 6]);
});

test('an HTTP table whose lake was deleted fails instead of resuming from its watermark', async () => {
  api.records = [1, 2, 3].map(i => ({ id: i, updated_at: new Date(Date.UTC(2024, 0, i)).toISOString() }));
  const dir = project({
    'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: items\n    url: ${api.url}/cursor\n    records: data\n    pagination: {type: cursor, next: meta.next_cursor, param: cursor}\n    cursor: updated_at\n    params: {updated_since: "{{ watermark }}"}\n    primary_key: [id]\n    write: merge\n`,
  });
  await runOk(dir);
  assert.equal(whCount(dir, 'api__items'), 3);
  fs.rmSync(path.join(dir, 'lake'), { recursive: true });
  const r = await run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /the lake table raw\/api\/items does not exist in .*--full-refresh/);
  await runOk(dir, ['run', '--full-refresh']);
  assert.deepEqual(whIds(dir, 'api__items'), [1, 2, 3]);
});

// ------------------------------------------ state write failures (item 5)

// A trigger makes SQLite itself refuse one kind of state write: the real
// error path, no test hook in sluice.
function failStateWrites(dir, table, op, message, when = '') {
  stateSql(dir, `CREATE TRIGGER fail_${table} BEFORE ${op} ON ${table} ${when} BEGIN SELECT RAISE(ABORT, '${message}'); END;`);
}

test('a run whose end cannot be recorded in state.db fails with the reason', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n' });
  await runOk(dir);
  writeFiles(dir, { 'data/t2.csv': 'id\n2\n' });
  failStateWrites(dir, 'runs', 'UPDATE', 'disk quota exceeded');
  const r = await run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stderr, /sluice: run \S+: 1 table processed \(0 failed\), but recording the run's end failed: state db \S+state\.db: end run: disk quota exceeded/);
});

// Another process takes state.db's write lock while sluice extracts (when
// the API is called) and keeps it until sluice reports a failed state
// write, then lets go: sluice's busy timeout runs out on the write that
// follows its lake commit, for real.
test('state.db locked by another process after the lake commit: the run fails with the reason and is recorded as failed', async () => {
  const dir = project({});
  const db = path.join(dir, '.sluice', 'state.db');
  let holder = null;
  const lockState = () => new Promise((resolve, reject) => {
    holder = spawn('sqlite3', ['-batch', db]);
    holder.on('error', reject);
    holder.stdout.on('data', d => { if (String(d).includes('locked')) resolve(); });
    holder.stdin.write("BEGIN EXCLUSIVE;\nSELECT 'locked';\n");
  });
  const release = () => { if (holder) { holder.stdin.write('COMMIT;\n.quit\n'); holder = null; } };
  let lockOnce = true;
  const srv = http.createServer(async (req, res) => {
    if (lockOnce) { lockOnce = false; await lockState(); }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ data: [{ id: 1, v: 'a' }, { id: 2, v: 'b' }] }));
  });
  await new Promise(r => srv.listen(0, '127.0.0.1', r));
  try {
    writeFiles(dir, {
      'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: items\n    url: http://127.0.0.1:${srv.address().port}/items\n    records: data\n    primary_key: [id]\n    write: merge\n`,
    });
    const r = await new Promise((resolve, reject) => {
      const child = sluiceSpawn(['run', '--project-dir', dir]);
      let stdout = '', stderr = '';
      child.stdout.on('data', d => { stdout += d; });
      child.stderr.on('data', d => { stderr += d; if (/database is locked/.test(stderr)) release(); });
      child.on('error', reject);
      child.on('close', code => resolve({ code, stdout, stderr, out: stdout + stderr }));
    });
    release();
    assert.equal(r.code, 1, r.out);
    assert.match(r.stdout, /error: api\.items: extract: the rows are committed \(lake version 0\) but recording the source's progress failed \(the next run recovers it from the commit\): state db \S+state\.db: store lake mark: database is locked/);
    assert.match(stateSql(dir, 'SELECT status FROM runs'), /^failed\n$/);
    assert.match(stateSql(dir, "SELECT status, message FROM ledger"), /^failed\|extract api\.items: the rows are committed/);
    // The next run recovers the progress from the lake commit and loads once.
    await runOk(dir);
    assert.deepEqual(whIds(dir, 'api__items'), [1, 2]);
  } finally {
    release();
    await new Promise(r => srv.close(r));
  }
});

test('a ledger that cannot be recorded fails the table and the run', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n' });
  await runOk(dir);
  writeFiles(dir, { 'data/t2.csv': 'id\n2\n' });
  failStateWrites(dir, 'ledger', 'INSERT', 'disk I/O error');
  const r = await run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /error: s\.t: s\.t: recording its ledger failed: state db \S+: store ledger: disk I\/O error/);
  assert.equal(runSummary(r.stdout, 's.t').status, 'FAILED');
  assert.match(stateSql(dir, 'SELECT status, message FROM runs ORDER BY seq DESC LIMIT 1'), /^failed\|1 of 1 table failed/);
});

test('file-done marks that cannot be recorded fail the extract; the next run recovers them from the lake', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n' });
  await runOk(dir);
  writeFiles(dir, { 'data/t2.csv': 'id\n2\n' });
  failStateWrites(dir, 'files', 'INSERT', 'database or disk is full', "WHEN NEW.path LIKE '%t2.csv'");
  const r = await run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /error: s\.t: extract: the rows are committed \(lake version 1\) but recording the source's progress failed \(the next run recovers it from the commit\): state db \S+: mark file done: database or disk is full/);
  assert.match(stateSql(dir, "SELECT status FROM tasks WHERE task LIKE 'extract:%' ORDER BY task_id DESC LIMIT 1"), /^failed/);
  stateSql(dir, 'DROP TRIGGER fail_files');
  await runOk(dir);
  assert.deepEqual(whIds(dir), [1, 2]); // nothing lost, nothing twice
});

test('a task end that cannot be recorded fails the run', async () => {
  const dir = project({ 'sources/s.yml': csvTable(), 'data/t1.csv': 'id\n1\n' });
  await runOk(dir, ['extract']);
  failStateWrites(dir, 'tasks', 'UPDATE', 'attempt to write a readonly database');
  const r = await run(dir, ['load']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /error: s\.t: load: recording its outcome failed: state db \S+: end task: attempt to write a readonly database/);
});

// ---------------------------------------------- NULL primary keys (item 6)

test('CSV rows with a NULL primary key are quarantined with the reason; the rest merge', async () => {
  const dir = project({
    'sources/s.yml': `source: s\nkind: csv\ntables:\n  - name: t\n    path: data/t*.csv\n    columns: {id: int64, v: string}\n    primary_key: [id]\n    write: merge\n    max_bad_rows: 5\n`,
    'data/t1.csv': 'id,v\n1,a\n,b\n2,c\n',
  });
  const r = await runOk(dir);
  const s = runSummary(r.stdout, 's.t');
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded], ['3', '2', '1', '2']);
  assert.deepEqual(warehouseRows(dir, ['id', 'v'], 'raw.s__t ORDER BY id'), [[1, 'a'], [2, 'c']]);
  const q = await duckText(`SELECT reason, raw FROM read_parquet([${liveFiles(dir, 'quarantine/s/t').map(f => `'${f}'`).join(',')}])`);
  assert.deepEqual(q, [{ reason: 'primary key column "id" is null', raw: '{"id":null,"v":"b"}' }]);
  // Later loads keep working (before, every load failed until --full-refresh).
  writeFiles(dir, { 'data/t2.csv': 'id,v\n3,d\n,e\n' });
  const r2 = await runOk(dir);
  assert.equal(runSummary(r2.stdout, 's.t').quarantined, '1');
  assert.deepEqual(whIds(dir), [1, 2, 3]);
  const ledger = stateSql(dir, "SELECT rows_read, rows_landed, rows_quarantined, rows_loaded, status FROM ledger ORDER BY run_id");
  assert.equal(ledger, '3|2|1|2|ok\n2|1|1|1|ok\n');
});

test('a full batch of a wide table with a NULL key keeps every other row', async () => {
  // 12 columns and 70,000 rows: the copy without the NULL-key row holds
  // more rows than a wide batch's columns start with.
  const lines = ['id,' + Array.from({ length: 11 }, (_, i) => `c${i}`).join(',')];
  for (let r = 0; r < 70000; r++)
    lines.push((r === 5 ? '' : String(r)) + ',' + Array.from({ length: 11 }, (_, i) => r + i).join(','));
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: t\n    path: data/t*.csv\n    primary_key: [id]\n    max_bad_rows: 1\n',
    'data/t1.csv': lines.join('\n') + '\n',
  });
  const r = await runOk(dir);
  const s = runSummary(r.stdout, 's.t');
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded], ['70000', '69999', '1', '69999']);
  assert.deepEqual(warehouseRows(dir, ['count(*)', 'sum(c10)'], 'raw.s__t'), [[69999, 70000 * 69999 / 2 + 10 * 70000 - 15]]);
});

test('HTTP records with a NULL or missing primary key are quarantined with the reason', async () => {
  api.records = [
    { id: 1, name: 'a', updated_at: '2024-01-01T00:00:00Z' },
    { id: null, name: 'b', updated_at: '2024-01-02T00:00:00Z' },
    { name: 'c', updated_at: '2024-01-03T00:00:00Z' },
    { id: 4, name: 'd', updated_at: '2024-01-04T00:00:00Z' },
  ];
  const dir = project({
    'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: items\n    url: ${api.url}/cursor\n    records: data\n    pagination: {type: cursor, next: meta.next_cursor, param: cursor}\n    primary_key: [id]\n    write: merge\n    max_bad_rows: 2\n`,
  });
  const r = await runOk(dir);
  const s = runSummary(r.stdout, 'api.items');
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded], ['4', '2', '2', '2']);
  assert.deepEqual(whIds(dir, 'api__items'), [1, 4]);
  const q = await duckText(`SELECT reason FROM read_parquet([${liveFiles(dir, 'quarantine/api/items').map(f => `'${f}'`).join(',')}])`);
  assert.deepEqual(q.map(x => x.reason), ['primary key column "id" is null', 'primary key column "id" is null']);
});

test('a NULL primary key over max_bad_rows refuses the table: ledger says refused, not loaded -1', async () => {
  const dir = project({
    'sources/s.yml': csvTable('    primary_key: [id]\n    write: merge\n'),
    'data/t1.csv': 'id,v\n1,a\n,b\n2,c\n',
  });
  const r = await run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /1 bad row exceeds max_bad_rows=0/);
  const row = stateSql(dir, "SELECT rows_read, rows_landed, rows_quarantined, coalesce(rows_loaded, 'NULL'), status, message FROM ledger");
  assert.match(row, /^3\|0\|1\|NULL\|refused\|extract s\.t: 1 bad row exceeds max_bad_rows=0/);
});

// ------------------------------------------------------ long names (item 2)

test('two tables whose 250-byte names share a 240-byte prefix land in separate lake folders', async () => {
  const prefix = 'n'.repeat(240);
  const a = prefix + 'a'.repeat(10), b = prefix + 'b'.repeat(10);
  const src = 's'.repeat(250);
  const dir = project({
    'sources/s.yml': `source: ${src}\nkind: csv\ntables:\n  - name: ${a}\n    path: data/a*.csv\n    columns: {id: int64}\n  - name: ${b}\n    path: data/b*.csv\n    columns: {id: int64}\n`,
    'data/a1.csv': 'id\n1\n2\n',
    'data/b1.csv': 'id\n10\n20\n30\n',
  });
  await runOk(dir);
  for (const [t, n] of [[a, 2], [b, 3]]) {
    const lake = `raw/${src}/${t}`;
    assert.equal(deltaVersions(dir, lake).length, 1, lake);
    const rows = await duckText(`SELECT count(*) AS n FROM read_parquet([${liveFiles(dir, lake).map(f => `'${f}'`).join(',')}])`);
    assert.equal(Number(rows[0].n), n);
    assert.equal(whCount(dir, `${src}__${t}`), n);
  }
  const ledger = stateSql(dir, 'SELECT table_name, rows_landed FROM ledger ORDER BY table_name');
  assert.equal(ledger, `raw/${src}/${a}|2\nraw/${src}/${b}|3\n`);
});
