// One JSON-API extraction at a given record count; see bench/extract_http.
// The API server lives in this process (records are generated per page, not
// held), so sluice runs asynchronously under /usr/bin/time.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [work, recordsArg] = process.argv.slice(2);
const total = Number(recordsArg);
const sluice = path.resolve(process.env.SLUICE_BIN || 'build/sluice');
const PAGE = 1000;
const LIMIT_MB = 200;
const BASE = Date.UTC(2024, 0, 1);
const CITIES = ['Oslo', 'Lima', 'Pune', 'Graz', 'Kyoto'];
const STATUS = ['new', 'active', 'suspended', 'closed'];

// Record i (1-based): nested objects two levels deep, an array, a null now
// and then; updated_at rises with i (one record per second).
function record(i) {
  return {
    id: i,
    name: `account ${i}`,
    status: STATUS[(i * 31) % STATUS.length],
    balance: Math.round(((i * 104729) % 9999999)) / 100,
    active: i % 3 !== 0,
    customer: {
      id: 1 + (i * 7919) % 250000,
      name: `customer ${(i * 7919) % 250000}`,
      email: i % 11 === 0 ? null : `c${i}@example.com`,
      address: { city: CITIES[i % CITIES.length], zip: String(10000 + (i % 90000)), geo: { lat: (i % 180) - 90 + 0.5, lon: (i % 360) - 180 + 0.25 } },
    },
    tags: i % 4 === 0 ? ['vip', 'eu'] : [],
    note: i % 7 === 0 ? null : `note "${i % 1000}", with a comma`,
    updated_at: new Date(BASE + i * 1000).toISOString(),
  };
}

// GET /accounts?limit=L[&cursor=C][&updated_since=ISO]
//   {"data":[...],"meta":{"next_cursor":C|null}}; the cursor is the next id.
const stats = { requests: 0, bytes: 0 };
const srv = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  stats.requests++;
  if (u.pathname !== '/accounts') {
    res.writeHead(404).end();
    return;
  }
  const limit = Math.min(Number(u.searchParams.get('limit') || PAGE), 10000);
  let first = 1;
  const since = u.searchParams.get('updated_since');
  if (since) first = Math.max(first, Math.floor((Date.parse(since) - BASE) / 1000) + 1);
  const c = u.searchParams.get('cursor');
  if (c) first = Number(Buffer.from(c, 'base64url').toString());
  const last = Math.min(total, first + limit - 1);
  const data = [];
  for (let i = first; i <= last; i++) data.push(record(i));
  const next = last < total ? Buffer.from(String(last + 1)).toString('base64url') : null;
  const body = JSON.stringify({ data, meta: { next_cursor: next, count: data.length } });
  stats.bytes += Buffer.byteLength(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
await new Promise(r => srv.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${srv.address().port}/accounts`;

// Runs cmd under /usr/bin/time without blocking the server; resolves to
// wall seconds, peak RSS, CPU seconds (user + system) and output.
function timed(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args]);
    let stdout = '', stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('error', reject);
    child.on('close', code => {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${stdout}\n${stderr}`));
      const lines = stderr.trim().split('\n');
      const [rssKb, user, sys] = lines[lines.length - 1].split(' ').map(Number);
      resolve({ secs, rssMb: rssKb / 1024, cpu: user + sys, stdout, stderr });
    });
  });
}

const proj = path.resolve(work, `extract_http_project_${total}`);
fs.rmSync(proj, { recursive: true, force: true });
fs.mkdirSync(path.join(proj, 'sources'), { recursive: true });
fs.writeFileSync(path.join(proj, 'sluice.yml'), 'name: bench\nlake: ./lake\n');
fs.writeFileSync(path.join(proj, 'sources', 'api.yml'), `source: api
kind: http
tables:
  - name: accounts
    url: ${url}
    params: {limit: "${PAGE}", updated_since: "{{ watermark }}"}
    records: data
    pagination: {type: cursor, next: meta.next_cursor, param: cursor}
    cursor: updated_at
    primary_key: [id]
    write: merge
`);

let r;
try {
  r = await timed(sluice, ['extract', '--project-dir', proj]);
} finally {
  srv.closeAllConnections?.();
  srv.close();
}

const m = r.stdout.match(/^\s*api\.accounts\s+\d+\s+(\d+)\s+(\d+)\s+(\d+)/m);
if (!m) throw new Error(`no line for api.accounts in sluice's output:\n${r.stdout}`);
const [read, landed, quarantined] = m.slice(1).map(Number);
const note = r.stdout.match(/note: api\.accounts: (\d+) requests, (\d+) retries/);
const lake = execFileSync(sluice, ['lake', 'ls', '--project-dir', proj], { encoding: 'utf8' });
const lakeLine = (lake.match(/^raw\/api\/accounts.*$/m) || [''])[0].trim().split(/\s+/);
const columns = execFileSync(sluice, ['lake', 'show', '--project-dir', proj, 'raw/api/accounts'], { encoding: 'utf8' });

const nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
console.log(`\nextract_http: ${total.toLocaleString()} records, ${PAGE} per page, cursor pagination, ` +
  `${(stats.bytes / 1e6).toFixed(0)} MB of JSON, ${nproc} cores (the server shares them), ${sluice}`);
console.log(`  ${'extract'.padEnd(26)} ${'wall s'.padStart(8)} ${'records/s'.padStart(10)} ${'MB/s'.padStart(7)} ${'requests'.padStart(9)} ${'CPU s'.padStart(7)} ${'peak RSS MB'.padStart(12)} ${'records'.padStart(10)}`);
console.log(`  ${'sluice extract (http)'.padEnd(26)} ${r.secs.toFixed(2).padStart(8)} ${(landed / r.secs).toFixed(0).padStart(10)} ` +
  `${(stats.bytes / 1e6 / r.secs).toFixed(1).padStart(7)} ${String(stats.requests).padStart(9)} ${r.cpu.toFixed(2).padStart(7)} ${r.rssMb.toFixed(0).padStart(12)} ${String(landed).padStart(10)}`);
if (lakeLine.length >= 5) console.log(`  lake: ${lakeLine[2]} files, ${lakeLine[3]} rows, ${lakeLine.slice(4).join(' ')}`);
// The schema section of `lake show`: a header line, then one line a column.
const schema = (columns.split('\n\n').find(p => p.startsWith('schema:')) || '').trim().split('\n');
const ncols = Math.max(0, schema.length - 2);
if (ncols) console.log(`  ${ncols} columns after flattening`);
if (note && Number(note[1]) !== stats.requests) console.log(`  note: sluice counted ${note[1]} requests, the server ${stats.requests}`);
if (read !== total || landed !== total || quarantined) console.log(`  WARNING: ${read} read, ${landed} landed, ${quarantined} quarantined; expected ${total}`);
const ok = r.rssMb < LIMIT_MB;
console.log(`  ${ok ? 'PASS' : 'FAIL'}: sluice peak RSS < ${LIMIT_MB} MB: ${r.rssMb.toFixed(0)} MB`);
if (!process.env.BENCH_KEEP) fs.rmSync(proj, { recursive: true, force: true });
