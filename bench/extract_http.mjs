// JSON-API extractions; see bench/extract_http. The API server lives in
// this process (bodies are generated as they are sent, never held), so
// sluice runs asynchronously under /usr/bin/time. Scenarios: a paginated
// API (RECORDS records, 1000 a page); one response holding BIG_MB of
// records; one record holding a VALUE_MB string (quarantined: larger than
// max_record_bytes); a JUNK_MB body that is not JSON (one bad page).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [work, recordsArg] = process.argv.slice(2);
const total = Number(recordsArg);
const BIG_MB = Number(process.env.BIG_MB || 150);
const VALUE_MB = Number(process.env.VALUE_MB || 500);
const JUNK_MB = Number(process.env.JUNK_MB || 100);
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
// Writes the parts next() yields to res, waiting when the socket is full.
async function stream(res, next) {
  for (let part = next(); part !== null; part = next()) {
    stats.bytes += Buffer.byteLength(part);
    if (!res.write(part)) await new Promise(r => res.once('drain', r));
  }
  res.end();
}

// GET /big: {"data":[records...],"meta":{"count":N}} of about BIG_MB.
function bigBody() {
  let i = 0, sent = 0;
  const limit = BIG_MB * 1e6;
  return () => {
    if (i < 0) return null;
    if (sent >= limit) { i = -1; return `],"meta":{"count":${bigRecords}}}`; }
    let chunk = i === 0 ? '{"data":[' : '';
    for (let k = 0; k < 200; k++) chunk += (i++ ? ',' : '') + JSON.stringify(record(i));
    bigRecords = i;
    sent += chunk.length;
    return chunk;
  };
}
let bigRecords = 0;

// GET /value: {"data":[{"id":1},{"id":2,"blob":"xxxx... VALUE_MB"},{"id":3}]}.
function valueBody() {
  const piece = 'x'.repeat(1 << 20);
  let n = 0;
  return () => {
    if (n === 0) { n++; return '{"data":[{"id":1},{"id":2,"blob":"'; }
    if (n <= VALUE_MB) { n++; return piece; }
    if (n === VALUE_MB + 1) { n++; return '"},{"id":3}]}'; }
    return null;
  };
}

// GET /junk: JUNK_MB of HTML.
function junkBody() {
  const piece = '<p>' + 'not json '.repeat(116508) + '</p>\n';
  let n = 0;
  return () => (n++ < JUNK_MB * 1e6 / piece.length ? piece : null);
}

const srv = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://127.0.0.1');
  stats.requests++;
  const gen = { '/big': bigBody, '/value': valueBody, '/junk': junkBody }[u.pathname];
  if (gen) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    stream(res, gen());
    return;
  }
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

function makeProject(name, table) {
  const proj = path.resolve(work, `extract_http_${name}`);
  fs.rmSync(proj, { recursive: true, force: true });
  fs.mkdirSync(path.join(proj, 'sources'), { recursive: true });
  fs.writeFileSync(path.join(proj, 'sluice.yml'), 'name: bench\nlake: ./lake\n');
  fs.writeFileSync(path.join(proj, 'sources', 'api.yml'), `source: api\nkind: http\ntables:\n${table}`);
  return proj;
}

// Runs `sluice extract` on a project; returns the figures of its one table.
async function extract(proj, table) {
  const before = { ...stats };
  const r = await timed(sluice, ['extract', '--project-dir', proj]);
  const m = r.stdout.match(new RegExp(`^\\s*api\\.${table}\\s+\\d+\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`, 'm'));
  if (!m) throw new Error(`no line for api.${table} in sluice's output:\n${r.stdout}`);
  const [read, landed, quarantined] = m.slice(1).map(Number);
  return { ...r, read, landed, quarantined, requests: stats.requests - before.requests,
    bytes: stats.bytes - before.bytes };
}

const runs = [];
try {
  const proj = makeProject('paged', `  - name: accounts
    url: ${url}
    params: {limit: "${PAGE}", updated_since: "{{ watermark }}"}
    records: data
    pagination: {type: cursor, next: meta.next_cursor, param: cursor}
    cursor: updated_at
    primary_key: [id]
    write: merge
`);
  const r = await extract(proj, 'accounts');
  runs.push({ name: `paged: ${total.toLocaleString()} records`, proj, ...r, want: [total, total, 0] });
  if (BIG_MB > 0) {
    const p = makeProject('big', `  - name: big\n    url: ${url.replace('/accounts', '/big')}\n    records: data\n`);
    const b = await extract(p, 'big');
    runs.push({ name: `one response, ${BIG_MB} MB`, proj: p, ...b, want: [bigRecords, bigRecords, 0] });
  }
  if (VALUE_MB > 0) {
    const p = makeProject('value', `  - name: value\n    url: ${url.replace('/accounts', '/value')}\n    records: data\n    max_bad_rows: 1\n`);
    const v = await extract(p, 'value');
    runs.push({ name: `one ${VALUE_MB} MB value`, proj: p, ...v, want: [3, 2, 1] });
  }
  if (JUNK_MB > 0) {
    const p = makeProject('junk', `  - name: junk\n    url: ${url.replace('/accounts', '/junk')}\n    records: data\n    max_bad_rows: 1\n`);
    const j = await extract(p, 'junk');
    runs.push({ name: `${JUNK_MB} MB body, not JSON`, proj: p, ...j, want: [1, 0, 1] });
  }
} finally {
  srv.closeAllConnections?.();
  srv.close();
}

const nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
console.log(`\nextract_http: ${nproc} cores (the server shares them), ${sluice}`);
console.log(`  ${'extract'.padEnd(28)} ${'wall s'.padStart(8)} ${'records/s'.padStart(10)} ${'MB sent'.padStart(8)} ${'MB/s'.padStart(7)} ${'requests'.padStart(9)} ${'CPU s'.padStart(7)} ${'peak RSS MB'.padStart(12)} ${'read/landed/quar.'.padStart(20)}`);
let ok = true;
for (const r of runs) {
  console.log(`  ${r.name.padEnd(28)} ${r.secs.toFixed(2).padStart(8)} ${(r.landed / r.secs).toFixed(0).padStart(10)} ` +
    `${(r.bytes / 1e6).toFixed(0).padStart(8)} ${(r.bytes / 1e6 / r.secs).toFixed(1).padStart(7)} ${String(r.requests).padStart(9)} ` +
    `${r.cpu.toFixed(2).padStart(7)} ${r.rssMb.toFixed(0).padStart(12)} ${`${r.read}/${r.landed}/${r.quarantined}`.padStart(20)}`);
  if (r.read !== r.want[0] || r.landed !== r.want[1] || r.quarantined !== r.want[2]) {
    console.log(`    WARNING: ${r.read} read, ${r.landed} landed, ${r.quarantined} quarantined; expected ${r.want.join('/')}`);
    ok = false;
  }
  const pass = r.rssMb < LIMIT_MB;
  ok = ok && pass;
  console.log(`    ${pass ? 'PASS' : 'FAIL'}: sluice peak RSS < ${LIMIT_MB} MB: ${r.rssMb.toFixed(0)} MB`);
  if (!process.env.BENCH_KEEP) fs.rmSync(r.proj, { recursive: true, force: true });
}
const columns = runs.length && fs.existsSync(runs[0].proj) ? execFileSync(sluice, ['lake', 'show', '--project-dir', runs[0].proj, 'raw/api/accounts'], { encoding: 'utf8' }) : '';
const schema = (columns.split('\n\n').find(p => p.startsWith('schema:')) || '').trim().split('\n');
if (schema.length > 2) console.log(`  ${schema.length - 2} columns after flattening (paged)`);
process.exitCode = ok ? 0 : 1;
