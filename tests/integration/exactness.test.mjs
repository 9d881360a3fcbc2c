// Adversarial end-to-end checks of sluice's promise to be exact about every
// row (CSV source -> lake -> SQLite warehouse): awkward files (empty,
// header-only, all bad, mixed compression, BOM, CRLF, batch boundaries,
// huge fields), changed files, max_bad_rows at and over its limit, kills
// during the warehouse load, concurrent processes, --select/--exclude,
// merges with NULL keys and strict typing. After each scenario the ledger
// of every run must reconcile (read = landed + quarantined) and, for
// append tables, the lake must hold exactly the rows the warehouse holds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { sluice, sluiceSpawn, tmpdir, writeFiles, duckText } from '../lib/harness.mjs';
import { runSummary, warehouseSql as sqlite, warehouseRows as sqliteRows } from '../lib/harness.mjs';
import { deltaVersions, liveFiles } from '../lib/harness.mjs';

// ------------------------------------------------------------------ helpers

process.setMaxListeners(200); // tmpdir() adds an exit listener per project

function project(files) {
  const dir = tmpdir();
  writeFiles(dir, { 'sluice.yml': 'name: t\nlake: ./lake\n', ...files });
  return dir;
}

// A csv source `s` with one table `t` reading data/<glob>.
function tableYml({ glob = 't*', columns = '{id: int64}', extra = '' } = {}) {
  return `source: s\nkind: csv\ntables:\n  - name: t\n    path: data/${glob}\n    columns: ${columns}\n${extra}`;
}


const plist = files => '[' + files.map(f => `'${f.replace(/'/g, "''")}'`).join(',') + ']';

// Rows of a query over a lake table's live files (text values), or [] when
// the table has no live file.
async function lakeRows(dir, table, select = '*', rest = '') {
  const files = liveFiles(dir, table);
  if (files.length === 0) return [];
  return duckText(`SELECT ${select} FROM read_parquet(${plist(files)}, union_by_name = true) ${rest}`);
}

async function lakeCount(dir, table) {
  const r = await lakeRows(dir, table, 'count(*) AS n');
  return r.length ? Number(r[0].n) : 0;
}



// Rows of raw.<source>__<table>, or null when the table does not exist.
function whCount(dir, source = 's', table = 't') {
  if (!fs.existsSync(path.join(dir, 'warehouse.raw.db'))) return null;
  const name = `${source}__${table}`;
  const exists = sqlite(dir, `SELECT count(*) FROM raw.sqlite_master WHERE type = 'table' AND name = '${name}';`).trim();
  if (exists === '0') return null;
  return sqliteRows(dir, ['count(*)'], `raw."${name}"`)[0][0];
}

// The summary line of one table (table files read landed quarantined
// loaded bytes seconds rows/s status).
function summary(stdout, table = 's.t') {
  const s = runSummary(stdout, table);
  const num = v => (v === '-' ? null : Number(v));
  return { files: num(s.files), read: num(s.read), landed: num(s.landed), quarantined: num(s.quarantined), loaded: num(s.loaded), status: s.status };
}

// Every ledger line of `sluice runs` (newest first).
function ledgers(dir) {
  const r = sluice(['runs', '--project-dir', dir, '--limit', '1000']);
  assert.equal(r.code, 0, r.stderr);
  // `sluice runs`: a line per run (id, command, status, ...), then its ledgers.
  const out = [];
  let status = null;
  for (const line of r.stdout.split('\n')) {
    const run = line.match(/^\S+\s+\S+\s+(running|success|failed)\s/);
    if (run) { status = run[1]; continue; }
    // "read R = landed L + quarantined Q" when the equation holds, else
    // "read R; landed L, quarantined Q: ..."; then "loaded N" or "not loaded"
    const m = line.match(/^\s+(\S+)\s+read (-?\d+)(?: = landed (-?\d+) \+ quarantined (-?\d+)|; landed (-?\d+), quarantined (-?\d+):[^;]*); (?:loaded (-?\d+)|not loaded)/);
    if (m) out.push({ table: m[1], read: +m[2], landed: +(m[3] ?? m[5]), quarantined: +(m[4] ?? m[6]), loaded: m[7] === undefined ? -1 : +m[7], status });
  }
  return out;
}

function run(dir, args = [], opts = {}) {
  const r = sluice([...(args.length ? args : ['run']), '--project-dir', dir], opts);
  r.out = r.stdout + r.stderr;
  return r;
}

function runOk(dir, args = []) {
  const r = run(dir, args);
  assert.equal(r.code, 0, r.out);
  return r;
}

// The end-of-scenario invariants: the run summary reconciles, every ledger
// in `sluice runs` reconciles, and an append table's lake rows are exactly
// its warehouse rows.
async function assertExact(dir, { stdout = null, append = true, source = 's', table = 't' } = {}) {
  if (stdout) {
    const s = summary(stdout, `${source}.${table}`);
    if (s.read !== null) assert.equal(s.read, s.landed + s.quarantined, `summary reconciles: ${JSON.stringify(s)}`);
  }
  // A failed run's ledger shows what it read and quarantined, and that it
  // landed nothing; the equation holds for the runs that succeeded.
  for (const l of ledgers(dir).filter(x => x.status === 'success'))
    assert.equal(l.read, l.landed + l.quarantined, `ledger reconciles: ${JSON.stringify(l)}`);
  if (append) {
    const lake = await lakeCount(dir, `raw/${source}/${table}`);
    const wh = whCount(dir, source, table);
    assert.equal(wh ?? 0, lake, `warehouse rows = lake rows for ${source}.${table}`);
  }
}

async function quarantineRows(dir, select = 'line, reason, raw', rest = 'ORDER BY line') {
  return lakeRows(dir, 'quarantine/s/t', select, rest);
}

// ------------------------------------------------------ awkward input files

test('a 0-byte file alone lands nothing and is not an error', async () => {
  const dir = project({ 'sources/s.yml': tableYml({ columns: '{}' }), 'data/t1.csv': '' });
  const r = runOk(dir);
  const s = summary(r.stdout);
  assert.deepEqual([s.files, s.read, s.landed, s.quarantined, s.status], [1, 0, 0, 0, 'ok']);
  await assertExact(dir, { stdout: r.stdout });
});

test('a 0-byte file in the glob does not block the table\'s other files', async () => {
    // t0.csv sorts first: the schema is inferred from it.
    const dir = project({
      'sources/s.yml': tableYml(),
      'data/t0.csv': '',
      'data/t1.csv': 'id,v\n1,a\n2,b\n',
    });
    let r = run(dir);
    assert.equal(r.code, 0, r.out);
    assert.equal(whCount(dir), 2);
    // An empty file that arrives next to a new data file.
    writeFiles(dir, { 'data/t2.csv': 'id,v\n3,c\n', 'data/t3.csv': '' });
    r = run(dir);
    assert.equal(r.code, 0, r.out);
    assert.equal(whCount(dir), 3);
    await assertExact(dir, { stdout: r.stdout });
  });

test('a header-only file lands no rows; the files after it still land once', async () => {
  const dir = project({ 'sources/s.yml': tableYml(), 'data/t0.csv': 'id,v\n' });
  let r = runOk(dir);
  assert.deepEqual([summary(r.stdout).read, summary(r.stdout).landed], [0, 0]);
  assert.equal(await lakeCount(dir, 'raw/s/t'), 0);
  writeFiles(dir, { 'data/t1.csv': 'id,v\n1,a\n', 'data/t2.csv': 'id,v' });
  r = runOk(dir);
  const s = summary(r.stdout);
  assert.deepEqual([s.files, s.read, s.landed, s.loaded], [2, 1, 1, 1]);
  assert.deepEqual(sqliteRows(dir, ['id', 'v'], 'raw.s__t'), [[1, 'a']]);
  r = runOk(dir);
  assert.equal(summary(r.stdout).read, 0);
  await assertExact(dir, { stdout: r.stdout });
});

test('a file of only bad rows: nothing landed, every row quarantined, the ledger reconciles', async () => {
  const dir = project({
    'sources/s.yml': tableYml({ extra: '    max_bad_rows: 10\n' }),
    'data/t1.csv': 'id,v\nx,a\ny,b\n3\n',
  });
  const r = runOk(dir);
  const s = summary(r.stdout);
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded], [3, 0, 3, 0]);
  const q = await quarantineRows(dir);
  assert.deepEqual(q.map(x => x.line), ['2', '3', '4']);
  assert.deepEqual(q.map(x => x.raw), ['x,a', 'y,b', '3']);
  assert.equal(whCount(dir) ?? 0, 0);
  await assertExact(dir, { stdout: r.stdout });
  // Not extracted again.
  assert.equal(summary(runOk(dir).stdout).read, 0);
  assert.equal((await quarantineRows(dir)).length, 3);
});

test('plain, gzip and zstd files of one table, with BOM, CRLF and no final newline: every row once, exact', async () => {
  const dir = project({
    'sources/s.yml': tableYml({ glob: 't*.csv*', columns: '{id: int64, v: string}' }),
    'data/t1.csv': 'id,v\n1,a\n2,"b,\nc"\n',
    'data/t2.csv.gz': zlib.gzipSync('id,v\n3,c\n4,d\n'),
    'data/t3.csv.zst': execFileSync('zstd', ['-q', '-c'], { input: 'id,v\n5,e\n6,f' }),
    'data/t4.csv': '\ufeffid,v\r\n7,g\r\n8,"h\r\ni"\r\n9,last',
    'data/t5.csv.gz': Buffer.concat([zlib.gzipSync('\ufeffid,v\r\n10,'), zlib.gzipSync('"multi\r\nmember"\r\n11,')]),
  });
  const r = runOk(dir);
  const s = summary(r.stdout);
  assert.deepEqual([s.files, s.read, s.landed, s.quarantined, s.loaded], [5, 11, 11, 0, 11]);
  const rows = sqliteRows(dir, ['id', 'v'], 'raw.s__t ORDER BY id');
  assert.deepEqual(rows, [[1, 'a'], [2, 'b,\nc'], [3, 'c'], [4, 'd'], [5, 'e'], [6, 'f'], [7, 'g'],
    [8, 'h\r\ni'], [9, 'last'], [10, 'multi\r\nmember'], [11, null]]);
  // Column names are clean (no BOM) in the lake and the warehouse.
  const names = sqliteRows(dir, ['name'], "pragma_table_info('s__t', 'raw')").map(x => x[0]);
  assert.deepEqual(names, ['id', 'v']);
  await assertExact(dir, { stdout: r.stdout });
});

test('quoted fields with delimiters and newlines across the 65536-row batch boundary', async () => {
  const n = 140000;
  const lines = ['id,v,w'];
  for (let i = 1; i <= n; i++) {
    // Around each batch boundary, and every 7th row, the field spans lines.
    const awkward = i % 7 === 0 || Math.abs(i - 65536) <= 2 || Math.abs(i - 131072) <= 2;
    lines.push(awkward ? `${i},"a,${i}\nb ""${i}""\r\nc",x${i}` : `${i},p${i},x${i}`);
  }
  const dir = project({
    'sources/s.yml': tableYml({ columns: '{id: int64, v: string, w: string}' }),
    'data/t1.csv': lines.join('\n') + '\n',
  });
  const r = runOk(dir);
  const s = summary(r.stdout);
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded], [n, n, 0, n]);
  const agg = sqliteRows(dir, ['count(*)', 'count(DISTINCT id)', 'sum(id)', "sum(w = 'x' || id)"], 'raw.s__t');
  assert.deepEqual(agg, [[n, n, n * (n + 1) / 2, n]]);
  const edge = sqliteRows(dir, ['id', 'v'], 'raw.s__t WHERE id BETWEEN 65535 AND 65537 ORDER BY id');
  assert.deepEqual(edge, [65535, 65536, 65537].map(i => [i, `a,${i}\nb "${i}"\r\nc`]));
  assert.deepEqual(sqliteRows(dir, ['v'], 'raw.s__t WHERE id = 65533'), [['p65533']]);
  await assertExact(dir, { stdout: r.stdout });
});

test('duplicate, spaced and unicode header names keep every column and value', async () => {
  const dir = project({
    'sources/s.yml': tableYml({ columns: '{}' }),
    'data/t1.csv': 'id,a,a," spaced name ",prix €,日付,a_1x\n1,x,y,z,9.5,2025-01-01,w\n',
  });
  const r = runOk(dir);
  const cols = sqliteRows(dir, ['name'], "pragma_table_info('s__t', 'raw')").map(x => x[0]);
  assert.deepEqual(cols, ['id', 'a', 'a_1', ' spaced name ', 'prix €', '日付', 'a_1x']);
  assert.deepEqual(sqliteRows(dir, cols.map(c => `CAST("${c}" AS TEXT)`), 'raw.s__t'),
    [['1', 'x', 'y', 'z', '9.5', '2025-01-01', 'w']]);
  const lake = await lakeRows(dir, 'raw/s/t', '"a_1", " spaced name ", "日付"');
  assert.deepEqual(lake, [{ a_1: 'y', ' spaced name ': 'z', '日付': '2025-01-01' }]);
  await assertExact(dir, { stdout: r.stdout });
});

test('a 1 MB field round-trips byte for byte', async () => {
  const big = Array.from({ length: 1 << 20 }, (_, i) => 'abcdefghij,"\n'[i % 13]).join('');
  const quoted = '"' + big.replace(/"/g, '""') + '"';
  const dir = project({
    'sources/s.yml': tableYml({ columns: '{id: int64, v: string}' }),
    'data/t1.csv': `id,v\n1,${quoted}\n2,after\n`,
  });
  const r = runOk(dir);
  assert.deepEqual([summary(r.stdout).read, summary(r.stdout).landed], [2, 2]);
  assert.deepEqual(sqliteRows(dir, ['id', 'length(v)'], 'raw.s__t ORDER BY id'), [[1, 1 << 20], [2, 5]]);
  const got = sqliteRows(dir, ['v'], 'raw.s__t WHERE id = 1')[0][0];
  assert.ok(got === big, 'the 1 MB value is unchanged');
  await assertExact(dir, { stdout: r.stdout });
});

// ------------------------------------------------------------ changed files

test('a file appended to after extraction is extracted again whole: an append table holds its first rows twice', async () => {
  // DESIGN.md: "a file that changed is extracted again". For an append
  // table that re-lands the rows extracted before.
  const dir = project({ 'sources/s.yml': tableYml(), 'data/t1.csv': 'id,v\n1,a\n2,b\n' });
  runOk(dir);
  fs.appendFileSync(path.join(dir, 'data/t1.csv'), '3,c\n');
  const r = runOk(dir);
  const s = summary(r.stdout);
  assert.deepEqual([s.files, s.read, s.landed, s.loaded], [1, 3, 3, 3]);
  assert.deepEqual(sqliteRows(dir, ['id', 'count(*)'], 'raw.s__t GROUP BY id ORDER BY id'), [[1, 2], [2, 2], [3, 1]]);
  await assertExact(dir, { stdout: r.stdout });
  // --full-refresh is the way back to one row per record.
  runOk(dir, ['run', '--full-refresh']);
  assert.deepEqual(sqliteRows(dir, ['id', 'count(*)'], 'raw.s__t GROUP BY id ORDER BY id'), [[1, 1], [2, 1], [3, 1]]);
  await assertExact(dir);
});

test('re-extracting a changed file of an append table is visible in the run output', () => {
    const dir = project({ 'sources/s.yml': tableYml(), 'data/t1.csv': 'id,v\n1,a\n2,b\n' });
    runOk(dir);
    fs.appendFileSync(path.join(dir, 'data/t1.csv'), '3,c\n');
    const r = runOk(dir);
    assert.match(r.out, /t1\.csv.*(changed|again|re-?extract)/i);
  });

// ------------------------------------------------------------ max_bad_rows

test('max_bad_rows: exactly at the limit lands; one over lands nothing; after fixing, each row lands once', async () => {
  const yml = n => tableYml({ extra: `    max_bad_rows: ${n}\n` });
  const csv = 'id,v\n1,a\nx,b\n3,c\ny,d\n5,e\n';
  let dir = project({ 'sources/s.yml': yml(2), 'data/t1.csv': csv });
  let r = runOk(dir);
  let s = summary(r.stdout);
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded, s.status], [5, 3, 2, 3, 'ok']);
  await assertExact(dir, { stdout: r.stdout });

  dir = project({ 'sources/s.yml': yml(1), 'data/t1.csv': csv });
  r = run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /2 bad rows exceed max_bad_rows=1/);
  assert.deepEqual(deltaVersions(dir, 'raw/s/t'), []);
  assert.equal(whCount(dir) ?? 0, 0);
  // The file is not marked done: the fixed config lands it, once.
  writeFiles(dir, { 'sources/s.yml': yml(2) });
  r = runOk(dir);
  s = summary(r.stdout);
  assert.deepEqual([s.read, s.landed, s.quarantined, s.loaded], [5, 3, 2, 3]);
  assert.deepEqual(sqliteRows(dir, ['id'], 'raw.s__t ORDER BY id'), [[1], [3], [5]]);
  // The quarantine keeps the failed run's rows too, told apart by run id.
  const q = await quarantineRows(dir, 'run_id, count(*) AS n', 'GROUP BY run_id ORDER BY run_id');
  assert.deepEqual(q.map(x => x.n), ['2', '2']);
  assert.equal(summary(runOk(dir).stdout).read, 0);
  await assertExact(dir);
});

test('a run failed by max_bad_rows records no landed rows in its ledger', async () => {
    const dir = project({
      'sources/s.yml': tableYml({ extra: '    max_bad_rows: 1\n' }),
      'data/t1.csv': 'id,v\n1,a\nx,b\n3,c\ny,d\n5,e\n',
    });
    const r = run(dir);
    assert.equal(r.code, 1);
    assert.equal(await lakeCount(dir, 'raw/s/t'), 0);
    assert.equal(summary(r.stdout).landed, 0, r.stdout);
    const l = ledgers(dir);
    assert.equal(l.length, 1);
    assert.equal(l[0].landed, 0, JSON.stringify(l[0]));
  });

test('quarantined rows carry the line where the record starts, counting newlines inside quotes', async () => {
  const dir = project({
    'sources/s.yml': tableYml({ columns: '{id: int64, v: string}', extra: '    max_bad_rows: 10\n' }),
    'data/t1.csv': [
      'id,v', //                     line 1
      '1,"two\nlines"', //           2-3
      'bad,x', //                    4
      '3,"three\n\nlines"', //       5-7
      '\n', //                       8-9 (blank: skipped)
      '4,"q",extra', //              10
      '"5\n5",y', //                 11-12: bad id that spans lines
      '6,ok', //                     13
      '7,"unterminated', //          14 (to the end)
    ].join('\n') + '\n',
  });
  const r = runOk(dir);
  const s = summary(r.stdout);
  assert.deepEqual([s.read, s.landed, s.quarantined], [7, 3, 4]);
  const q = await quarantineRows(dir);
  assert.deepEqual(q.map(x => x.line), ['4', '10', '11', '14']);
  assert.match(q[1].reason, /expected 2 fields, found 3/);
  assert.match(q[2].reason, /column "id"/);
  assert.equal(q[2].raw, '"5\n5",y');
  assert.match(q[3].reason, /unterminated/);
  assert.deepEqual(sqliteRows(dir, ['id', 'v'], 'raw.s__t ORDER BY id'),
    [[1, 'two\nlines'], [3, 'three\n\nlines'], [6, 'ok']]);
  await assertExact(dir, { stdout: r.stdout });
});

// ------------------------------------------------------- kills and races

test('SIGKILL during the SQLite load leaves no partial rows; the rerun loads every row once', async () => {
  const n = 400000;
  const parts = ['id,v,w'];
  for (let i = 1; i <= n; i++) parts.push(`${i},value number ${i} padded to be a little wider,${i % 97}`);
  const dir = project({
    'sources/s.yml': tableYml({ columns: '{id: int64, v: string, w: int64}' }),
    'data/t0.csv': 'id,v,w\n0,first,0\n',
  });
  runOk(dir);
  assert.equal(whCount(dir), 1);
  writeFiles(dir, { 'data/t1.csv': parts.join('\n') + '\n' });
  runOk(dir, ['extract']);
  const wal = path.join(dir, 'warehouse.raw.db-wal');
  const child = sluiceSpawn(['load', '--project-dir', dir]);
  child.stdout.resume();
  child.stderr.resume();
  const t0 = Date.now();
  let saw = false;
  while (Date.now() - t0 < 60000 && child.exitCode === null) {
    // The load's transaction spills pages into the WAL while it runs.
    if (fs.existsSync(wal) && fs.statSync(wal).size > (2 << 20)) { saw = true; break; }
    await new Promise(res => setTimeout(res, 2));
  }
  child.kill('SIGKILL');
  await new Promise(res => child.on('close', res));
  assert.ok(saw, 'the load was killed while writing');
  assert.equal(whCount(dir), 1, 'nothing of the killed load is visible');
  assert.deepEqual(sqliteRows(dir, ['count(*)'], "raw._sluice_loads WHERE table_name = 's__t'"), [[1]]);
  const r = runOk(dir, ['load']);
  assert.equal(summary(r.stdout).loaded, n);
  assert.deepEqual(sqliteRows(dir, ['count(*)', 'count(DISTINCT id)', 'sum(id)'], 'raw.s__t'), [[n + 1, n + 1, n * (n + 1) / 2]]);
  assert.equal(summary(runOk(dir, ['load']).stdout).loaded, 0);
  await assertExact(dir);
});

function spawnRun(dir, args) {
  return new Promise(resolve => {
    const child = sluiceSpawn([...args, '--project-dir', dir]);
    let out = '';
    child.stdout.on('data', d => { out += d; });
    child.stderr.on('data', d => { out += d; });
    child.on('close', code => resolve({ code, out }));
  });
}

function bigCsv(n) {
  const parts = ['id,v'];
  for (let i = 1; i <= n; i++) parts.push(`${i},row ${i}`);
  return parts.join('\n') + '\n';
}

test('two `sluice run` at once on the same new file land each row once', async () => {
    const n = 50000;
    const dir = project({ 'sources/s.yml': tableYml(), 'data/t1.csv': bigCsv(n) });
    const [a, b] = await Promise.all([spawnRun(dir, ['run']), spawnRun(dir, ['run'])]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    const lake = await lakeRows(dir, 'raw/s/t', 'count(*) AS n, count(DISTINCT id) AS d');
    assert.deepEqual(lake, [{ n: String(n), d: String(n) }]);
    assert.equal(whCount(dir), n);
  });

test('two `sluice load` at once load each lake version once', async () => {
    const n = 50000;
    const dir = project({ 'sources/s.yml': tableYml(), 'data/t1.csv': bigCsv(n) });
    runOk(dir, ['extract']);
    const [a, b] = await Promise.all([spawnRun(dir, ['load']), spawnRun(dir, ['load'])]);
    assert.equal(a.code + b.code, 0, a.out + b.out);
    assert.deepEqual(sqliteRows(dir, ['count(*)', 'count(DISTINCT id)'], 'raw.s__t'), [[n, n]]);
    assert.deepEqual(sqliteRows(dir, ['count(*)'], "raw._sluice_loads WHERE table_name = 's__t'"), [[1]]);
  });

// ------------------------------------------------------ --select, --exclude

test('--select runs one table and leaves the others untouched; --exclude skips', async () => {
  const yml = `source: s
kind: csv
tables:
  - name: t
    path: data/t*.csv
    columns: {id: int64}
  - name: u
    path: data/u*.csv
    columns: {id: int64}
`;
  const dir = project({
    'sources/s.yml': yml,
    'data/t1.csv': 'id,v\n1,a\n',
    'data/u1.csv': 'id,v\n1,a\n2,b\n',
  });
  let r = runOk(dir, ['run', '--select', 's.t']);
  assert.ok(!r.stdout.includes('s.u '), r.stdout);
  assert.equal(whCount(dir, 's', 't'), 1);
  assert.equal(whCount(dir, 's', 'u'), null);
  assert.deepEqual(deltaVersions(dir, 'raw/s/u'), []);
  // The unselected table's files were not marked done: it lands later, once.
  writeFiles(dir, { 'data/t2.csv': 'id,v\n2,b\n' });
  r = runOk(dir, ['run', '--exclude', 's.t']);
  assert.ok(!r.stdout.includes('s.t '), r.stdout);
  assert.equal(summary(r.stdout, 's.u').landed, 2);
  assert.equal(whCount(dir, 's', 't'), 1, 't2.csv waits for a run that selects t');
  r = runOk(dir);
  assert.equal(summary(r.stdout, 's.t').landed, 1);
  assert.equal(summary(r.stdout, 's.u').read, 0);
  assert.equal(whCount(dir, 's', 't'), 2);
  assert.equal(whCount(dir, 's', 'u'), 2);
  await assertExact(dir, { table: 't' });
  await assertExact(dir, { table: 'u' });
  // A selection that matches nothing is a usage error, not a silent no-op.
  r = run(dir, ['run', '--select', 's.nope']);
  assert.equal(r.code, 2, r.out);
});

// ------------------------------------------------------------ merge, types

test('a NULL primary key is quarantined at extraction: over max_bad_rows nothing lands, and later loads are not stuck', async () => {
  const dir = project({
    'sources/s.yml': tableYml({ columns: '{id: int64}', extra: '    primary_key: [id]\n    write: merge\n' }),
    'data/t1.csv': 'id,v\n1,a\n,b\n2,c\n',
  });
  const r = run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /1 bad rows exceed max_bad_rows=0/);
  assert.equal(summary(r.stdout).status, 'FAILED');
  assert.equal(whCount(dir) ?? 0, 0);
  assert.equal(await lakeCount(dir, 'raw/s/t'), 0);
  // The row is in quarantine with its reason (not dropped) ...
  assert.deepEqual((await quarantineRows(dir, 'reason, raw', '')).map(x => [x.reason, x.raw]),
    [['primary key column "id" is null', '{"id":null,"v":"b"}']]);
  // ... and once the source is fixed, a plain run loads everything: the bad
  // row never reached the lake, so nothing is stuck.
  writeFiles(dir, { 'data/t1.csv': 'id,v\n1,a\n4,b\n2,c\n', 'data/t2.csv': 'id,v\n3,d\n' });
  const f = runOk(dir);
  assert.equal(summary(f.stdout).loaded, 4);
  assert.deepEqual(sqliteRows(dir, ['id', 'v'], 'raw.s__t ORDER BY id'), [[1, 'a'], [2, 'c'], [3, 'd'], [4, 'b']]);
  await assertExact(dir, { stdout: f.stdout, append: false });
});

test('a decimal with more fractional digits than its scale is quarantined with a reason, never rounded', async () => {
  const dir = project({
    'sources/s.yml': tableYml({ columns: '{id: int64, d: "decimal(10,2)"}', extra: '    max_bad_rows: 10\n' }),
    'data/t1.csv': 'id,d\n1,1.234\n2,1.230\n3,-0.005\n4,99999999.99\n5,100000000.00\n6,0.10000\n7,12.3\n8,1.2345678901234567890123\n',
  });
  const r = runOk(dir);
  assert.deepEqual(sqliteRows(dir, ['id', 'CAST(d AS TEXT)'], 'raw.s__t ORDER BY id'),
    [[2, '1.23'], [4, '99999999.99'], [6, '0.10'], [7, '12.30']]);
  const q = await quarantineRows(dir);
  assert.deepEqual(q.map(x => x.line), ['2', '4', '6', '9']);
  for (const x of q) assert.match(x.reason, /column "d": .* is not a valid decimal\(10,2\)/);
  assert.match(q[0].reason, /'1\.234'/);
  await assertExact(dir, { stdout: r.stdout });
});

test('timestamps with offsets land as the UTC instant; old dates and leap days are exact; impossible dates are quarantined', async () => {
  const dir = project({
    'sources/s.yml': tableYml({ columns: '{id: int64, dt: date, ts: timestamp}', extra: '    max_bad_rows: 10\n' }),
    'data/t1.csv': [
      'id,dt,ts',
      '1,2024-02-29,2025-06-30T12:00:00+02:00',
      '2,1969-07-20,1969-07-20T20:17:40-05:00',
      '3,1900-01-01,2024-02-29T23:59:59+14:00',
      '4,1600-02-29,2024-03-01T00:30:00+05:30',
      '5,0001-01-01,1970-01-01T00:00:00.000001-00:00',
      '6,2023-02-29,2025-01-01T00:00:00Z',
      '7,2024-01-01,2023-02-29T00:00:00Z',
      '8,1900-02-29,2024-01-01',
      '9,2024-04-31,2024-01-01',
      '10,2024-01-01,2024-01-01T25:00:00Z',
    ].join('\n') + '\n',
  });
  const r = runOk(dir);
  assert.deepEqual(sqliteRows(dir, ['id', 'dt', 'ts'], 'raw.s__t ORDER BY id'), [
    [1, '2024-02-29', '2025-06-30 10:00:00.000000'],
    [2, '1969-07-20', '1969-07-21 01:17:40.000000'],
    [3, '1900-01-01', '2024-02-29 09:59:59.000000'],
    [4, '1600-02-29', '2024-02-29 19:00:00.000000'],
    [5, '0001-01-01', '1970-01-01 00:00:00.000001'],
  ]);
  // The lake holds the same instants (DuckDB reads them as UTC).
  const lake = await lakeRows(dir, 'raw/s/t', 'id, epoch_us(ts) AS us, dt', 'ORDER BY id');
  assert.deepEqual(lake.map(x => [x.id, x.us, x.dt]), [
    ['1', String(Date.UTC(2025, 5, 30, 10) * 1000), '2024-02-29'],
    ['2', String(Date.UTC(1969, 6, 21, 1, 17, 40) * 1000), '1969-07-20'],
    ['3', String(Date.UTC(2024, 1, 29, 9, 59, 59) * 1000), '1900-01-01'],
    ['4', String(Date.UTC(2024, 1, 29, 19) * 1000), '1600-02-29'],
    ['5', '1', '0001-01-01'],
  ]);
  const q = await quarantineRows(dir);
  assert.deepEqual(q.map(x => x.line), ['7', '8', '9', '10', '11']);
  assert.match(q[0].reason, /column "dt": '2023-02-29' is not a valid date/);
  assert.match(q[1].reason, /column "ts": '2023-02-29T00:00:00Z'/);
  assert.match(q[2].reason, /'1900-02-29'/);
  await assertExact(dir, { stdout: r.stdout });
});

test('integers out of range, invalid UTF-8 and wrong field counts are quarantined; NUL bytes are kept', async () => {
  const dir = project({
    'sources/s.yml': tableYml({ columns: '{id: int64, n: int32, v: string}', extra: '    max_bad_rows: 10\n' }),
    'data/t1.csv': Buffer.concat([
      Buffer.from('id,n,v\n1,2147483647,ok\n9223372036854775808,1,a\n3,2147483648,b\n4,1,bad'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('\n5,1,"nul\0inside"\n6,1\n7,1,c,d\n-9223372036854775808,-2147483648,min\n'),
    ]),
  });
  const r = runOk(dir);
  const s = summary(r.stdout);
  assert.deepEqual([s.read, s.landed, s.quarantined], [8, 3, 5]);
  assert.deepEqual(sqliteRows(dir, ['CAST(id AS TEXT)', 'n', 'hex(v)'], 'raw.s__t ORDER BY id'), [
    ['-9223372036854775808', -2147483648, '6D696E'],
    ['1', 2147483647, '6F6B'],
    ['5', 1, Buffer.from('nul\0inside').toString('hex').toUpperCase()],
  ]);
  const q = await quarantineRows(dir);
  assert.deepEqual(q.map(x => x.line), ['3', '4', '5', '7', '8']);
  assert.match(q[0].reason, /column "id"/);
  assert.match(q[1].reason, /column "n"/);
  assert.match(q[2].reason, /UTF-8/);
  assert.equal(q[2].raw, '4,1,bad\\xff\\xfe');
  await assertExact(dir, { stdout: r.stdout });
});

test('files of one table with a different header fail the task and land nothing of that run', async () => {
  const dir = project({
    'sources/s.yml': tableYml(),
    'data/t1.csv': 'id,v\n1,a\n',
    'data/t2.csv': 'id,w\n2,b\n',
  });
  const r = run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /t2\.csv: column 2 is "w" but the table's column 2 is "v"/);
  assert.deepEqual(deltaVersions(dir, 'raw/s/t'), []);
  assert.equal(whCount(dir) ?? 0, 0);
  // Moving the odd file away lands the rest, once.
  fs.renameSync(path.join(dir, 'data/t2.csv'), path.join(dir, 'data/x2.csv'));
  const ok = runOk(dir);
  assert.equal(summary(ok.stdout).landed, 1);
  assert.equal(whCount(dir), 1);
  await assertExact(dir, { stdout: ok.stdout });
});

test('many small runs: the ledger of every run reconciles and the lake equals the warehouse', async () => {
  const dir = project({ 'sources/s.yml': tableYml({ extra: '    max_bad_rows: 100\n' }) });
  let expected = 0;
  for (let k = 1; k <= 6; k++) {
    const rows = ['id,v'];
    for (let i = 0; i < k * 10; i++) rows.push(i % 9 === 4 ? `bad${i},x` : `${k * 1000 + i},r`);
    expected += rows.slice(1).filter(x => !x.startsWith('bad')).length;
    writeFiles(dir, { [`data/t${k}.csv`]: rows.join('\n') + '\n' });
    const r = runOk(dir, k % 2 ? ['run'] : ['extract']);
    if (k % 2 === 0) runOk(dir, ['load']);
    await assertExact(dir, { stdout: r.stdout });
  }
  assert.equal(whCount(dir), expected);
  const l = ledgers(dir).filter(x => x.read > 0);
  assert.equal(l.reduce((a, x) => a + x.landed, 0), expected);
  assert.equal(l.reduce((a, x) => a + x.quarantined, 0), await lakeCount(dir, 'quarantine/s/t'));
});

// ------------------------------------------------------ failures mid-way

test('a truncated or corrupt .gz/.zst file fails the task and lands nothing of the run', async () => {
  const body = bigCsv(60000);
  const gz = zlib.gzipSync(body);
  const zst = execFileSync('zstd', ['-q', '-c'], { input: body, maxBuffer: 64 << 20 });
  const cases = {
    'truncated gzip': { 'data/t2.csv.gz': gz.subarray(0, gz.length >> 1) },
    'gzip with trailing garbage': { 'data/t2.csv.gz': Buffer.concat([gz, Buffer.from('garbage')]) },
    'truncated zstd': { 'data/t2.csv.zst': zst.subarray(0, zst.length >> 1) },
    'not gzip at all': { 'data/t2.csv.gz': body },
  };
  for (const [name, files] of Object.entries(cases)) {
    const dir = project({ 'sources/s.yml': tableYml({ glob: 't*.csv*' }), 'data/t1.csv': 'id,v\n0,zero\n', ...files });
    const r = run(dir);
    assert.equal(r.code, 1, `${name}: ${r.out}`);
    assert.match(r.stdout, /t2\.csv\.(gz|zst)/, name);
    assert.deepEqual(deltaVersions(dir, 'raw/s/t'), [], name);
    assert.equal(whCount(dir) ?? 0, 0, name);
    // Replacing the bad file with a good one lands everything once.
    fs.rmSync(path.join(dir, Object.keys(files)[0]));
    writeFiles(dir, { 'data/t2.csv.gz': gz });
    const ok = runOk(dir);
    assert.equal(summary(ok.stdout).landed, 60001, name);
    await assertExact(dir, { stdout: ok.stdout });
  }
});

test('a warehouse load that fails mid-way inserts nothing; the next run loads every pending version once', async () => {
  const dir = project({ 'sources/s.yml': tableYml(), 'data/t1.csv': 'id,v\n1,a\n2,b\n' });
  runOk(dir);
  // A trigger makes the warehouse reject the third row of the next load.
  sqlite(dir, "CREATE TRIGGER raw.boom BEFORE INSERT ON s__t WHEN NEW.id = 4 BEGIN SELECT RAISE(ABORT, 'boom'); END;");
  writeFiles(dir, { 'data/t2.csv': 'id,v\n3,c\n4,d\n5,e\n' });
  let r = run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.stdout, /boom/);
  let s = summary(r.stdout);
  assert.deepEqual([s.landed, s.status], [3, 'FAILED']);
  assert.deepEqual(sqliteRows(dir, ['id'], 'raw.s__t ORDER BY id'), [[1], [2]]);
  // Still failing: the lake keeps landing, the warehouse stays as it was.
  writeFiles(dir, { 'data/t3.csv': 'id,v\n6,f\n' });
  assert.equal(run(dir).code, 1);
  assert.deepEqual(sqliteRows(dir, ['count(*)'], 'raw.s__t'), [[2]]);
  sqlite(dir, 'DROP TRIGGER raw.boom;');
  r = runOk(dir);
  s = summary(r.stdout);
  assert.deepEqual([s.read, s.loaded], [0, 4]);
  assert.deepEqual(sqliteRows(dir, ['count(*)', 'count(DISTINCT id)', 'sum(id)'], 'raw.s__t'), [[6, 6, 21]]);
  // Over all runs, rows landed = rows loaded.
  const l = ledgers(dir);
  assert.equal(l.reduce((a, x) => a + x.landed, 0), 6);
  assert.equal(l.reduce((a, x) => a + Math.max(x.loaded, 0), 0), 6);
  await assertExact(dir);
});

// ------------------------------------------------------ naming and paths

test('write: replace on a file glob: the table becomes the rows of the run\'s new files', async () => {
  // Pinned behaviour, not an endorsement: with file-incremental extraction,
  // a replace table drops the rows of older files that still match the
  // glob as soon as a new file arrives (right for daily full snapshots,
  // surprising for partitioned dumps).
  const dir = project({
    'sources/s.yml': tableYml({ extra: '    write: replace\n' }),
    'data/t1.csv': 'id,v\n1,a\n2,b\n',
  });
  runOk(dir);
  writeFiles(dir, { 'data/t2.csv': 'id,v\n3,c\n' });
  let r = runOk(dir);
  assert.deepEqual(sqliteRows(dir, ['id'], 'raw.s__t ORDER BY id'), [[3]]);
  assert.deepEqual((await lakeRows(dir, 'raw/s/t', 'id')).map(x => x.id), ['3']);
  // A run with nothing new keeps the table.
  r = runOk(dir);
  assert.equal(summary(r.stdout).read, 0);
  assert.deepEqual(sqliteRows(dir, ['id'], 'raw.s__t ORDER BY id'), [[3]]);
  // --full-refresh gives every matching file's rows.
  runOk(dir, ['run', '--full-refresh']);
  assert.deepEqual(sqliteRows(dir, ['id'], 'raw.s__t ORDER BY id'), [[1], [2], [3]]);
  await assertExact(dir);
});

test('a project folder whose path holds glob characters reads its own files only', async () => {
    const parent = tmpdir();
    const dir = path.join(parent, 'p[1]');
    writeFiles(dir, { 'sluice.yml': 'name: t\nlake: ./lake\n', 'sources/s.yml': tableYml(), 'data/t1.csv': 'id,v\n1,mine\n' });
    writeFiles(path.join(parent, 'p1'), { 'data/t9.csv': 'id,v\n666,not mine\n' });
    const r = run(dir);
    assert.deepEqual(sqliteRows(dir, ['id', 'v'], 'raw.s__t ORDER BY id'), [[1, 'mine']], r.out);
  });

test('two source tables whose warehouse names collide are rejected as a config error', () => {
    const dir = project({
      'sources/a.yml': 'source: s\nkind: csv\ntables:\n  - name: x__y\n    path: data/a*.csv\n',
      'sources/b.yml': 'source: s__x\nkind: csv\ntables:\n  - name: y\n    path: data/b*.csv\n',
      'data/a1.csv': 'id\n1\n',
      'data/b1.csv': 'id\n2\n',
    });
    const r = run(dir);
    assert.equal(r.code, 2, r.out);
    assert.match(r.stderr, /s__x__y/);
  });
