// A 300 MiB table goes to a lake on S3 as multipart uploads in bounded memory:
// `sluice run` (CSV source, lake on s3rver, SQLite warehouse) with an 8 MiB part
// size keeps its peak RSS (/usr/bin/time -f %M) under 200 MiB, every part but the
// last is exactly the part size, no upload is left open, and the warehouse gets
// every row once.
//
// The binary measured is SLUICE_RSS_BIN, else SLUICE_BIN. Under AddressSanitizer
// the allocator's quarantine (256 MiB by default) would be measured instead of
// sluice, so an ASan binary runs with quarantine_size_mb=0.
// Takes about 15 s with a release build and 45 s with ASan, mostly ASan and the
// 300 MiB of input it generates first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SLUICE, tmpdir, writeFiles } from '../lib/harness.mjs';
import { startS3Server } from '../lib/s3server.mjs';
import { startFaultProxy } from '../lib/faultproxy.mjs';

const BIN = process.env.SLUICE_RSS_BIN || SLUICE;
const TABLE_MIB = Number(process.env.SLUICE_RSS_TABLE_MIB || 300);
const LIMIT_MIB = 200;
const PART = 8 << 20;
const SECRET = 'sluice-rss-SECRET-0e7b2c9d41';

let s3;
let proxy;

before(async () => {
  s3 = await startS3Server({ buckets: ['lake'], secret: SECRET });
  proxy = await startFaultProxy(s3.endpoint);
});

after(async () => {
  await proxy?.stop();
  await s3?.stop();
});

// Writes about mib MiB of CSV whose payload column does not compress (random
// base64), so the Parquet files stay large; returns the row count.
function generate(file, mib) {
  const fd = fs.openSync(file, 'w');
  const target = mib * (1 << 20);
  let written = 0;
  let id = 0;
  fs.writeSync(fd, 'id,amount,at,payload\n');
  while (written < target) {
    const rnd = crypto.randomBytes(150 * 4096);
    const rows = [];
    for (let k = 0; k < 4096; k++) {
      id++;
      rows.push(`${id},${id % 100000}.${String(id % 100).padStart(2, '0')},` +
        `2025-01-01T00:00:${String(id % 60).padStart(2, '0')}Z,${rnd.subarray(k * 150, (k + 1) * 150).toString('base64')}`);
    }
    const s = rows.join('\n') + '\n';
    fs.writeSync(fd, s);
    written += Buffer.byteLength(s);
  }
  fs.closeSync(fd);
  return id;
}

function isAsan(bin) {
  return fs.readFileSync(bin).includes('__asan_init');
}

// Runs the binary under /usr/bin/time; resolves {code, stdout, stderr, rssKb}.
function timed(args, { cwd, env }) {
  const out = path.join(cwd, 'time.txt');
  return new Promise(resolve => {
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', out, BIN, ...args], { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('close', code => {
      const rssKb = Number(fs.readFileSync(out, 'utf8').trim().split('\n').pop());
      resolve({ code, stdout, stderr, rssKb });
    });
  });
}

test(`a ${TABLE_MIB} MiB table goes up as multipart uploads with peak RSS under ${LIMIT_MIB} MiB`, { timeout: 600000 }, async t => {
  const dir = tmpdir('sluice-rss-');
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: s3://lake/rss\n',
    'sources/bulk.yml': 'source: bulk\nkind: csv\ntables:\n  - name: rows\n    path: data/big.csv\n' +
      '    columns: {id: int64, amount: "decimal(10,2)", at: timestamp}\n',
  });
  fs.mkdirSync(path.join(dir, 'data'));
  const t0 = Date.now();
  const rows = generate(path.join(dir, 'data/big.csv'), TABLE_MIB);
  const inputBytes = fs.statSync(path.join(dir, 'data/big.csv')).size;
  t.diagnostic(`generated ${rows} rows, ${(inputBytes / 2 ** 20).toFixed(1)} MiB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // every part PUT: its size
  const parts = [];
  proxy.inject({
    kind: 'status', times: Infinity,
    match: req => {
      if (req.method === 'PUT' && req.url.includes('partNumber='))
        parts.push({ url: req.url, bytes: Number(req.headers['content-length']) });
      return false;
    },
  });

  const asan = isAsan(BIN);
  const env = {
    AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: proxy.endpoint, SLUICE_S3_PART_SIZE: String(PART),
    ...(asan ? { ASAN_OPTIONS: 'quarantine_size_mb=0:thread_local_quarantine_size_kb=0:detect_leaks=1:halt_on_error=1' } : {}),
  };
  const t1 = Date.now();
  const r = await timed(['run', '--project-dir', dir], { cwd: dir, env });
  const secs = (Date.now() - t1) / 1000;
  assert.equal(r.code, 0, r.stdout + r.stderr.slice(-3000));
  assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error:/);
  const rssMib = r.rssKb / 1024;
  t.diagnostic(`${asan ? 'ASan' : 'release'} binary ${BIN}: sluice run peak RSS ${rssMib.toFixed(1)} MiB, ${secs.toFixed(1)} s, ` +
    `${parts.length} parts of ${PART >> 20} MiB`);

  const m = /^bulk\.rows\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.deepEqual(m.slice(1).map(Number), [1, rows, rows, 0, rows]);
  assert.ok(rssMib < LIMIT_MIB, `peak RSS ${rssMib.toFixed(1)} MiB is over ${LIMIT_MIB} MiB`);

  // multipart: the big data file went up in parts of exactly PART bytes (the last smaller)
  const byUpload = new Map();
  for (const p of parts) {
    const id = new URL(p.url, 'http://x').searchParams.get('uploadId');
    if (!byUpload.has(id)) byUpload.set(id, []);
    byUpload.get(id).push(p);
  }
  assert.ok(byUpload.size >= 1, 'no multipart upload');
  let uploaded = 0;
  for (const ps of byUpload.values()) {
    ps.slice(0, -1).forEach(p => assert.equal(p.bytes, PART, p.url));
    assert.ok(ps[ps.length - 1].bytes <= PART);
    uploaded += ps.reduce((a, p) => a + p.bytes, 0);
  }
  assert.ok(parts.length >= 10, `${parts.length} parts`);
  assert.deepEqual(s3.uploads('lake'), [], 'a multipart upload was left open');
  assert.deepEqual(s3.sigFailures, []);

  // what the uploads assembled is what the lake references
  const dataDir = path.join(s3.dir, 'lake/rss/raw/bulk/rows/data');
  const stored = fs.readdirSync(dataDir).filter(f => f.endsWith('.parquet._S3rver_object'))
    .map(f => fs.statSync(path.join(dataDir, f)).size);
  assert.ok(stored.reduce((a, b) => a + b, 0) >= uploaded, 'stored objects are smaller than the parts sent');
  t.diagnostic(`lake data files on S3: ${stored.map(b => (b / 2 ** 20).toFixed(1) + ' MiB').join(', ')}`);

  const wh = path.join(dir, 'warehouse.raw.db');
  const got = execFileSync('sqlite3', [wh, 'SELECT count(*), count(DISTINCT id), sum(id) FROM bulk__rows'], { encoding: 'utf8' }).trim();
  assert.equal(got, `${rows}|${rows}|${(BigInt(rows) * BigInt(rows + 1) / 2n).toString()}`);
});
