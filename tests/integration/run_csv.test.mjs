// `sluice run` on CSV sources: files land as Parquet lake tables that DuckDB
// reads back with the same values; bad rows are quarantined with their line
// and reason; runs are incremental by file; a killed run leaves the table at
// its previous version and the rerun lands every row exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, sluiceSpawn, tmpdir, writeFiles, duck, duckText } from '../lib/harness.mjs';
import { deltaVersions, liveFiles } from '../lib/harness.mjs';

function project(files) {
  const dir = tmpdir();
  writeFiles(dir, { 'sluice.yml': 'name: t\nlake: ./lake\n', ...files });
  return dir;
}


function parquetList(files) {
  return '[' + files.map(f => `'${f}'`).join(',') + ']';
}

const ordersYml = `source: shop
kind: csv
tables:
  - name: orders
    path: data/orders_*.csv
    columns: {id: int64, amount: "decimal(10,2)", at: timestamp}
    max_bad_rows: 5
`;

test('csv rows land in the lake and DuckDB reads the same values', async () => {
  const dir = project({
    'sources/shop.yml': ordersYml,
    'data/orders_1.csv': 'id,amount,at,note\n1,12.50,2025-01-02T03:04:05Z,"hello, ""world"""\n2,,2025-01-03 00:00:00,\n3,-0.01,2025-01-04T00:00:00.123456Z,"two\nlines"\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /shop\.orders\s+1\s+3\s+3\s+0/);
  const files = liveFiles(dir, 'raw/shop/orders');
  assert.equal(files.length, 1);
  const rows = await duckText(`SELECT id, amount, "at", note FROM read_parquet(${parquetList(files)}) ORDER BY id`);
  assert.deepEqual(rows.map(x => x.id), ['1', '2', '3']);
  assert.deepEqual(rows.map(x => x.amount), ['12.50', null, '-0.01']);
  assert.equal(rows[1].note, null);
  assert.equal(rows[0].note, 'hello, "world"');
  assert.equal(rows[2].note, 'two\nlines');
  const types = await duck(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${parquetList(files)}))`);
  const t = Object.fromEntries(types.map(x => [x.column_name, x.column_type]));
  assert.equal(t.id, 'BIGINT');
  assert.equal(t.amount, 'DECIMAL(10,2)');
  assert.match(t.at, /^TIMESTAMP/);
  assert.equal(t.note, 'VARCHAR');
  const ts = await duckText(`SELECT epoch_us("at"::TIMESTAMP) AS us FROM read_parquet(${parquetList(files)}) ORDER BY id`);
  assert.deepEqual(ts.map(x => x.us), ['1735787045000000', '1735862400000000', '1735948800123456']);
});

test('bad rows go to quarantine with file, line and reason; counts reconcile', async () => {
  const dir = project({
    'sources/shop.yml': ordersYml,
    'data/orders_1.csv': 'id,amount,at,note\n1,1.00,2025-01-01,a\n2,abc,2025-01-01,b\n3,3.00,2025-01-01\n4,4.00,2025-01-01,"multi\nline"\n5,5.00,not a time,c\n6,6.00,2025-01-01,d\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /shop\.orders\s+1\s+6\s+3\s+3/);
  assert.match(r.stdout, /3 rows quarantined/);
  const q = liveFiles(dir, 'quarantine/shop/orders');
  assert.ok(q.length >= 1);
  const rows = await duckText(`SELECT source_file, line, reason, raw FROM read_parquet(${parquetList(q)}) ORDER BY line`);
  assert.deepEqual(rows.map(x => x.line), ['3', '4', '7']);
  assert.ok(rows.every(x => x.source_file.endsWith('orders_1.csv')));
  assert.match(rows[0].reason, /amount/);
  assert.match(rows[0].reason, /abc/);
  assert.match(rows[1].reason, /field/);
  assert.match(rows[2].reason, /not a time/);
  assert.equal(rows[0].raw, '2,abc,2025-01-01,b');
  const runs = sluice(['runs', '--project-dir', dir]);
  assert.equal(runs.code, 0, runs.stderr);
  assert.match(runs.stdout, /read 6 = landed 3 \+ quarantined 3/);
});

test('max_bad_rows exceeded fails the task and lands nothing', async () => {
  const dir = project({
    'sources/shop.yml': ordersYml.replace('max_bad_rows: 5', 'max_bad_rows: 0'),
    'data/orders_1.csv': 'id,amount,at,note\n1,1.00,2025-01-01,a\n2,abc,2025-01-01,b\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /1 bad row exceeds max_bad_rows=0/);
  assert.deepEqual(deltaVersions(dir, 'raw/shop/orders'), []);
  assert.equal(deltaVersions(dir, 'quarantine/shop/orders').length, 1);
});

test('runs are incremental by file; --full-refresh re-extracts', async () => {
  const dir = project({
    'sources/shop.yml': ordersYml,
    'data/orders_1.csv': 'id,amount,at,note\n1,1.00,2025-01-01,a\n2,2.00,2025-01-01,b\n',
  });
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /shop\.orders\s+0\s+0\s+0\s+0/);
  writeFiles(dir, { 'data/orders_2.csv': 'id,amount,at,note\n3,3.00,2025-01-02,c\n' });
  r = sluice(['run', '--project-dir', dir]);
  assert.match(r.stdout, /shop\.orders\s+1\s+1\s+1\s+0/);
  const all = await duck(`SELECT count(*)::INT AS n FROM read_parquet(${parquetList(liveFiles(dir, 'raw/shop/orders'))})`);
  assert.equal(all[0].n, 3);
  // A file that changed is extracted again.
  writeFiles(dir, { 'data/orders_2.csv': 'id,amount,at,note\n3,3.00,2025-01-02,c\n4,4.00,2025-01-02,d\n' });
  r = sluice(['run', '--project-dir', dir]);
  assert.match(r.stdout, /shop\.orders\s+1\s+2\s+2\s+0/);
  r = sluice(['run', '--project-dir', dir, '--full-refresh']);
  assert.match(r.stdout, /shop\.orders\s+2\s+4\s+4\s+0/);
  // The full refresh replaced the table's content instead of appending it
  // again: the lake and the warehouse hold each row once.
  const lake = await duck(`SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d FROM read_parquet(${parquetList(liveFiles(dir, 'raw/shop/orders'))})`);
  assert.deepEqual(lake, [{ n: 4, d: 4 }]);
  assert.match(r.stdout, /shop\.orders\s+2\s+4\s+4\s+0\s+4\s/);
});

test('a run killed after its lake commit is recovered: the rerun lands nothing twice', async () => {
  const dir = project({
    'sources/shop.yml': ordersYml,
    'data/orders_1.csv': 'id,amount,at,note\n1,1.00,2025-01-01,a\n2,2.00,2025-01-01,b\n',
  });
  const r1 = sluice(['run', '--project-dir', dir], { env: { SLUICE_TEST_CRASH_AFTER: 'lake_commit' } });
  assert.equal(r1.code, 137);
  assert.equal(deltaVersions(dir, 'raw/shop/orders').length, 1);
  const r2 = sluice(['run', '--project-dir', dir]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /shop\.orders\s+0\s+0\s+0\s+0/);
  const n = await duck(`SELECT count(*)::INT AS n FROM read_parquet(${parquetList(liveFiles(dir, 'raw/shop/orders'))})`);
  assert.equal(n[0].n, 2);
});

test('SIGKILL while writing leaves the previous version; the rerun lands every row once', async () => {
  const rows = 400000;
  let body = 'id,amount,at,note\n';
  const parts = [];
  for (let i = 1; i <= rows; i++) parts.push(`${i},${i % 1000}.25,2025-01-01T00:00:${String(i % 60).padStart(2, '0')}Z,note ${i}`);
  body += parts.join('\n') + '\n';
  const dir = project({
    'sources/shop.yml': ordersYml,
    'data/orders_0.csv': 'id,amount,at,note\n0,0.00,2025-01-01,first\n',
  });
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  assert.equal(deltaVersions(dir, 'raw/shop/orders').length, 1);
  writeFiles(dir, { 'data/orders_1.csv': body });
  const child = sluiceSpawn(['run', '--project-dir', dir]);
  const tableDir = path.join(dir, 'lake', 'raw/shop/orders');
  // Wait until the run is writing a data file, then kill it.
  const started = Date.now();
  let saw = false;
  while (Date.now() - started < 60000) {
    const walk = d => fs.readdirSync(d, { withFileTypes: true }).flatMap(e =>
      e.isDirectory() ? walk(path.join(d, e.name)) : [e.name]);
    if (walk(tableDir).some(f => f.includes('.tmp-'))) { saw = true; break; }
    if (child.exitCode !== null) break;
    await new Promise(res => setTimeout(res, 5));
  }
  child.kill('SIGKILL');
  await new Promise(res => child.on('close', res));
  assert.ok(saw, 'the run was killed while writing a data file');
  assert.equal(deltaVersions(dir, 'raw/shop/orders').length, 1, 'table stays at its previous version');
  let n = await duck(`SELECT count(*)::INT AS n FROM read_parquet(${parquetList(liveFiles(dir, 'raw/shop/orders'))})`);
  assert.equal(n[0].n, 1);
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  n = await duck(`SELECT count(*)::INT AS n, count(DISTINCT id)::INT AS d, sum(id)::BIGINT AS s FROM read_parquet(${parquetList(liveFiles(dir, 'raw/shop/orders'))})`);
  assert.equal(n[0].n, rows + 1);
  assert.equal(n[0].d, rows + 1);
  assert.equal(BigInt(n[0].s), BigInt(rows) * BigInt(rows + 1) / 2n);
  // vacuum removes the killed run's leftovers and nothing else
  const v = sluice(['lake', 'vacuum', 'raw/shop/orders', '--retain', '0s', '--project-dir', dir]);
  assert.equal(v.code, 0, v.stderr);
  n = await duck(`SELECT count(*)::INT AS n FROM read_parquet(${parquetList(liveFiles(dir, 'raw/shop/orders'))})`);
  assert.equal(n[0].n, rows + 1);
});

test('config errors name the file and line and exit 2', () => {
  const dir = project({
    'sources/shop.yml': ordersYml.replace('max_bad_rows: 5', 'max_bad_row: 5'),
    'data/orders_1.csv': 'id,amount,at,note\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /shop\.yml:7/);
  assert.match(r.stderr, /max_bad_row/);
  assert.match(r.stderr, /did you mean "max_bad_rows"/);
});

test('demo project runs end to end', () => {
  const dir = path.join(tmpdir(), 'demo');
  let r = sluice(['demo', dir]);
  assert.equal(r.code, 0, r.stderr);
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /shop_files\.customers\s+1\s+1000\s+1000\s+0/);
  assert.match(r.stdout, /shop_files\.orders\s+2\s+40002\s+40000\s+2/);
});

test('a terminal shows a progress line while extracting; a pipe does not', async () => {
  const rows = [];
  for (let i = 1; i <= 300000; i++) rows.push(`${i},${i % 100}.50,2025-01-01T00:00:00Z,progress row ${i}`);
  const dir = project({
    'sources/shop.yml': ordersYml,
    'data/orders_1.csv': 'id,amount,at,note\n' + rows.join('\n') + '\n',
  });
  const { execFileSync } = await import('node:child_process');
  const { SLUICE } = await import('../lib/harness.mjs');
  // script(1) gives sluice a pseudo-terminal for stdout and stderr.
  const tty = execFileSync('script', ['-qfec', `${SLUICE} extract --project-dir ${dir}`, '/dev/null'],
    { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.match(tty, /\r\x1b\[K {2}shop\.orders: \d+ rows, [\d.]+ MB\/s/);
  assert.match(tty, /shop\.orders\s+1\s+300000\s+300000\s+0/);
  writeFiles(dir, { 'data/orders_2.csv': 'id,amount,at,note\n' + rows.join('\n').replace(/progress/g, 'again') + '\n' });
  const piped = sluice(['extract', '--project-dir', dir]);
  assert.equal(piped.code, 0, piped.stderr);
  assert.doesNotMatch(piped.stdout + piped.stderr, /MB\/s|\x1b\[K/);
});

test('--log-format json writes one JSON object per line with each table\'s counts', () => {
  const dir = project({
    'sources/shop.yml': ordersYml,
    'data/orders_1.csv': 'id,amount,at,note\n1,1.00,2025-01-01,a\n2,bad,2025-01-01,b\n',
  });
  const r = sluice(['--log-level', 'info', '--log-format', 'json', 'run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trim().split('\n').map(l => JSON.parse(l));
  assert.ok(lines.every(l => l.ts && l.level && l.msg));
  const done = lines.find(l => l.msg === 'table done' && l.table === 'shop.orders');
  assert.ok(done, r.stderr);
  assert.deepEqual([done.rows_read, done.rows_landed, done.rows_quarantined, done.rows_loaded], ['2', '1', '1', '1']);
  assert.ok(lines.some(l => /finished: 1 table, 0 failed/.test(l.msg)));
  // a table whose extract failed has no rows_loaded or lake_version field,
  // rather than a -1 placeholder
  writeFiles(dir, { 'data/orders_2.csv': 'other,header\n1,2\n' });
  const f = sluice(['--log-format', 'json', 'run', '--project-dir', dir]);
  assert.equal(f.code, 1, f.stderr);
  const failed = f.stderr.trim().split('\n').map(l => JSON.parse(l)).find(l => l.msg === 'table failed');
  assert.ok(failed, f.stderr);
  assert.equal(failed.table, 'shop.orders');
  assert.ok(!('rows_loaded' in failed) && !('lake_version' in failed), JSON.stringify(failed));
});

test('a task that fails while reading reports the rows it read, and that none landed', () => {
  const dir = project({
    'sources/shop.yml': 'source: s\nkind: csv\ntables:\n  - name: t\n    path: data/*.csv\n',
    'data/a.csv': 'id\n1\n2\n',
    'data/b.csv': 'other\n3\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^s\.t\s+1\s+2\s+0\s+0\s+-\s/m);
  const runs = sluice(['runs', '--project-dir', dir]);
  assert.match(runs.stdout, /read 2; landed 0, quarantined 0: 2 rows neither landed nor quarantined \(the task failed\); not loaded/);
});

test('bytes read count decompressed bytes, for a gzip CSV and a gzip JSON lines file alike', async () => {
  const zlib = await import('node:zlib');
  const csv = 'id,v\n' + Array.from({ length: 2000 }, (_, i) => `${i},value ${i}`).join('\n') + '\n';
  const jsonl = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i, v: `value ${i}` })).join('\n') + '\n';
  const dir = project({
    'sources/f.yml': 'source: f\nkind: csv\ntables:\n  - name: a\n    path: data/a.csv.gz\n  - name: b\n    path: data/b.jsonl.gz\n',
  });
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'data/a.csv.gz'), zlib.gzipSync(csv));
  fs.writeFileSync(path.join(dir, 'data/b.jsonl.gz'), zlib.gzipSync(jsonl));
  const r = sluice(['extract', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const id = r.stdout.match(/^run (\S+)/m)[1];
  const show = JSON.parse(sluice(['runs', 'show', id, '--format', 'json', '--project-dir', dir]).stdout);
  const bytes = t => show.attempts.find(a => a.task === `extract:${t}`).bytes;
  assert.deepEqual([bytes('f.a'), bytes('f.b')], [Buffer.byteLength(csv), Buffer.byteLength(jsonl)]);
});
