// A tiny HTTP proxy on 127.0.0.1 that forwards to an upstream server (s3rver) and
// injects faults on request, for retry tests:
//   proxy.inject({kind: 'status', status: 503, code: 'SlowDown', times: 3, match})
//   proxy.inject({kind: 'cut', afterBytes: 1 << 20, times: 1, match})   // drop the
//       connection after K bytes of the request body (upstream request aborted too)
//   proxy.inject({kind: 'delay', ms: 3000, times: 1, match})           // hold the answer
//   proxy.inject({kind: 'before', fn: async req => {...}, times: 1, match}) // hold the
//       request until fn settles, then forward it (to stage races between clients)
// match(req) picks requests ({method, url, headers}); omitted, every request matches.
// Each fault fires on the next `times` matching requests. proxy.log lists every
// request as {method, url, fault, status}.
import http from 'node:http';

const slowDown = code => `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
  '<Message>Please reduce your request rate.</Message><RequestId>FAULT</RequestId></Error>';

export async function startFaultProxy(upstream) {
  const up = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  const faults = [];
  const log = [];

  const take = req => {
    for (const f of faults) {
      if (f.times > 0 && (!f.match || f.match(req))) {
        f.times--;
        f.fired++;
        return f;
      }
    }
    return null;
  };

  const server = http.createServer((req, res) => {
    const f = take(req);
    const entry = { method: req.method, url: req.url, fault: f ? f.kind : null, status: null };
    log.push(entry);
    res.on('error', () => {});
    req.on('error', () => {});
    if (f && f.kind === 'before') {
      // hold the request (its body stays paused) until f.fn(req) settles, then forward it
      Promise.resolve().then(() => f.fn(req)).catch(() => {}).then(() => handle(req, res, null, entry));
      return;
    }
    handle(req, res, f, entry);
  });

  const handle = (req, res, f, entry) => {
    if (f && f.kind === 'status') {
      req.resume();
      req.on('end', () => {
        const body = slowDown(f.code || 'SlowDown');
        entry.status = f.status;
        res.writeHead(f.status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      });
      return;
    }

    const ureq = http.request({
      host: up.hostname, port: up.port, method: req.method, path: req.url,
      headers: req.headers, agent,
    }, ures => {
      const send = () => {
        if (res.destroyed || res.writableEnded) return ures.resume();
        entry.status = ures.statusCode;
        res.writeHead(ures.statusCode, ures.headers);
        ures.pipe(res);
      };
      if (f && f.kind === 'delay') setTimeout(send, f.ms);
      else send();
    });
    ureq.on('error', () => res.destroy());
    res.on('close', () => { if (!res.writableFinished) ureq.destroy(); });

    if (f && f.kind === 'cut') {
      let seen = 0;
      let cut = false;
      const doCut = () => {
        cut = true;
        entry.status = 'cut';
        ureq.destroy();
        req.socket.destroy();
      };
      if (f.afterBytes === 0) return doCut();
      req.on('data', chunk => {
        if (cut) return;
        if (seen + chunk.length >= f.afterBytes) {
          ureq.write(chunk.subarray(0, f.afterBytes - seen));
          return doCut();
        }
        seen += chunk.length;
        ureq.write(chunk);
      });
      req.on('end', () => { if (!cut) ureq.end(); });
    } else {
      req.pipe(ureq);
    }
  };
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', err => (err ? reject(err) : resolve())));
  const { port } = server.address();

  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    // Arms a fault; returns it so tests can read f.fired.
    inject(fault) {
      const f = { times: 1, ...fault, fired: 0 };
      faults.push(f);
      return f;
    },
    clear() {
      faults.length = 0;
      log.length = 0;
    },
    async stop() {
      server.closeAllConnections?.();
      await new Promise(resolve => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
