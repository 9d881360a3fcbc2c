// `sluice run` on http sources against a local JSON API (tests/lib/httpserver.mjs):
// every record lands exactly once in each pagination style; 429, 503 and
// dropped connections are retried; a malformed page is quarantined (or fails
// the task); incremental runs ask for what changed since the watermark and
// the warehouse (write: merge) ends equal to the API's records.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sluiceSpawn, tmpdir, writeFiles, duckText } from '../lib/harness.mjs';
import { startHttpServer, makeRecords } from '../lib/httpserver.mjs';

let api;
before(async () => { api = await startHttpServer(); });
after(async () => { await api.close(); });

function project(tableYml, extra = {}) {
  const dir = tmpdir();
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\n',
    'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: items\n${tableYml}`,
    ...extra,
  });
  return dir;
}

// The raw warehouse table as objects (SQLite: ./warehouse.raw.db, api__items).
function warehouse(dir, table = 'api__items', order = 'id') {
  const db = path.join(dir, 'warehouse.raw.db');
  const out = execFileSync('sqlite3', ['-json', db, `SELECT * FROM "${table}" ORDER BY ${order}`], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

function liveFiles(dir, table) {
  const log = path.join(dir, 'lake', table, '_delta_log');
  const live = new Set();
  if (!fs.existsSync(log)) return [];
  for (const v of fs.readdirSync(log).filter(f => /^\d{20}\.json$/.test(f)).sort()) {
    for (const line of fs.readFileSync(path.join(log, v), 'utf8').split('\n').filter(Boolean)) {
      const a = JSON.parse(line);
      if (a.add) live.add(a.add.path);
      if (a.remove) live.delete(a.remove.path);
    }
  }
  return [...live].map(p => `'${path.join(dir, 'lake', table, p)}'`);
}

// Runs sluice without blocking the event loop (the API server lives in
// this process); resolves to {code, stdout, stderr}.
function run(dir, env = {}) {
  return new Promise((resolve, reject) => {
    const child = sluiceSpawn(['run', '--project-dir', dir], { env });
    let stdout = '', stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function assertAllOnce(dir, n = 23) {
  const rows = warehouse(dir);
  assert.equal(rows.length, n);
  assert.deepEqual(rows.map(r => Number(r.id)), Array.from({ length: n }, (_, i) => i + 1));
  return rows;
}

const styles = {
  page: `    url: URL/page
    records: data.items
    pagination: {type: page, param: page, size_param: per_page, size: "5", total: meta.total}
`,
  offset: `    url: URL/offset
    records: items
    pagination: {type: offset, offset_param: offset, limit_param: limit, limit: "4"}
`,
  cursor: `    url: URL/cursor
    params: {limit: "6"}
    records: data
    pagination: {type: cursor, next: meta.next_cursor, param: cursor}
`,
  link: `    url: URL/link
    params: {per_page: "7"}
    pagination: {type: link}
`,
};

for (const [style, yml] of Object.entries(styles)) {
  test(`${style} pagination lands every record exactly once`, async () => {
    api.reset();
    const dir = project(yml.replace('URL', api.url) + '    primary_key: [id]\n    write: merge\n');
    const r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /api\.items\s+\d+\s+23\s+23\s+0/);
    const rows = assertAllOnce(dir);
    // flattened nested objects, arrays as JSON, inferred types
    const r4 = rows[3];
    assert.equal(r4.name, 'item 4');
    assert.equal(r4.customer__name, 'c4');
    assert.equal(r4.customer__address__city, 'Lima');
    assert.equal(r4.tags, '["x","y"]');
    assert.equal(Number(r4.amount), 5);
    assert.equal(rows[0].amount, 1.25);
    assert.match(String(r4.updated_at), /^2024-01-01 00:04:00/);
    // pages were requested in order, none twice
    const paths = api.log.map(e => e.path);
    assert.ok(paths.every(p => p === `/${style}`));
    const keys = api.log.map(e => JSON.stringify(e.query));
    assert.equal(new Set(keys).size, keys.length, `a page was fetched twice: ${keys}`);
  });
}

test('POST with a JSON body, bearer auth from the environment, secret never shown', async () => {
  api.reset();
  api.auth = { header: 'Authorization', value: 'Bearer s3cr3t-token' };
  try {
    const dir = project(`    url: ${api.url}/search
    method: POST
    body: '{"updated_since": "{{ watermark }}"}'
    headers: {X-Trace: abc}
    auth: {bearer: "\${API_TOKEN}"}
    records: data.items
    pagination: {type: page, size_param: per_page, size: "10"}
    primary_key: [id]
    write: merge
`);
    const r = await run(dir, { API_TOKEN: 's3cr3t-token' });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assertAllOnce(dir);
    assert.ok(api.log.length >= 3);
    assert.ok(api.log.every(e => e.method === 'POST' && e.headers['x-trace'] === 'abc'));
    assert.equal(api.log[0].headers['content-type'], 'application/json');
    assert.equal(JSON.parse(api.log[0].body).updated_since, '');
    assert.ok(!(r.stdout + r.stderr).includes('s3cr3t'));

    // without the token: a clear failure naming the status
    api.reset();
    const bad = await run(dir, { API_TOKEN: 'wrong' });
    assert.equal(bad.code, 1);
    assert.match(bad.stdout + bad.stderr, /HTTP 401/);
    assert.ok(!(bad.stdout + bad.stderr).includes('wrong'));
  } finally {
    api.auth = null;
  }
});

test('429 with Retry-After, intermittent 503s and a dropped connection are retried', async () => {
  for (const fault of ['429', '503', 'drop']) {
    api.reset();
    const dir = project(`    url: ${api.url}/page
    params: {fault: "${fault}"}
    records: data.items
    pagination: {type: page, size_param: per_page, size: "5"}
    primary_key: [id]
    write: merge
`);
    const t0 = Date.now();
    const r = await run(dir);
    assert.equal(r.code, 0, `${fault}: ${r.stderr}${r.stdout}`);
    assertAllOnce(dir);
    const failed = api.log.filter(e => e.status !== 200);
    assert.ok(failed.length >= 1, `${fault}: no fault fired`);
    if (fault === '429') {
      assert.equal(failed[0].status, 429);
      assert.ok(Date.now() - t0 >= 1000, 'Retry-After: 1 was not honoured');
      const i = api.log.indexOf(failed[0]);
      assert.equal(api.log[i + 1].query.page, '2');
    }
    if (fault === '503') assert.deepEqual(failed.map(e => e.status), [503, 503]);
    if (fault === 'drop') assert.ok(failed.some(e => e.status === 'dropped'));
    assert.match(r.stderr, /retry 1 of 5/);
    // The summary reports the requests and retries it took.
    const note = r.stdout.match(/note: \S+: (\d+) requests?, (\d+) retr(?:y|ies)/);
    assert.ok(note, r.stdout);
    if (fault === 'drop') {
      // libcurl itself re-sends a request once when a reused keep-alive
      // connection turns out dead, so not every drop is a retry of ours.
      assert.ok(Number(note[2]) >= 1 && Number(note[2]) <= failed.length, r.stdout);
      assert.equal(Number(note[1]), api.log.length - failed.length + Number(note[2]));
    } else {
      assert.equal(Number(note[1]), api.log.length);
      assert.equal(Number(note[2]), failed.length);
    }
  }
});

test('a server that keeps failing fails the task after max_retries', async () => {
  api.reset();
  const dir = project(`    url: ${api.url}/page
    params: {fault: always503}
    records: data.items
    max_retries: 2
`);
  const r = await run(dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /HTTP 503, still failing after 2 retries/);
  assert.equal(api.log.length, 3);
});

test('a malformed page is quarantined with its URL and body; the rest lands', async () => {
  api.reset();
  const dir = project(`    url: ${api.url}/offset
    params: {fault: malformed}
    records: items
    pagination: {type: offset, limit: "5"}
    primary_key: [id]
    write: merge
    max_bad_rows: 1
`);
  const r = await run(dir);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  // page 2 (records 6..10) never parsed: 18 records and 1 quarantined page
  assert.match(r.stdout, /api\.items\s+\d+\s+19\s+18\s+1/);
  const rows = warehouse(dir);
  assert.deepEqual(rows.map(x => Number(x.id)), [1, 2, 3, 4, 5, ...Array.from({ length: 13 }, (_, i) => i + 11)]);
  const q = liveFiles(dir, 'quarantine/api/items');
  assert.ok(q.length >= 1);
  const bad = await duckText(`SELECT * FROM read_parquet([${q.join(',')}])`);
  assert.equal(bad.length, 1);
  assert.match(bad[0].reason, /response is not JSON/);
  assert.equal(bad[0].raw, '{not json');
  assert.match(bad[0].source_file, /\/offset\?fault=malformed&offset=5&limit=5$/);
});

test('on_bad_page: fail fails the task on a malformed page and lands nothing', async () => {
  api.reset();
  const dir = project(`    url: ${api.url}/page
    params: {fault: malformed}
    records: data.items
    pagination: {type: page, size_param: per_page, size: "5"}
    on_bad_page: fail
`);
  const r = await run(dir);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /response is not JSON.*on_bad_page: fail/);
  assert.ok(!fs.existsSync(path.join(dir, 'warehouse.raw.db')) || warehouse(dir).length === 0);
});

test('a field that appears after the inferred schema is quarantined, not dropped', async () => {
  const saved = api.records;
  api.records = makeRecords(1100);
  api.records[1049].surprise = 'new';
  api.reset();
  try {
    const dir = project(`    url: ${api.url}/page
    records: data.items
    pagination: {type: page, size_param: per_page, size: "100"}
    primary_key: [id]
    write: merge
    max_bad_rows: 1
`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /api\.items\s+\d+\s+1100\s+1099\s+1/);
    const q = liveFiles(dir, 'quarantine/api/items');
    const bad = await duckText(`SELECT * FROM read_parquet([${q.join(',')}])`);
    assert.equal(bad.length, 1);
    assert.match(bad[0].reason, /unexpected field "surprise"/);
    assert.equal(JSON.parse(bad[0].raw).id, 1050);
    assert.equal(bad[0].line, '50');
  } finally {
    api.records = saved;
  }
});

test('incremental by watermark: updates and late records inside the lookback land once', async () => {
  const saved = api.records;
  api.records = makeRecords(23);
  api.reset();
  try {
    const dir = project(`    url: ${api.url}/cursor
    params: {limit: "5", updated_since: "{{ watermark }}"}
    records: data
    pagination: {type: cursor, next: meta.next_cursor, param: cursor}
    cursor: updated_at
    lookback: 10m
    primary_key: [id]
    write: merge
`);
    let r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assertAllOnce(dir);
    assert.equal(api.log[0].query.updated_since, undefined); // first run: no lower bound

    // an update, two new records and a late one (inside the 10m lookback)
    const at = Date.UTC(2024, 0, 1);
    api.records[4] = { ...api.records[4], name: 'item 5 v2', updated_at: new Date(at + 30 * 60000).toISOString() };
    api.records.push(...makeRecords(2, 24));
    api.records.push({ ...makeRecords(1, 26)[0], updated_at: new Date(at + 17 * 60000).toISOString() });
    api.reset();
    r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    // asked since watermark (00:23) minus lookback (10m)
    assert.equal(api.log[0].query.updated_since, '2024-01-01T00:13:00Z');
    const rows = warehouse(dir);
    assert.equal(rows.length, 26);
    assert.deepEqual(rows.map(x => Number(x.id)), Array.from({ length: 26 }, (_, i) => i + 1));
    assert.equal(rows[4].name, 'item 5 v2');
    assert.equal(rows[25].name, 'item 26');

    // one more update; the watermark is now 00:30
    api.records[0] = { ...api.records[0], name: 'item 1 v2', updated_at: new Date(at + 40 * 60000).toISOString() };
    api.reset();
    r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(api.log[0].query.updated_since, '2024-01-01T00:20:00Z');
    const rows3 = warehouse(dir);
    assert.equal(rows3.length, 26);
    assert.equal(rows3[0].name, 'item 1 v2');
  } finally {
    api.records = saved;
  }
});

test('a run with no new records succeeds and keeps the warehouse', async () => {
  api.reset();
  const dir = project(`    url: ${api.url}/cursor
    params: {updated_since: "{{ watermark }}"}
    records: data
    pagination: {type: cursor, next: meta.next_cursor, param: cursor}
    cursor: updated_at
    primary_key: [id]
    write: merge
`);
  assert.equal((await run(dir)).code, 0);
  const r = await run(dir);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assertAllOnce(dir);
});
