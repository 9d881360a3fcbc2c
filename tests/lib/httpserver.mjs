// A JSON API on 127.0.0.1 (random port) for the http source's tests. It
// serves server.records (mutable between runs) in each pagination style and
// records every request it gets in server.log ({method, path, query, headers,
// body, status}):
//   GET /page?page=N&per_page=S        {"data":{"items":[...]},"meta":{"total":T}}
//   GET /offset?offset=O&limit=L       {"items":[...],"total":T}
//   GET /cursor?cursor=C&limit=L       {"data":[...],"meta":{"next_cursor":C|null}}
//   GET /link?page=N&per_page=S        [...] with Link: <...page=N+1...>; rel="next"
//   POST /search?page=N&per_page=S     like /page; JSON body {"updated_since":ISO}
// Every route filters by ?updated_since=ISO (records with updated_at > it).
// Faults, fired once per (fault, route, page) unless noted (reset() re-arms), chosen with ?fault=:
//   fault=429      page 2 answers 429 with Retry-After: 1
//   fault=503      pages 1 and 3 answer 503 the first time
//   fault=drop     pages 1 and 2's first requests have their socket destroyed
//   fault=malformed  page 2 is always "{not json" with status 200
//   fault=always503  every request answers 503
// server.auth = {header, value} makes every request without it a 401.
import http from 'node:http';

export function makeRecords(n, start = 1, at = Date.UTC(2024, 0, 1)) {
  const out = [];
  for (let i = start; i < start + n; i++) {
    out.push({
      id: i,
      name: `item ${i}`,
      amount: i * 1.25,
      active: i % 2 === 0,
      customer: { name: `c${i % 7}`, address: { city: ['Oslo', 'Lima', 'Pune'][i % 3] } },
      tags: i % 4 === 0 ? ['x', 'y'] : [],
      updated_at: new Date(at + i * 60000).toISOString(),
    });
  }
  return out;
}

export async function startHttpServer(records = makeRecords(23)) {
  const fired = new Set();
  const server = {
    records, log: [], auth: null, port: 0, url: '',
    // Forgets the request log and which one-shot faults fired.
    reset() { this.log = []; fired.clear(); },
    close: () => new Promise(r => { srv.closeAllConnections?.(); srv.close(() => r()); }),
  };

  const once = key => {
    if (fired.has(key)) return false;
    fired.add(key);
    return true;
  };

  const send = (res, entry, status, body, headers = {}) => {
    entry.status = status;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const srv = http.createServer((req, res) => {
    let body = '';
    req.on('data', c => { body += c; });
    req.on('end', () => {
      const u = new URL(req.url, `http://127.0.0.1:${server.port}`);
      const q = Object.fromEntries(u.searchParams);
      const route = u.pathname;
      const entry = { method: req.method, path: u.pathname, query: q, headers: req.headers, body, status: null };
      server.log.push(entry);
      if (server.auth && req.headers[server.auth.header.toLowerCase()] !== server.auth.value) {
        return send(res, entry, 401, { error: 'unauthorized' });
      }
      let rows = server.records;
      let since = q.updated_since;
      if (route === '/search') {
        try { since = JSON.parse(body || '{}').updated_since; } catch { return send(res, entry, 400, { error: 'bad body' }); }
      }
      if (since) {
        since = Date.parse(since);
        rows = rows.filter(r => Date.parse(r.updated_at) > since);
      }
      let page = 1, size = 5, offset = 0;
      let json = null;
      if (route === '/page' || route === '/link' || route === '/search') {
        page = Number(q.page || 1);
        size = Number(q.per_page || 5);
        offset = (page - 1) * size;
      } else if (route === '/offset') {
        offset = Number(q.offset || 0);
        size = Number(q.limit || 5);
        page = Math.floor(offset / size) + 1;
      } else if (route === '/cursor') {
        offset = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString()) : 0;
        size = Number(q.limit || 5);
        page = Math.floor(offset / size) + 1;
      } else {
        return send(res, entry, 404, { error: 'no such route' });
      }
      const fk = `${q.fault}:${route}:${page}`;
      const fault = q.fault;
      if (fault === 'always503') return send(res, entry, 503, { error: 'down' });
      if (fault === '429' && page === 2 && once(fk)) {
        return send(res, entry, 429, { error: 'slow down' }, { 'Retry-After': '1' });
      }
      if (fault === '503' && (page === 1 || page === 3) && once(fk)) {
        return send(res, entry, 503, { error: 'unavailable' });
      }
      if (fault === 'drop' && (page === 1 || page === 2) && once(fk)) {
        entry.status = 'dropped';
        req.socket.destroy();
        return;
      }
      if (fault === 'malformed' && page === 2) return send(res, entry, 200, '{not json');

      const items = rows.slice(offset, offset + size);
      const headers = {};
      if (route === '/page' || route === '/search') {
        json = { data: { items }, meta: { total: rows.length, page } };
      } else if (route === '/offset') {
        json = { items, total: rows.length };
      } else if (route === '/cursor') {
        const next = offset + size < rows.length ? Buffer.from(String(offset + size)).toString('base64url') : null;
        json = { data: items, meta: { next_cursor: next } };
      } else if (route === '/link') {
        json = items;
        if (offset + size < rows.length) {
          const n = new URL(u);
          n.searchParams.set('page', String(page + 1));
          // a relative reference, as many APIs send
          headers.Link = `<${n.pathname}${n.search}>; rel="next", </link?page=1>; rel="first"`;
        }
      }
      send(res, entry, 200, json, headers);
    });
  });
  await new Promise(r => srv.listen(0, '127.0.0.1', r));
  server.port = srv.address().port;
  server.url = `http://127.0.0.1:${server.port}`;
  return server;
}
