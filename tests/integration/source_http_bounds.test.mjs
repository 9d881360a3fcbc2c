// The http source under hostile or broken APIs, driving the real binary
// against small JSON servers on 127.0.0.1: a bad value quarantines only its
// record (and the ledger counts it as one row), pagination that loops or
// never ends fails the task saying what repeated, retries stop at
// max_retry_time, credentials never reach another host on a redirect, and
// secrets in params never reach stdout, stderr or .sluice/state.db.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sluiceSpawn, tmpdir, writeFiles, duckText } from '../lib/harness.mjs';

// A server whose handler(req, url, log) answers; every request lands in log.
async function serve(handler, host = '127.0.0.1') {
  const log = [];
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    log.push({ path: u.pathname, query: Object.fromEntries(u.searchParams), headers: req.headers });
    handler(req, res, u, log);
  });
  await new Promise(r => srv.listen(0, host, r));
  const port = srv.address().port;
  return {
    log, port, url: `http://${host}:${port}`,
    close: () => new Promise(r => { srv.closeAllConnections?.(); srv.close(() => r()); }),
  };
}

function json(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function project(tableYml) {
  const dir = tmpdir();
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\n',
    'sources/api.yml': `source: api\nkind: http\ntables:\n  - name: items\n${tableYml}`,
  });
  return dir;
}

function run(dir, env = {}, args = []) {
  return new Promise((resolve, reject) => {
    const child = sluiceSpawn([...args, 'run', '--project-dir', dir], { env });
    let stdout = '', stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout, stderr }));
  });
}

function warehouse(dir) {
  const out = execFileSync('sqlite3', ['-json', path.join(dir, 'warehouse.raw.db'),
    'SELECT * FROM "api__items" ORDER BY id'], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

async function quarantined(dir) {
  const log = path.join(dir, 'lake', 'quarantine/api/items', '_delta_log');
  const live = new Set();
  for (const v of fs.readdirSync(log).filter(f => /^\d{20}\.json$/.test(f)).sort()) {
    for (const line of fs.readFileSync(path.join(log, v), 'utf8').split('\n').filter(Boolean)) {
      const a = JSON.parse(line);
      if (a.add) live.add(a.add.path);
      if (a.remove) live.delete(a.remove.path);
    }
  }
  const files = [...live].map(p => `'${path.join(dir, 'lake', 'quarantine/api/items', p)}'`);
  return duckText(`SELECT * FROM read_parquet([${files.join(',')}]) ORDER BY line`);
}

test('a number beyond int64 quarantines only its record; read = landed + quarantined', async () => {
  const api = await serve((req, res) => json(res, 200, '{"data": [{"id": 1, "n": 5}, ' +
    '{"id": 2, "n": 123456789012345678901234567890}, {"id": 3, "n": 7}, {"id": 4, "n": 1e400}]}'));
  try {
    const dir = project(`    url: ${api.url}/items
    records: data
    max_bad_rows: 5
`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /api\.items\s+\d+\s+4\s+2\s+2/);
    assert.deepEqual(warehouse(dir).map(x => [Number(x.id), Number(x.n)]), [[1, 5], [3, 7]]);
    const bad = await quarantined(dir);
    assert.deepEqual(bad.map(b => b.line), ['2', '4']);
    assert.equal(bad[0].reason, 'field "n": integer 123456789012345678901234567890 does not fit in 64 bits');
    assert.equal(JSON.parse(bad[0].raw).id, 2);
    assert.equal(bad[1].reason, 'field "n": number 1e400 does not fit in a 64-bit float');
  } finally {
    await api.close();
  }
});

test('a record above max_record_bytes is quarantined with its reason; the others land', async () => {
  const big = 'x'.repeat(200000);
  const api = await serve((req, res) => json(res, 200, {
    data: [{ id: 1, s: 'a' }, { id: 2, s: big }, { id: 3, s: 'c', deep: { list: Array(1000).fill(1) } }, { id: 4, s: 'd' }],
  }));
  try {
    const dir = project(`    url: ${api.url}/items
    records: data
    flatten: json
    max_record_bytes: 65536
    max_bad_rows: 5
`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /api\.items\s+\d+\s+4\s+3\s+1/);
    assert.deepEqual(warehouse(dir).map(x => Number(x.id)), [1, 3, 4]);
    const bad = await quarantined(dir);
    assert.equal(bad.length, 1);
    assert.equal(bad[0].line, '2');
    assert.equal(bad[0].reason, 'record larger than max_record_bytes (65536 bytes); not kept');
    assert.equal(bad[0].raw, '');
  } finally {
    await api.close();
  }
});

test('a body that is not JSON is one quarantined page, kept only in part', async () => {
  const html = '<html>' + 'x'.repeat(300000) + '</html>';
  const api = await serve((req, res) => json(res, 200, html));
  try {
    const dir = project(`    url: ${api.url}/items
    records: data
    max_bad_rows: 1
`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /api\.items\s+\d+\s+1\s+0\s+1/);
    const bad = await quarantined(dir);
    assert.match(bad[0].reason, /^response is not JSON: lexical error: invalid char in json text\. \(near byte 1\)$/);
    assert.ok(bad[0].raw.length <= 65536, `raw holds ${bad[0].raw.length} bytes`);
  } finally {
    await api.close();
  }
});

test('a page answered in another order after a broken transfer fails the task; nothing lands twice or is lost', async () => {
  const records = Array.from({ length: 3000 }, (_, i) => ({ id: i + 1, pad: 'p'.repeat(50) }));
  const body = JSON.stringify({ data: records });
  const reversed = JSON.stringify({ data: [...records].reverse() });
  let calls = 0;
  const api = await serve((req, res) => {
    calls++;
    const text = calls === 2 ? reversed : body;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    if (calls === 1) {
      res.write(text.slice(0, text.length >> 1), () => setTimeout(() => req.socket.destroy(), 50));
      return;
    }
    res.end(text);
  });
  try {
    const dir = project(`    url: ${api.url}/items
    records: data
    primary_key: [id]
`);
    let r = await run(dir);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.match(r.stdout, /the connection broke in the middle of the page, and the server answered it again with other records \(record 1 differs\); nothing of this run lands: run again/);
    assert.equal(fs.existsSync(path.join(dir, 'lake', 'raw', 'api', 'items')), false);
    // the next run reads the page afresh: every record once
    r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(warehouse(dir).map(x => Number(x.id)), records.map(x => x.id));
  } finally {
    await api.close();
  }
});

test('a transfer broken after some records is retried, and those records land once', async () => {
  const records = Array.from({ length: 3000 }, (_, i) => ({ id: i + 1, pad: 'p'.repeat(50) }));
  const body = JSON.stringify({ data: records });
  let first = true;
  const api = await serve((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    if (first) {
      // about half the body, then the connection drops
      first = false;
      res.write(body.slice(0, body.length >> 1), () => setTimeout(() => req.socket.destroy(), 50));
      return;
    }
    res.end(body);
  });
  try {
    const dir = project(`    url: ${api.url}/items
    records: data
    primary_key: [id]
`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /api\.items\s+\d+\s+3000\s+3000\s+0/);
    assert.match(r.stderr, /retry 1 of 5/);
    assert.match(r.stderr, /reading the page again, skipping the \d+ records already read/);
    const ids = warehouse(dir).map(x => Number(x.id));
    assert.deepEqual(ids, records.map(x => x.id));
    assert.equal(api.log.length, 2);
  } finally {
    await api.close();
  }
});

test('a cursor that cycles (A, B, A) fails the task naming the table and the cursor', async () => {
  const next = { '': 'A', A: 'B', B: 'A' };
  const api = await serve((req, res, u) => {
    const c = u.searchParams.get('cursor') || '';
    json(res, 200, { data: [{ id: c.charCodeAt(0) || 1 }], meta: { next: next[c] } });
  });
  try {
    const dir = project(`    url: ${api.url}/items
    records: data
    pagination: {type: cursor, next: meta.next, param: cursor}
`);
    const r = await run(dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout + r.stderr, /http source api\.items: the server's next cursor "A" after page 3 was already used: its pagination loops/);
    assert.equal(api.log.length, 3);
  } finally {
    await api.close();
  }
});

test('a Link next URL seen before fails the task', async () => {
  const api = await serve((req, res, u) => {
    const p = Number(u.searchParams.get('p') || 1);
    json(res, 200, [{ id: p }], { Link: `</items?p=${p === 2 ? 1 : 2}>; rel="next"` });
  });
  try {
    const dir = project(`    url: ${api.url}/items
    pagination: {type: link}
`);
    const r = await run(dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout + r.stderr, /http source api\.items: the server's next URL "http:\/\/127\.0\.0\.1:\d+\/items\?p=2" after page 3 was already used/);
    assert.deepEqual(api.log.map(e => e.query.p), [undefined, '2', '1']);
  } finally {
    await api.close();
  }
});

test('a page parameter the server ignores fails on the repeated page', async () => {
  const api = await serve((req, res) => json(res, 200, { items: [{ id: 1 }, { id: 2 }], request_id: Math.random() }));
  try {
    const dir = project(`    url: ${api.url}/items
    records: items
    pagination: {type: page, param: page}
`);
    const r = await run(dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout + r.stderr, /http source api\.items: pages 1 to 3 \(the last http:\/\/127\.0\.0\.1:\d+\/items\?page=3\) hold the same 2 records: the server ignores the pagination \(page\)/);
    assert.equal(api.log.length, 3);
  } finally {
    await api.close();
  }
});

test('max_pages: more pages than allowed is an error, not a silent stop', async () => {
  const api = await serve((req, res, u) => {
    const p = Number(u.searchParams.get('page'));
    json(res, 200, { items: [{ id: p }] });
  });
  try {
    const dir = project(`    url: ${api.url}/items
    records: items
    pagination: {type: page}
    max_pages: 4
`);
    const r = await run(dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout + r.stderr, /http source api\.items: the API has more than max_pages \(4\) pages; raise max_pages/);
    // the request past max_pages is how paging learns there are more
    assert.equal(api.log.length, 5);
  } finally {
    await api.close();
  }
});

test('an API of exactly max_pages pages is read whole', async () => {
  const api = await serve((req, res, u) => {
    const p = Number(u.searchParams.get('page'));
    json(res, 200, { items: p <= 4 ? [{ id: p }] : [] });
  });
  try {
    const dir = project(`    url: ${api.url}/items
    records: items
    pagination: {type: page}
    max_pages: 4
`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(warehouse(dir).map(x => Number(x.id)), [1, 2, 3, 4]);
  } finally {
    await api.close();
  }
});

test('time spent receiving a body does not count toward max_retry_time', async () => {
  const records = Array.from({ length: 40 }, (_, i) => ({ id: i + 1 }));
  const body = JSON.stringify({ items: records });
  let calls = 0;
  const api = await serve((req, res) => {
    calls++;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    if (calls > 1) return res.end(body);
    // the first answer trickles for about 3 s, then the connection drops
    let at = 0;
    const tick = setInterval(() => {
      res.write(body.slice(at, at + 10));
      at += 10;
      if (at > body.length / 2) {
        clearInterval(tick);
        req.socket.destroy();
      }
    }, 120);
  });
  try {
    const dir = project(`    url: ${api.url}/items
    records: items
    max_retry_time: 2s
`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(warehouse(dir).map(x => Number(x.id)), records.map(x => x.id));
    assert.equal(calls, 2);
  } finally {
    await api.close();
  }
});

test('retries stop at max_retry_time and say so', async () => {
  const api = await serve((req, res) => json(res, 503, { error: 'busy' }, { 'Retry-After': '1' }));
  try {
    const dir = project(`    url: ${api.url}/items
    records: items
    max_retries: 50
    max_retry_time: 2s
`);
    const r = await run(dir);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout + r.stderr, /http source api\.items: http:\/\/127\.0\.0\.1:\d+\/items: HTTP 503; max_retry_time \(2s\) reached after \d+ retries/);
    assert.ok(api.log.length < 6, `${api.log.length} requests`);
    // a bad duration is a configuration error naming the key
    const bad = project(`    url: ${api.url}/items
    max_retry_time: soon
`);
    const c = await run(bad);
    assert.equal(c.code, 2);
    assert.match(c.stdout + c.stderr, /"max_retry_time" in table "items" must be a duration like 90s, 10m or 1h, not "soon"/);
  } finally {
    await api.close();
  }
});

test('a redirect to another host gets no credential; the same host keeps them', async () => {
  const other = await serve((req, res) => json(res, 200, { items: [{ id: 2 }] }), '127.0.0.1');
  const otherUrl = `http://localhost:${other.port}`;
  const api = await serve((req, res, u) => {
    if (u.pathname === '/away') return json(res, 302, '', { Location: `${otherUrl}/items` });
    if (u.pathname === '/keyed') return json(res, 307, '', { Location: `${otherUrl}/items?api_key=${u.searchParams.get('api_key')}` });
    if (u.pathname === '/here') return json(res, 301, '', { Location: '/items' });
    json(res, 200, { items: [{ id: 1 }] });
  });
  const env = { API_KEY: 'k3y-CANARY-7781', PASS: 'pw-CANARY-5512' };
  try {
    for (const [route, want] of [['/here', api], ['/away', other]]) {
      api.log.length = 0;
      other.log.length = 0;
      const dir = project(`    url: ${api.url}${route}
    records: items
    headers: {X-Custom: hello}
    auth: {api_key_header: X-Api-Key, api_key: "\${API_KEY}"}
`);
      const r = await run(dir, env);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(api.log[0].headers['x-api-key'], env.API_KEY);
      const last = want.log[want.log.length - 1];
      assert.equal(last.path, '/items');
      if (want === api) {
        assert.equal(last.headers['x-api-key'], env.API_KEY);
        assert.equal(last.headers['x-custom'], 'hello');
      } else {
        assert.equal(other.log.length, 1);
        assert.equal(last.headers['x-api-key'], undefined);
        assert.equal(last.headers['x-custom'], undefined);
        assert.equal(last.headers.authorization, undefined);
        assert.equal(last.headers.accept, 'application/json');
      }
    }
    // bearer and basic auth: not sent to the other host either
    for (const auth of ['{bearer: "${API_KEY}"}', '{basic_user: u, basic_password: "${PASS}"}']) {
      other.log.length = 0;
      const dir = project(`    url: ${api.url}/away
    records: items
    auth: ${auth}
`);
      const r = await run(dir, env);
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.equal(other.log.length, 1);
      assert.equal(other.log[0].headers.authorization, undefined);
    }
    // a key in the query string that the Location carries on: refused
    other.log.length = 0;
    const dir = project(`    url: ${api.url}/keyed
    params: {api_key: "\${API_KEY}"}
    records: items
`);
    const r = await run(dir, env);
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, /is on another host than the configured URL and carries a credential in its URL; not requested/);
    assert.equal(other.log.length, 0);
    assert.ok(!(r.stdout + r.stderr).includes('CANARY'));
  } finally {
    await api.close();
    await other.close();
  }
});

test('a token in params never reaches stdout, stderr or state.db, even in errors', async () => {
  // A token with characters that are percent-encoded in a URL.
  const token = 'tok/CANARY+9=z x';
  let mode = 'ok';
  const api = await serve((req, res, u) => {
    if (mode === 'ok') return json(res, 200, { items: [{ id: 1, v: 'a' }] });
    if (mode === '503') return json(res, 503, { error: 'down' });
    // the server echoes the token in a long error body, where the 200-byte
    // cut falls inside it
    const pad = 'e'.repeat(200 - 'Bearer '.length - 4);
    return json(res, 400, `${pad}Bearer ${u.searchParams.get('access_token')} rejected`);
  });
  try {
    const dir = project(`    url: ${api.url}/items
    params: {access_token: "\${API_TOKEN}", q: x, t: "\${OTHER}"}
    records: items
    max_retries: 1
`);
    const outputs = [];
    for (mode of ['ok', '503', '400']) {
      const r = await run(dir, { API_TOKEN: token, OTHER: 'o&CANARY/2 b' }, ['--log-level', 'debug']);
      assert.equal(r.code, mode === 'ok' ? 0 : 1, r.stderr + r.stdout);
      if (mode === '503') assert.match(r.stdout + r.stderr, /items\?access_token=\*\*\*&q=x&t=\*\*\*: HTTP 503/);
      if (mode === '400') assert.match(r.stdout + r.stderr, /HTTP 400: e+Bearer \*\*\*/);
      outputs.push(r.stdout, r.stderr);
    }
    assert.equal(api.log[0].query.access_token, token);
    const dump = execFileSync('sqlite3', [path.join(dir, '.sluice', 'state.db'), '.dump'], { encoding: 'utf8' });
    for (const text of [...outputs, dump]) {
      assert.ok(!text.includes('CANARY'), text);
      assert.ok(!text.includes(encodeURIComponent(token)), text);
      assert.ok(!text.toLowerCase().includes('o%26canary'), text);
    }
  } finally {
    await api.close();
  }
});

test('JSON fields whose names differ only in case land under unique names and load into SQLite', async () => {
  const api = await serve((req, res) => json(res, 200, { data: [
    { id: 1, Name: 'a', name: 'b', NAME: 'c' },
    { id: 2, Name: 'd', name: null, NAME: 'f' },
  ] }));
  try {
    const dir = project(`    url: ${api.url}/items\n    records: data\n`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^note: api\.items: column names that repeat \(ignoring case\) were renamed: name → name_1, NAME → NAME_2$/m);
    assert.deepEqual(warehouse(dir).map(({ id, Name, name_1, NAME_2 }) => ({ id, Name, name_1, NAME_2 })), [
      { id: 1, Name: 'a', name_1: 'b', NAME_2: 'c' },
      { id: 2, Name: 'd', name_1: null, NAME_2: 'f' },
    ]);
  } finally {
    await api.close();
  }
});

test('credentials a server echoes in an error body never show: basic auth in base64, a bearer token JSON-escaped', async () => {
  const api = await serve((req, res) => {
    const auth = req.headers.authorization || '';
    // one echo as sent, one as a JSON encoder that escapes '/' writes it
    json(res, 401, `{"error":"bad ${auth}","escaped":"${auth.replace(/\//g, '\\/')}"}`);
  });
  try {
    const user = 'reviewer-user', pass = 'passw0rd/Secret+9';
    const b64 = Buffer.from(`${user}:${pass}`).toString('base64');
    for (const auth of ['{basic_user: "${BU}", basic_password: "${BP}"}', '{bearer: "${BT}"}']) {
      const dir = project(`    url: ${api.url}/items\n    auth: ${auth}\n    max_retries: 0\n`);
      const r = await run(dir, { BU: user, BP: pass, BT: 'tok/en+CANARY9' });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /HTTP 401/);
      const dump = execFileSync('sqlite3', [path.join(dir, '.sluice', 'state.db'), '.dump'], { encoding: 'utf8' });
      for (const text of [r.stdout, r.stderr, dump])
        for (const secret of [pass, b64, 'tok/en+CANARY9', 'tok\\/en+CANARY9'])
          assert.ok(!text.includes(secret), `${secret} shows in:\n${text}`);
    }
  } finally {
    await api.close();
  }
});

test('an empty field name gets its position as a name; more distinct fields than max_columns fail the task', async () => {
  const wide = {};
  for (let i = 0; i < 50; i++) wide[`f${i}`] = i;
  const api = await serve((req, res, u) => json(res, 200, u.pathname === '/wide'
    ? { data: [{ id: 1, ...wide }] }
    : { data: [{ id: 1, '': 3 }, { id: 2, '': 4 }] }));
  try {
    let dir = project(`    url: ${api.url}/items\n    records: data\n`);
    let r = await run(dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /renamed: "" → column2$/m);
    assert.deepEqual(warehouse(dir).map(({ id, column2 }) => [id, column2]), [[1, 3], [2, 4]]);
    dir = project(`    url: ${api.url}/wide\n    records: data\n    max_columns: 10\n`);
    r = await run(dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /http source api\.items: the records have more than max_columns \(10\) distinct fields; set max_columns on the table to read them/);
  } finally {
    await api.close();
  }
});

test('two equal pages in a row are data, not a loop: small pages of repeated rows land', async () => {
  const pages = [[{ status: 'ok' }], [{ status: 'ok' }], [{ status: 'fail' }], []];
  const api = await serve((req, res, u) => json(res, 200, pages[Number(u.searchParams.get('page') || 1) - 1] || []));
  try {
    const dir = project(`    url: ${api.url}/items\n    pagination: {type: page, size_param: per_page, size: 1}\n`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^api\.items\s+\d+\s+3\s+3\s+0\s/m);
  } finally {
    await api.close();
  }
});

test('a key twice in one record quarantines that record instead of keeping only its last value', async () => {
  const api = await serve((req, res) => json(res, 200,
    '{"data": [{"id": 1, "v": 1, "v": 2}, {"id": 2, "v": 3}, {"id": 3, "o": {"k": 1, "k": 2}}]}'));
  try {
    const dir = project(`    url: ${api.url}/items\n    records: data\n    max_bad_rows: 5\n`);
    const r = await run(dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /api\.items\s+\d+\s+3\s+1\s+2/);
    assert.deepEqual(warehouse(dir).map(x => [Number(x.id), Number(x.v)]), [[2, 3]]);
    const bad = await quarantined(dir);
    assert.deepEqual(bad.map(b => [b.line, b.reason]), [
      ['1', 'field "v" appears twice in one object'],
      ['3', 'field "k" appears twice in one object'],
    ]);
  } finally {
    await api.close();
  }
});
