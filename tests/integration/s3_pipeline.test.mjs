// The pipeline against a real S3-compatible server (s3rver behind the signing
// shim, reached through the fault proxy so every request can be inspected):
//   - the lake on S3 (`lake: s3://bucket/prefix`) gives the same warehouse rows as
//     a local lake, and every Delta log commit is a PUT with If-None-Match: *, so a
//     version another writer took is never overwritten;
//   - the s3 source: objects matching a prefix and glob (CSV, gzip CSV, zstd CSV,
//     Parquet written by DuckDB), incremental by key and ETag, a changed object
//     extracted again; every read pinned to the listed ETag (If-Match), so an object
//     replaced mid-read fails the task and the next run lands the new content once;
//   - `sluice lake ls|show|vacuum --lake s3://...` and `sluice parquet schema|cat
//     s3://bucket/key`;
//   - credentials in no output at any log level or format.
// sluice runs asynchronously: s3rver and the proxy live in this process's event loop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { SLUICE, tmpdir, writeFiles, duck } from '../lib/harness.mjs';
import { startS3Server } from '../lib/s3server.mjs';
import { startFaultProxy } from '../lib/faultproxy.mjs';

const SECRET = 'sluice-e2e-SECRET-4d1f9a7c2b';
const TOKEN = 'sluice-e2e-TOKEN-8c3e5f1a09';

let s3;
let proxy;
let logPuts; // every PUT of a Delta log entry: {url, ifNoneMatch}

before(async () => {
  s3 = await startS3Server({ buckets: ['lake', 'landing'], secret: SECRET });
  proxy = await startFaultProxy(s3.endpoint);
});

after(async () => {
  await proxy?.stop();
  await s3?.stop();
});

// Records the Delta log PUTs the proxy sees (a match hook that never fires).
function watchLogPuts() {
  logPuts = [];
  proxy.inject({
    kind: 'status', times: Infinity,
    match: req => {
      if (req.method === 'PUT' && /\/_delta_log\/\d{20}\.json(\?|$)/.test(req.url))
        logPuts.push({ url: req.url, ifNoneMatch: req.headers['if-none-match'] });
      return false;
    },
  });
}

function s3env(extra = {}) {
  return {
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: SECRET,
    AWS_SESSION_TOKEN: TOKEN,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: proxy.endpoint,
    SLUICE_S3_RETRY_BASE_MS: '20',
    ...extra,
  };
}

// Runs sluice without blocking the event loop; resolves {code, stdout, stderr}.
function run(args, { cwd, env } = {}) {
  return new Promise(resolve => {
    const child = spawn(SLUICE, args, { cwd, env: { ...process.env, ...s3env(), ...(env || {}) } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('close', code => {
      const r = { code, stdout, stderr };
      assertClean(r);
      resolve(r);
    });
  });
}

// What every run must leave true, pass or fail.
function assertClean(r) {
  for (const out of [r.stdout, r.stderr]) {
    assert.ok(!out.includes(SECRET), 'the secret key leaked into the output');
    assert.ok(!out.includes(TOKEN), 'the session token leaked into the output');
  }
  assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error:/);
}

async function runOk(args, opts) {
  const r = await run(args, opts);
  assert.equal(r.code, 0, `sluice ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr.slice(-4000)}`);
  return r;
}

// Uploads an object straight to s3rver (unsigned; the shim checks signatures only
// when a request carries one).
async function putObject(bucket, key, body) {
  const res = await fetch(`${s3.endpoint}/${bucket}/${key}`, { method: 'PUT', body });
  assert.equal(res.status, 200, `PUT ${bucket}/${key}: ${await res.text()}`);
  return res.headers.get('etag');
}

// Keys under bucket/prefix as s3rver stores them.
function s3Keys(bucket, prefix = '') {
  const root = path.join(s3.dir, bucket);
  const out = [];
  const walk = (d, rel) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name === '._S3rver_uploads') continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else if (e.name.endsWith('._S3rver_object')) out.push(r.slice(0, -'._S3rver_object'.length));
    }
  };
  walk(root, '');
  return out.filter(k => k.startsWith(prefix)).sort();
}

function s3Read(bucket, key) {
  return fs.readFileSync(s3.objectPath(bucket, key), 'utf8');
}

// The table row of a run summary: {files, read, landed, quarantined, loaded}.
function summary(stdout, table) {
  const m = new RegExp(`^${table.replace('.', '\\.')}\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`, 'm').exec(stdout);
  assert.ok(m, `no summary line for ${table} in:\n${stdout}`);
  const [files, read, landed, quarantined, loaded] = m.slice(1).map(Number);
  return { files, read, landed, quarantined, loaded };
}

function sqlite(db, sql) {
  const out = execFileSync('sqlite3', ['-json', db, sql], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

// Every raw table of a project's SQLite warehouse, rows ordered, plus the loads.
function warehouse(dir) {
  const db = path.join(dir, 'warehouse.raw.db');
  const tables = sqlite(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> '_sluice_loads' ORDER BY name")
    .map(r => r.name);
  const out = {};
  for (const t of tables) {
    const cols = sqlite(db, `SELECT name FROM pragma_table_info('${t}')`).map(r => `"${r.name}"`);
    out[t] = sqlite(db, `SELECT * FROM "${t}" ORDER BY ${cols.join(', ')}`);
  }
  out._sluice_loads = sqlite(db, 'SELECT table_name, lake_version, rows FROM _sluice_loads ORDER BY 1, 2');
  return out;
}

// ------------------------------------------------------------ the lake on S3

const ordersYml = `source: shop
kind: csv
tables:
  - name: orders
    path: data/orders_*.csv
    columns: {id: int64, amount: "decimal(12,2)", at: timestamp, day: date}
    max_bad_rows: 10
  - name: customers
    path: data/customers.csv.gz
    primary_key: [customer_id]
`;

function ordersCsv(from, to) {
  const lines = ['id,amount,at,day,note,flag'];
  for (let i = from; i <= to; i++) {
    const amount = i % 17 === 0 ? '' : `${(i * 37) % 100000}.${String(i % 100).padStart(2, '0')}`;
    const note = i % 11 === 0 ? `"multi, ""quoted""\nline ${i}"` : i % 13 === 0 ? '' : `note ${i} é`;
    lines.push(`${i},${i % 5 === 0 && amount ? '-' : ''}${amount},2025-03-${String(1 + (i % 28)).padStart(2, '0')}T${String(i % 24).padStart(2, '0')}:15:30.${String(i % 1000).padStart(3, '0')}Z,` +
      `2024-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')},${note},${i % 2 === 0}`);
  }
  return lines.join('\n') + '\n';
}

function customersGz() {
  const lines = ['customer_id,name,signup'];
  for (let i = 1; i <= 300; i++) lines.push(`${i},Customer ${i},2023-01-${String(1 + (i % 28)).padStart(2, '0')}`);
  return zlib.gzipSync(lines.join('\n') + '\n');
}

function lakeProject(lake) {
  const dir = tmpdir('sluice-s3e2e-');
  writeFiles(dir, {
    'sluice.yml': `name: t\nlake: ${lake}\n`,
    'sources/shop.yml': ordersYml,
    'data/orders_1.csv': ordersCsv(1, 2500) + '2501,not-a-number,2025-01-01T00:00:00Z,2024-01-01,bad,true\n',
    'data/customers.csv.gz': customersGz(),
  });
  return dir;
}

test('the lake on S3 gives the same warehouse rows as a local lake; log commits are If-None-Match: *', async () => {
  proxy.clear();
  watchLogPuts();
  const local = lakeProject('./lake');
  const remote = lakeProject('s3://lake/e2e/warehouse-test');

  let a = await runOk(['run', '--project-dir', local]);
  let b = await runOk(['run', '--project-dir', remote]);
  assert.deepEqual(summary(b.stdout, 'shop.orders'), { files: 1, read: 2501, landed: 2500, quarantined: 1, loaded: 2500 });
  assert.deepEqual(summary(b.stdout, 'shop.orders'), summary(a.stdout, 'shop.orders'));
  assert.deepEqual(summary(b.stdout, 'shop.customers'), summary(a.stdout, 'shop.customers'));
  assert.deepEqual(warehouse(remote), warehouse(local));

  // a second file: incremental on both sides
  for (const dir of [local, remote]) writeFiles(dir, { 'data/orders_2.csv': ordersCsv(2502, 4000) });
  a = await runOk(['run', '--project-dir', local]);
  b = await runOk(['run', '--project-dir', remote]);
  assert.deepEqual(summary(b.stdout, 'shop.orders'), { files: 1, read: 1499, landed: 1499, quarantined: 0, loaded: 1499 });
  assert.deepEqual(summary(b.stdout, 'shop.customers'), { files: 0, read: 0, landed: 0, quarantined: 0, loaded: 0 });
  const wr = warehouse(remote);
  assert.deepEqual(wr, warehouse(local));
  assert.equal(wr.shop__orders.length, 3999);
  assert.equal(wr.shop__customers.length, 300);
  assert.equal(wr.shop__orders.find(r => r.id === 22).note, 'multi, "quoted"\nline 22');
  assert.equal(wr.shop__orders.find(r => r.id === 35).amount, '-1295.35');

  // the lake lives on S3 only: Delta logs and Parquet data under the prefix
  assert.ok(!fs.existsSync(path.join(remote, 'lake')));
  const keys = s3Keys('lake', 'e2e/warehouse-test/');
  const log = keys.filter(k => k.startsWith('e2e/warehouse-test/raw/shop/orders/_delta_log/'));
  assert.deepEqual(log.map(k => path.basename(k)), ['00000000000000000000.json', '00000000000000000001.json']);
  assert.ok(keys.some(k => /^e2e\/warehouse-test\/raw\/shop\/orders\/data\/.+\.parquet$/.test(k)));
  assert.ok(keys.some(k => k.startsWith('e2e/warehouse-test/quarantine/shop/orders/_delta_log/')));
  const commit = s3Read('lake', log[1]).split('\n').filter(Boolean).map(l => JSON.parse(l));
  assert.equal(commit.filter(x => x.add).length, 1);
  assert.equal(commit.find(x => x.commitInfo).commitInfo.sluice.rows_read, 1499);

  // every commit was a conditional PUT, and only the S3 project's
  assert.ok(logPuts.length >= 4, JSON.stringify(logPuts));
  for (const p of logPuts) assert.equal(p.ifNoneMatch, '*', `${p.url} was not If-None-Match: *`);
  assert.deepEqual(s3.uploads('lake'), []);
  assert.deepEqual(s3.sigFailures, []);
});

// Writes an object into s3rver's store synchronously (as another writer would).
function plantObject(bucket, key, body) {
  const p = s3.objectPath(bucket, key);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, body);
  fs.writeFileSync(`${p}.md5`, crypto.createHash('md5').update(body).digest('hex'));
  fs.writeFileSync(p.replace(/\._S3rver_object$/, '._S3rver_metadata.json'),
    JSON.stringify({ 'content-type': 'application/json' }));
}

test('a log version another writer took first is never overwritten; the commit moves to the next one', async () => {
  proxy.clear();
  watchLogPuts();
  const dir = lakeProject('s3://lake/e2e/race');
  await runOk(['run', '--project-dir', dir]);
  const logKey = v => `e2e/race/raw/shop/orders/_delta_log/${String(v).padStart(20, '0')}.json`;
  assert.deepEqual(s3Keys('lake', 'e2e/race/raw/shop/orders/_delta_log/'), [logKey(0)]);

  // Another writer commits version 1 between sluice's read of the log and its PUT.
  const foreign = JSON.stringify({ commitInfo: { timestamp: 1, operation: 'SET TBLPROPERTIES', engineInfo: 'another-writer' } }) + '\n';
  let planted = 0;
  proxy.inject({
    kind: 'status', times: Infinity,
    match: req => {
      if (!planted && req.method === 'PUT' && req.url.endsWith(`/lake/${logKey(1)}`)) {
        plantObject('lake', logKey(1), foreign);
        planted++;
      }
      return false;
    },
  });
  writeFiles(dir, { 'data/orders_2.csv': ordersCsv(3000, 3009) });
  const r = await runOk(['--log-level', 'debug', 'run', '--project-dir', dir]);
  assert.equal(planted, 1, 'the race was staged');
  assert.deepEqual(summary(r.stdout, 'shop.orders'), { files: 1, read: 10, landed: 10, quarantined: 0, loaded: 10 });
  assert.match(r.stderr, /version 1 taken by another writer; retrying/);
  // version 1 is still the other writer's; sluice's commit is version 2
  assert.equal(s3Read('lake', logKey(1)), foreign);
  const v2 = s3Read('lake', logKey(2)).split('\n').filter(Boolean).map(l => JSON.parse(l));
  assert.equal(v2.find(x => x.commitInfo).commitInfo.sluice.rows_read, 10);
  const tried = logPuts.filter(p => p.url.includes('/raw/shop/orders/'));
  assert.deepEqual(tried.map(p => path.basename(p.url)), ['00000000000000000000.json', '00000000000000000001.json', '00000000000000000002.json']);
  assert.ok(tried.every(p => p.ifNoneMatch === '*'));
  const n = sqlite(path.join(dir, 'warehouse.raw.db'), 'SELECT count(*) AS n FROM shop__orders')[0].n;
  assert.equal(n, 2510);
});

// ------------------------------------------------------------ the s3 source

const dropsYml = `source: drops
kind: s3
tables:
  - name: events
    url: s3://landing/events/*.csv*
    columns: {amount: "decimal(8,2)"}
    write: append
    max_bad_rows: 5
  - name: sales
    url: s3://landing/sales/*.parquet
    columns: {qty: int64}
`;

const csv = rows => 'id,kind,amount,at\n' + rows.map(r => r.join(',')).join('\n') + '\n';

test('an s3 source reads CSV, gzip and zstd CSV and DuckDB Parquet objects matching the glob, incrementally by ETag', async () => {
  proxy.clear();
  const dir = tmpdir('sluice-s3src-');
  writeFiles(dir, { 'sluice.yml': 'name: t\nlake: ./lake\n', 'sources/drops.yml': dropsYml });

  await putObject('landing', 'events/2025-01-01.csv', csv([[1, 'click', '1.50', '2025-01-01T10:00:00Z'], [2, '"a, b"', '', '2025-01-01T11:00:00Z']]));
  await putObject('landing', 'events/2025-01-02.csv.gz', zlib.gzipSync(csv([[3, 'view', '3.25', '2025-01-02T00:00:00Z'], [4, 'view', 'x', '2025-01-02T00:00:01Z']])));
  await putObject('landing', 'events/2025-01-03.csv.zst',
    execFileSync('zstd', ['-q', '-c'], { input: csv([[5, 'buy', '99.99', '2025-01-03T00:00:00Z']]) }));
  // not matched: another extension, a deeper folder (the glob's * stops at /), a sibling prefix
  await putObject('landing', 'events/README.txt', 'not data\n');
  await putObject('landing', 'events/archive/2024-12-31.csv', csv([[99, 'old', '0', '2024-12-31T00:00:00Z']]));
  await putObject('landing', 'events-old/2025-01-01.csv', csv([[98, 'old', '0', '2024-12-31T00:00:00Z']]));

  const pq = tmpdir('sluice-duck-');
  await duck(`COPY (SELECT i::INTEGER AS qty, 'sku-' || i AS sku, (i * 1.25)::DECIMAL(9,2) AS price,
      DATE '2025-02-01' + i::INTEGER AS day, i % 3 = 0 AS promo
    FROM range(1, 1001) t(i)) TO '${pq}/a.parquet' (FORMAT PARQUET)`);
  await duck(`COPY (SELECT (1000 + i)::BIGINT AS qty, 'sku-' || (1000 + i) AS sku, NULL::DECIMAL(9,2) AS price,
      DATE '2025-03-01' AS day, false AS promo
    FROM range(1, 6) t(i)) TO '${pq}/b.parquet' (FORMAT PARQUET, COMPRESSION ZSTD)`);
  await putObject('landing', 'sales/a.parquet', fs.readFileSync(`${pq}/a.parquet`));
  await putObject('landing', 'sales/b.parquet', fs.readFileSync(`${pq}/b.parquet`));

  let r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'drops.events'), { files: 3, read: 5, landed: 4, quarantined: 1, loaded: 4 });
  assert.deepEqual(summary(r.stdout, 'drops.sales'), { files: 2, read: 1005, landed: 1005, quarantined: 0, loaded: 1005 });
  const db = path.join(dir, 'warehouse.raw.db');
  assert.deepEqual(sqlite(db, 'SELECT id, kind, amount FROM drops__events ORDER BY id'), [
    { id: 1, kind: 'click', amount: '1.50' }, { id: 2, kind: 'a, b', amount: null },
    { id: 3, kind: 'view', amount: '3.25' }, { id: 5, kind: 'buy', amount: '99.99' },
  ]);
  assert.deepEqual(sqlite(db, 'SELECT count(*) AS n, sum(qty) AS s, count(price) AS p, sum(promo) AS pr FROM drops__sales'),
    [{ n: 1005, s: 500500 + 5015, p: 1000, pr: 333 }]);
  assert.deepEqual(sqlite(db, 'SELECT qty, sku, price, day FROM drops__sales WHERE qty IN (7, 1003) ORDER BY qty'), [
    { qty: 7, sku: 'sku-7', price: '8.75', day: '2025-02-08' },
    { qty: 1003, sku: 'sku-1003', price: null, day: '2025-03-01' },
  ]);
  // the bad row is quarantined with the object's URL and its line
  const q = await duck(`SELECT source_file, line::INT AS line, reason, raw FROM read_parquet('${dir}/lake/quarantine/drops/events/data/*.parquet')`);
  assert.equal(q.length, 1);
  assert.equal(q[0].source_file, 's3://landing/events/2025-01-02.csv.gz');
  assert.equal(q[0].line, 3);
  assert.match(q[0].reason, /amount/);
  assert.equal(q[0].raw, '4,view,x,2025-01-02T00:00:01Z');
  // progress recorded in the lake commit names each object by URL and ETag
  const commit = fs.readFileSync(path.join(dir, 'lake/raw/drops/events/_delta_log/00000000000000000000.json'), 'utf8')
    .split('\n').filter(Boolean).map(l => JSON.parse(l)).find(x => x.commitInfo).commitInfo;
  const files = commit.sluice.progress.files;
  assert.deepEqual(files.map(f => f.path), ['s3://landing/events/2025-01-01.csv', 's3://landing/events/2025-01-02.csv.gz', 's3://landing/events/2025-01-03.csv.zst']);
  assert.ok(files.every(f => /^[0-9a-f]{32}$/.test(f.version)), JSON.stringify(files));

  // nothing new: no object read
  proxy.clear();
  r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'drops.events'), { files: 0, read: 0, landed: 0, quarantined: 0, loaded: 0 });
  assert.deepEqual(summary(r.stdout, 'drops.sales'), { files: 0, read: 0, landed: 0, quarantined: 0, loaded: 0 });

  // a new object and a changed one (new ETag): exactly those two are read
  await putObject('landing', 'events/2025-01-04.csv', csv([[6, 'click', '6.00', '2025-01-04T00:00:00Z']]));
  await putObject('landing', 'events/2025-01-02.csv.gz', zlib.gzipSync(csv([[3, 'view', '3.25', '2025-01-02T00:00:00Z'], [4, 'view', '4.00', '2025-01-02T00:00:01Z']])));
  proxy.clear();
  r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'drops.events'), { files: 2, read: 3, landed: 3, quarantined: 0, loaded: 3 });
  assert.deepEqual(summary(r.stdout, 'drops.sales'), { files: 0, read: 0, landed: 0, quarantined: 0, loaded: 0 });
  const gets = proxy.log.filter(e => e.method === 'GET' && e.url.includes('/landing/events/') && !e.url.includes('list-type'));
  assert.ok(!gets.some(e => /2025-01-0[13]/.test(e.url)), 'an unchanged object was read again');
  assert.deepEqual(sqlite(db, 'SELECT id, amount FROM drops__events ORDER BY id, amount'), [
    { id: 1, amount: '1.50' }, { id: 2, amount: null }, { id: 3, amount: '3.25' }, { id: 3, amount: '3.25' },
    { id: 4, amount: '4.00' }, { id: 5, amount: '99.99' }, { id: 6, amount: '6.00' },
  ]);

  // --full-refresh reads every matching object again
  r = await runOk(['run', '--project-dir', dir, '--full-refresh']);
  assert.deepEqual(summary(r.stdout, 'drops.events'), { files: 4, read: 6, landed: 6, quarantined: 0, loaded: 6 });
  assert.deepEqual(summary(r.stdout, 'drops.sales'), { files: 2, read: 1005, landed: 1005, quarantined: 0, loaded: 1005 });
});

test('an s3 source reads JSON lines objects (plain and gzip) with {{ ds }} in the url; bad lines are quarantined with URL and line', async () => {
  const dir = tmpdir('sluice-s3jsonl-');
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\n',
    'sources/clicks.yml': `source: clicks
kind: s3
tables:
  - name: clicks
    url: "s3://landing/clicks/{{ ds }}/*"
    format: jsonl
    columns: {id: int64}
    max_bad_rows: 5
`,
  });
  const day = new Date().toISOString().slice(0, 10);
  await putObject('landing', `clicks/${day}/a.jsonl`,
    '{"id": 1, "page": {"path": "/a"}}\n{"id": 2, "page": {"path": "/b"}}\n');
  await putObject('landing', `clicks/${day}/b.ndjson.gz`,
    zlib.gzipSync('{"id": 3, "page": {"path": "/c"}}\n{"id": "x"}\n'));
  await putObject('landing', 'clicks/2000-01-01/old.jsonl', '{"id": 99}\n');
  let r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'clicks.clicks'), { files: 2, read: 4, landed: 3, quarantined: 1, loaded: 3 });
  const db = path.join(dir, 'warehouse.raw.db');
  assert.deepEqual(sqlite(db, 'SELECT id, page__path FROM clicks__clicks ORDER BY id'), [
    { id: 1, page__path: '/a' }, { id: 2, page__path: '/b' }, { id: 3, page__path: '/c' },
  ]);
  const q = await duck(`SELECT source_file, line::INT AS line, raw FROM read_parquet('${dir}/lake/quarantine/clicks/clicks/data/*.parquet')`);
  assert.deepEqual(q.map(x => [x.source_file, x.line, x.raw]), [[`s3://landing/clicks/${day}/b.ndjson.gz`, 2, '{"id": "x"}']]);
  // incremental by ETag, as for CSV
  r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'clicks.clicks'), { files: 0, read: 0, landed: 0, quarantined: 0, loaded: 0 });
});

test('a large object is streamed with a few large ranged GETs', async () => {
  const dir = tmpdir('sluice-s3src-');
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\n',
    'sources/big.yml': 'source: big\nkind: s3\ntables:\n  - name: rows\n    url: s3://landing/big/*.csv\n',
  });
  const lines = ['id,text'];
  for (let i = 1; i <= 200000; i++) lines.push(`${i},row ${i} ${'x'.repeat(i % 150)}`);
  const body = lines.join('\n') + '\n';
  assert.ok(body.length > 16 << 20);
  await putObject('landing', 'big/rows.csv', body);
  proxy.clear();
  const r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'big.rows'), { files: 1, read: 200000, landed: 200000, quarantined: 0, loaded: 200000 });
  const gets = proxy.log.filter(e => e.method === 'GET' && e.url.endsWith('/landing/big/rows.csv'));
  // 8 MiB per GET: a sample for the schema plus one pass over the object
  const per = Math.ceil(body.length / (8 << 20));
  assert.ok(gets.length <= 2 * per + 1, `${gets.length} GETs for ${body.length} bytes`);
  const n = sqlite(path.join(dir, 'warehouse.raw.db'), 'SELECT count(*) AS n, sum(length(text)) AS l FROM big__rows')[0];
  assert.equal(n.n, 200000);
  assert.equal(n.l, lines.slice(1).reduce((a, l) => a + l.length - l.indexOf(',') - 1, 0));
});

test('an object replaced while it is read fails the task; the next run lands the new content once', async () => {
  const dir = tmpdir('sluice-s3src-');
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\n',
    'sources/swap.yml': 'source: swap\nkind: s3\ntables:\n  - name: rows\n    url: s3://landing/swap/*.csv\n    write: append\n',
  });
  const body = (n, tag) => {
    const lines = ['id,text'];
    for (let i = 1; i <= n; i++) lines.push(`${i},${tag} ${'x'.repeat(50)}`);
    return lines.join('\n') + '\n';
  };
  const v1 = body(200000, 'v1');
  const v2 = body(150000, 'v2');
  assert.ok(v1.length > 8 << 20 && v2.length > 8 << 20);
  const etag1 = await putObject('landing', 'swap/big.csv', v1);
  proxy.clear();
  // the object is listed (ETag 1) and its first 8 MiB read; then, just before the
  // ranged GET of the rest, another writer replaces it
  let replaced = null;
  const swap = proxy.inject({
    kind: 'before', times: 1,
    match: req => req.method === 'GET' && req.url.endsWith('/landing/swap/big.csv') &&
      /^bytes=[1-9]/.test(req.headers.range || ''),
    fn: async () => { replaced = await putObject('landing', 'swap/big.csv', v2); },
  });
  let r = await run(['run', '--project-dir', dir]);
  assert.equal(swap.fired, 1, 'the swap was staged');
  assert.notEqual(replaced, etag1);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /s3:\/\/landing\/swap\/big\.csv: the object changed while it was read \(it no longer has ETag "[0-9a-f]{32}": 412 Precondition Failed\)/);
  // every read of the object was pinned to the listed ETag
  const reads = proxy.log.filter(e => (e.method === 'GET' || e.method === 'HEAD') && e.url.endsWith('/landing/swap/big.csv'));
  assert.ok(reads.length >= 3);
  assert.equal(reads[reads.length - 1].status, 412);
  // nothing was committed for the task: no rows of either version in the lake
  assert.ok(!fs.existsSync(path.join(dir, 'lake/raw/swap/rows/_delta_log')));

  // the next run lists the new ETag and lands the new content, once
  r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'swap.rows'), { files: 1, read: 150000, landed: 150000, quarantined: 0, loaded: 150000 });
  const db = path.join(dir, 'warehouse.raw.db');
  assert.deepEqual(sqlite(db, "SELECT count(*) AS n, count(DISTINCT id) AS d, sum(text LIKE 'v2 %') AS v2 FROM swap__rows"),
    [{ n: 150000, d: 150000, v2: 150000 }]);
  r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'swap.rows'), { files: 0, read: 0, landed: 0, quarantined: 0, loaded: 0 });
  assert.equal(sqlite(db, 'SELECT count(*) AS n FROM swap__rows')[0].n, 150000);
});

test('an s3 source whose glob matches nothing is a configuration error naming the file and line', async () => {
  const dir = tmpdir('sluice-s3src-');
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\n',
    'sources/drops.yml': 'source: drops\nkind: s3\ntables:\n  - name: none\n    url: s3://landing/nothing-here/*.csv\n',
  });
  const r = await run(['run', '--project-dir', dir]);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /drops\.yml:4: no objects match s3:\/\/landing\/nothing-here\/\*\.csv/);
});

test('objects whose long keys share their first thousand bytes are each extracted once', async () => {
  proxy.clear();
  const dir = tmpdir('sluice-s3long-');
  // S3 keys go up to 1024 bytes: these differ only in their last bytes, and
  // their equal content gives equal sizes and ETags.
  const deep = 'long/' + 'segment-of-a-deep-path/'.repeat(44);
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\n',
    'sources/drops.yml': `source: drops\nkind: s3\ntables:\n  - name: deep\n    url: s3://landing/${deep}*.csv\n`,
  });
  const body = csv([[1, 'same', '1.00', '2025-01-01T00:00:00Z']]);
  await putObject('landing', deep + 'a.csv', body);
  assert.ok((deep + 'a.csv').length > 1000);
  let r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'drops.deep'), { files: 1, read: 1, landed: 1, quarantined: 0, loaded: 1 });
  // objects that arrive later are new, though all but their last bytes match
  for (const name of ['b.csv', 'c.csv'])
    await putObject('landing', deep + name, body);
  r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'drops.deep'), { files: 2, read: 2, landed: 2, quarantined: 0, loaded: 2 });
  r = await runOk(['run', '--project-dir', dir]);
  assert.deepEqual(summary(r.stdout, 'drops.deep'), { files: 0, read: 0, landed: 0, quarantined: 0, loaded: 0 });
  assert.equal(sqlite(path.join(dir, 'warehouse.raw.db'), 'SELECT count(*) AS n FROM drops__deep')[0].n, 3);
});

// ------------------------------------------------------------ the CLI on S3

test('sluice lake ls|show|vacuum --lake s3:// and sluice parquet schema|cat s3:// work on S3', async () => {
  proxy.clear();
  const dir = tmpdir('sluice-s3cli-');
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: s3://lake/cli\n',
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: orders\n    path: data/o.csv\n    columns: {id: int64, amount: "decimal(10,2)"}\n',
    'data/o.csv': 'id,amount,note\n1,1.50,a\n2,2.50,b\n3,,"c, d"\n',
  });
  await runOk(['run', '--project-dir', dir]);
  const lake = 's3://lake/cli';

  let r = await runOk(['lake', 'ls', '--lake', lake]);
  assert.match(r.stdout, /^raw\/shop\/orders\s+0\s+1\s+3\s/m);

  r = await runOk(['lake', 'show', 'raw/shop/orders', '--lake', lake]);
  assert.match(r.stdout, /table raw\/shop\/orders in s3:\/\/lake\/cli/);
  assert.match(r.stdout, /^\s+amount\s+decimal\(10,2\)\s+yes/m);
  assert.match(r.stdout, /^\s+0\s+\S+ \S+\s+APPEND\s+\S+\s+1\s+3\s/m);

  // the project's lake is used when --lake is absent
  r = await runOk(['lake', 'ls', '--project-dir', dir]);
  assert.match(r.stdout, /^raw\/shop\/orders\s+0\s+1\s+3\s/m);

  const data = s3Keys('lake', 'cli/raw/shop/orders/data/');
  assert.equal(data.length, 1);
  const url = `s3://lake/${data[0]}`;
  r = await runOk(['parquet', 'schema', url]);
  assert.match(r.stdout, /^rows:\s+3$/m);
  assert.match(r.stdout, /^amount\s+INT64\s+DECIMAL\(10,2\)\s+OPTIONAL\s+decimal\(10,2\)$/m);
  r = await runOk(['parquet', 'cat', url]);
  assert.equal(r.stdout, 'id,amount,note\n1,1.50,a\n2,2.50,b\n3,,"c, d"\n');
  r = await runOk(['parquet', 'cat', url, '--format', 'json', '--limit', '1']);
  assert.equal(r.stdout, '{"id":1,"amount":1.50,"note":"a"}\n');

  // a Parquet file DuckDB wrote, read from S3
  const pq = tmpdir('sluice-duck-');
  await duck(`COPY (SELECT 42::BIGINT AS answer, 'x' AS s) TO '${pq}/d.parquet' (FORMAT PARQUET)`);
  await putObject('landing', 'cli/d.parquet', fs.readFileSync(`${pq}/d.parquet`));
  r = await runOk(['parquet', 'cat', 's3://landing/cli/d.parquet']);
  assert.equal(r.stdout, 'answer,s\n42,x\n');
  r = await run(['parquet', 'cat', 's3://landing/cli/missing.parquet']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /missing\.parquet/);

  // vacuum: a data file no commit references (a crashed run's) goes, the live one stays
  const orphan = 'cli/raw/shop/orders/data/part-00000-00000000-dead-beef-0000-000000000000.zstd.parquet';
  await putObject('lake', orphan, fs.readFileSync(s3.objectPath('lake', data[0])));
  r = await runOk(['lake', 'vacuum', 'raw/shop/orders', '--retain', '1h', '--lake', lake]);
  assert.match(r.stdout, /removed 0 files/);
  assert.ok(s3Keys('lake', 'cli/').includes(orphan), 'a fresh orphan is kept within the retention');
  r = await runOk(['lake', 'vacuum', 'raw/shop/orders', '--retain', '0s', '--lake', lake]);
  assert.match(r.stdout, /removed 1 file /);
  assert.deepEqual(s3Keys('lake', 'cli/raw/shop/orders/data/'), data);
  r = await runOk(['parquet', 'cat', url]);
  assert.equal(r.stdout.split('\n').length, 5);
});

// ------------------------------------------------------------ secrets

test('credentials appear in no output at debug level, in text or JSON logs', async () => {
  const dir = lakeProject('s3://lake/e2e/secrets');
  writeFiles(dir, { 'sources/drops.yml': 'source: drops\nkind: s3\ntables:\n  - name: events\n    url: s3://landing/secrets/*.csv\n' });
  await putObject('landing', 'secrets/a.csv', 'id,v\n1,a\n');
  for (const fmt of ['text', 'json']) {
    const r = await run(['--log-level', 'debug', '--log-format', fmt, 'run', '--project-dir', dir, '--full-refresh']);
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    // debug logging was really on: the S3 requests are logged, signed but without secrets
    assert.match(r.stderr, /s3: (PUT|GET|HEAD) http:\/\/127\.0\.0\.1:\d+\/lake\//);
    assert.match(r.stderr, /s3: (GET|HEAD) http:\/\/127\.0\.0\.1:\d+\/landing\/secrets\/a\.csv /);
    if (fmt === 'json') {
      const lines = r.stderr.split('\n').filter(l => l.startsWith('{'));
      assert.ok(lines.length > 10);
      for (const l of lines) assert.doesNotThrow(() => JSON.parse(l), `not a JSON log line: ${l}`);
    }
    assertClean(r); // also checked for every run; here with the most output
  }
  // an error message that carries a request still hides them
  const bad = await run(['--log-level', 'debug', 'lake', 'ls', '--lake', 's3://no-such-bucket/x'], { env: { SLUICE_S3_MAX_RETRIES: '0' } });
  assert.notEqual(bad.code, 0);
  assertClean(bad);
});
