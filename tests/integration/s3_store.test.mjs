// The S3 store against a real S3-compatible server: s3rver behind a fault-injecting
// proxy. Runs the cmocka live suite (tests/store/test_store_s3_live.c, from
// SL_UNIT_DIR) once clean and once per fault: 503 SlowDown, a connection cut in the
// middle of a part and of a single PUT, a stalled answer, a completion that keeps
// failing. Each time: retried, objects byte-identical (the suite compares them), no
// partial object visible, no multipart upload left behind, every request's SigV4
// signature verified on the wire, and the secret key nowhere in debug logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../lib/harness.mjs';
import { startS3Server } from '../lib/s3server.mjs';
import { startFaultProxy } from '../lib/faultproxy.mjs';

// the unit test binaries: SL_UNIT_DIR, else beside the binary under test, else build-asan
const UNIT = process.env.SL_UNIT_DIR ||
  (process.env.SLUICE_BIN ? path.join(path.dirname(process.env.SLUICE_BIN), 'tests') : path.join(ROOT, 'build-asan/tests'));
const LIVE = path.join(UNIT, 'test_store_s3_live');
const SECRET = 'sluice-test-SECRET-9f2c41d7e0';
const TOKEN = 'sluice-test-TOKEN-5b8e3a0c77';

let s3;
let proxy;

before(async () => {
  assert.ok(fs.existsSync(LIVE), `${LIVE} is missing: build the unit tests first (SL_UNIT_DIR)`);
  s3 = await startS3Server({ secret: SECRET });
  proxy = await startFaultProxy(s3.endpoint);
});

after(async () => {
  await proxy?.stop();
  await s3?.stop();
});

// Runs the live suite (optionally one test) through the proxy; resolves {code, stdout, stderr}.
// Asynchronous on purpose: the proxy and s3rver live in this process's event loop.
function runLive(filter, env = {}) {
  return new Promise(resolve => {
    const child = spawn(LIVE, [], {
      env: {
        ...process.env,
        SL_TEST_S3_ENDPOINT: proxy.endpoint,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: SECRET,
        AWS_SESSION_TOKEN: TOKEN,
        AWS_REGION: 'us-east-1',
        SLUICE_S3_RETRY_BASE_MS: '20',
        SLUICE_S3_LOW_SPEED_TIME: '1',
        SLUICE_LOG_LEVEL: 'debug',
        CMOCKA_MESSAGE_OUTPUT: 'TAP',
        ASAN_OPTIONS: process.env.ASAN_OPTIONS || 'detect_leaks=1:halt_on_error=1',
        ...(filter ? { SL_TEST_S3_FILTER: filter } : {}),
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('close', code => resolve({ code, stdout, stderr }));
  });
}

// What every run must leave true, pass or fail.
function assertNoLeftovers(r) {
  assert.deepEqual(s3.uploads('lake'), [], 'a multipart upload was left behind');
  assert.deepEqual(s3.sigFailures, [], 'a request was not signed as sent');
  assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), 'the secret key leaked into the output');
  assert.ok(!r.stderr.includes(TOKEN) && !r.stdout.includes(TOKEN), 'the session token leaked into the output');
  assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error:/);
}

function assertPassed(r, count) {
  const ok = r.stdout.split('\n').filter(l => l.startsWith('ok ')).length;
  assert.equal(r.code, 0, `live suite failed:\n${r.stdout}\n${r.stderr.slice(-4000)}`);
  assert.doesNotMatch(r.stdout, /^not ok/m);
  assert.equal(ok, count, r.stdout);
  assertNoLeftovers(r);
}

const isPart = req => req.method === 'PUT' && req.url.includes('partNumber=');

test('the live suite passes against s3rver with every request signed as sent', async () => {
  proxy.clear();
  const r = await runLive();
  assertPassed(r, 8);
  // debug logging is on and shows requests, without credentials
  assert.match(r.stderr, /s3: PUT http:\/\/127\.0\.0\.1:\d+\/lake\/t-[0-9a-f]+\/big\/data\.parquet\?partNumber=1&uploadId=\w+ -> 200/);
  assert.match(r.stderr, /s3: GET http:\/\/127\.0\.0\.1:\d+\/lake\?continuation-token=/);
  // four pages of 7 for the 27 keys under many/ (26 listed, plus the teardown's listing)
  assert.ok(proxy.log.filter(e => e.url.includes('continuation-token=')).length >= 3);
});

test('503 SlowDown answers are retried and the object completes byte-identical', async () => {
  proxy.clear();
  const parts = proxy.inject({ kind: 'status', status: 503, code: 'SlowDown', times: 3, match: isPart });
  const ranged = proxy.inject({ kind: 'status', status: 503, code: 'SlowDown', times: 2, match: req => !!req.headers.range });
  const r = await runLive('test_multipart_upload_and_ranged_reads');
  assertPassed(r, 1);
  assert.equal(parts.fired, 3);
  assert.equal(ranged.fired, 2);
  // every 503 was followed by a retry: 4 parts needed 7 PUTs
  assert.equal(proxy.log.filter(isPart).length, 7);
  assert.match(r.stderr, /retry 1 of 5/);
});

test('a connection cut in the middle of a part is retried from the part buffer', async () => {
  proxy.clear();
  const cut = proxy.inject({ kind: 'cut', afterBytes: 1 << 20, times: 1,
    match: req => isPart(req) && req.url.includes('partNumber=2&') });
  const r = await runLive('test_multipart_upload_and_ranged_reads');
  assertPassed(r, 1);
  assert.equal(cut.fired, 1);
  const part2 = proxy.log.filter(e => isPart(e) && e.url.includes('partNumber=2&'));
  assert.deepEqual(part2.map(e => e.status), ['cut', 200]);
});

test('a connection cut in the middle of a single PUT leaves no partial object', async () => {
  proxy.clear();
  const cut = proxy.inject({ kind: 'cut', afterBytes: 2 << 20, times: 1,
    match: req => req.method === 'PUT' && req.url.endsWith('/one/part.bin') });
  const r = await runLive('test_small_output_is_a_single_put');
  assertPassed(r, 1);
  assert.equal(cut.fired, 1);
  // the suite read the object back whole; the PUT was sent twice, no multipart
  assert.equal(proxy.log.filter(e => e.method === 'PUT' && e.url.endsWith('/one/part.bin')).length, 2);
  assert.equal(proxy.log.filter(e => e.url.includes('uploads')).length, 1); // only the suite's ListMultipartUploads
});

test('a stalled answer times out and is retried', async () => {
  proxy.clear();
  const slow = proxy.inject({ kind: 'delay', ms: 4000, times: 1, match: req => !!req.headers.range });
  const t0 = Date.now();
  const r = await runLive('test_multipart_upload_and_ranged_reads');
  assertPassed(r, 1);
  assert.equal(slow.fired, 1);
  assert.match(r.stderr, /Timeout was reached/);
  assert.ok(Date.now() - t0 < 60000);
});

test('a completion that keeps failing aborts the upload and shows S3\'s error', async () => {
  proxy.clear();
  const failing = proxy.inject({ kind: 'status', status: 500, code: 'InternalError', times: 100,
    match: req => req.method === 'POST' && req.url.includes('uploadId=') });
  const r = await runLive('test_multipart_upload_and_ranged_reads', { SLUICE_S3_MAX_RETRIES: '2' });
  assert.notEqual(r.code, 0);
  assert.equal(failing.fired, 3); // first try + 2 retries
  assert.match(r.stderr, /close: s3:\/\/lake\/t-[0-9a-f]+\/big\/data\.parquet: POST failed: 500 InternalError: Please reduce your request rate\. \(after 3 attempts\)/);
  assert.ok(proxy.log.some(e => e.method === 'DELETE' && e.url.includes('uploadId=')), 'no AbortMultipartUpload was sent');
  assertNoLeftovers(r);
  // nothing became visible
  const objects = fs.readdirSync(path.join(s3.dir, 'lake'), { recursive: true })
    .filter(f => String(f).endsWith('data.parquet._S3rver_object'));
  assert.deepEqual(objects, []);
});
