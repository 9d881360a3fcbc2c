// A throwaway S3-compatible server for tests: s3rver (pinned in package.json) on a
// free 127.0.0.1 port, with a thin shim in front for what s3rver 3.7.1 lacks:
//   - AbortMultipartUpload (DELETE ?uploadId=): s3rver answers 405 MethodNotAllowed;
//     the shim removes the upload's folder and answers 204 (404 NoSuchUpload if gone).
//   - ListMultipartUploads (GET /bucket?uploads): s3rver answers 501; the shim lists
//     the upload folders s3rver keeps under <dir>/<bucket>/._S3rver_uploads/.
//   - PUT with If-None-Match: * : s3rver ignores the header and overwrites; the shim
//     answers 412 PreconditionFailed when the object exists (checked, not atomic).
//     {ifNoneMatch: false} turns this off, to emulate a store that ignores the header
//     (older MinIO, some gateways): the last PUT wins.
//   - GET/HEAD with If-Match: s3rver ignores it; the shim answers 412
//     PreconditionFailed when the object's ETag differs (checked, not atomic).
//   - SigV4: s3rver checks only that the access key is S3RVER and never verifies a V4
//     signature. With {secret}, the shim recomputes the signature from the request as
//     it arrived on the wire and answers 403 SignatureDoesNotMatch when it differs, so
//     tests prove what the client signs is what it sends.
//   - ListObjectsV2 without a delimiter: s3rver encrypts continuation tokens with DES,
//     which Node's OpenSSL 3 refuses, so every truncated listing is a 500; the shim
//     lists from s3rver's store itself (tokens: the last key, base64url).
// Other s3rver behaviour to know: a PUT cut mid-body may leave a truncated object
// until it is re-sent (real S3 never stores a partial PUT); CompleteMultipartUpload
// does not check part ETags or the 5 MiB minimum; any secret key is accepted.
import S3rver from 's3rver';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const xmlEsc = s => String(s).replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' }[c]));

function s3Error(res, status, code, message) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEsc(message)}</Message></Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

// RFC 3986 encoding as SigV4 wants it.
const enc = s => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());

// Recomputes the SigV4 signature of req; returns null when it matches, else a reason.
export function checkSigV4(req, secret) {
  const auth = req.headers['authorization'];
  if (!auth) return 'no Authorization header';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'malformed Authorization header';
  const [, , date, region, service, signedHeaders, signature] = m;
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQuery = q < 0 ? '' : req.url.slice(q + 1);
  const query = rawQuery.split('&').filter(Boolean).map(kv => {
    const i = kv.indexOf('=');
    const k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
    const v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, '%20'));
    return [enc(k), enc(v)];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&');
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-date', 'x-amz-content-sha256'])
    if (!names.includes(required)) return `${required} is not signed`;
  const canonHeaders = names.map(n => `${n}:${String(req.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, rawPath, query, canonHeaders, signedHeaders, req.headers['x-amz-content-sha256']].join('\n');
  const amzDate = req.headers['x-amz-date'];
  const scope = `${date}/${region}/${service}/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', amzDate, scope, crypto.createHash('sha256').update(canonical).digest('hex')].join('\n');
  const h = (k, d) => crypto.createHmac('sha256', k).update(d).digest();
  const key = h(h(h(h('AWS4' + secret, date), region), service), 'aws4_request');
  const want = crypto.createHmac('sha256', key).update(sts).digest('hex');
  return want === signature ? null : `signature mismatch; canonical request was:\n${canonical}`;
}

// Starts s3rver; returns {endpoint, dir, uploads(bucket), stop(), sigFailures}.
export async function startS3Server({ buckets = ['lake'], secret = null, ifNoneMatch = true } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3rver-'));
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir,
    configureBuckets: buckets.map(name => ({ name })) });
  await s3.configureBuckets();
  const koa = s3.callback();
  const uploadsDir = bucket => path.join(dir, bucket, '._S3rver_uploads');
  const objectPath = (bucket, key) => {
    const parts = key.split('/');
    const last = parts.pop();
    return path.join(dir, bucket, ...parts, `${last}._S3rver_object`);
  };
  // Multipart uploads in progress: [{bucket, key, uploadId}].
  const uploads = bucket => {
    const d = uploadsDir(bucket);
    if (!fs.existsSync(d)) return [];
    return fs.readdirSync(d).filter(id => fs.existsSync(path.join(d, id, 'key')))
      .map(id => ({ bucket, uploadId: id, key: fs.readFileSync(path.join(d, id, 'key'), 'utf8') }));
  };
  const sigFailures = [];
  // ListObjectsV2 from s3rver's own store; its tokens are DES-encrypted, which
  // OpenSSL 3 refuses, so truncated listings answer 500 there.
  const listV2 = async (bucket, params) => {
    const prefix = params.get('prefix') || '';
    const maxKeys = Math.min(1000, Number(params.get('max-keys') || 1000));
    const token = params.get('continuation-token');
    const startAfter = token ? Buffer.from(token, 'base64url').toString('utf8') : params.get('start-after') || undefined;
    const r = await s3.store.listObjects(bucket, { prefix: prefix || undefined, maxKeys, startAfter });
    const last = r.objects.length ? r.objects[r.objects.length - 1].key : '';
    return '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Name>${xmlEsc(bucket)}</Name><Prefix>${xmlEsc(prefix)}</Prefix><KeyCount>${r.objects.length}</KeyCount>` +
      `<MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${r.isTruncated ? 'true' : 'false'}</IsTruncated>` +
      (token ? `<ContinuationToken>${xmlEsc(token)}</ContinuationToken>` : '') +
      (r.isTruncated ? `<NextContinuationToken>${Buffer.from(last).toString('base64url')}</NextContinuationToken>` : '') +
      r.objects.map(o => `<Contents><Key>${xmlEsc(o.key)}</Key><LastModified>${o.lastModifiedDate.toISOString()}</LastModified>` +
        `<ETag>${xmlEsc(o.metadata.etag)}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`).join('') +
      '</ListBucketResult>';
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (secret && req.headers['authorization']) {
      const why = checkSigV4(req, secret);
      if (why) {
        sigFailures.push(`${req.method} ${req.url}: ${why}`);
        req.resume();
        return req.on('end', () => s3Error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'));
      }
    }
    if (req.method === 'DELETE' && key && url.searchParams.has('uploadId')) {
      const d = path.join(uploadsDir(bucket), path.basename(url.searchParams.get('uploadId')));
      req.resume();
      if (!fs.existsSync(d)) return s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      fs.rmSync(d, { recursive: true, force: true });
      res.writeHead(204);
      return res.end();
    }
    if (req.method === 'GET' && !key && url.searchParams.has('uploads')) {
      req.resume();
      const prefix = url.searchParams.get('prefix') || '';
      const list = uploads(bucket).filter(u => u.key.startsWith(prefix));
      const body = '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult>' +
        `<Bucket>${xmlEsc(bucket)}</Bucket><Prefix>${xmlEsc(prefix)}</Prefix><IsTruncated>false</IsTruncated>` +
        list.map(u => `<Upload><Key>${xmlEsc(u.key)}</Key><UploadId>${u.uploadId}</UploadId></Upload>`).join('') +
        '</ListMultipartUploadsResult>';
      res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
      return res.end(body);
    }
    if (req.method === 'GET' && !key && bucket && url.searchParams.get('list-type') === '2' &&
        !url.searchParams.has('delimiter')) {
      req.resume();
      return listV2(bucket, url.searchParams).then(body => {
        res.writeHead(200, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      }, err => s3Error(res, 500, 'InternalError', String(err)));
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && key && !url.search && req.headers['if-match']) {
      const bare = t => t.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
      const want = req.headers['if-match'].split(',').map(bare);
      s3.store.existsObject(bucket, key).then(async exists => {
        if (exists && !want.includes('*')) {
          const md = await s3.store.getMetadata(bucket, key);
          if (!want.includes(bare(md.etag || '')))
            return s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
        }
        koa(req, res);
      }, err => s3Error(res, 500, 'InternalError', String(err)));
      return;
    }
    if (ifNoneMatch && req.method === 'PUT' && key && !url.search && req.headers['if-none-match'] === '*' &&
        fs.existsSync(objectPath(bucket, key))) {
      req.resume();
      return req.on('end', () => s3Error(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
    }
    koa(req, res);
  });
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', err => (err ? reject(err) : resolve())));
  const { port } = server.address();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    dir,
    uploads,
    objectPath,
    sigFailures,
    async stop() {
      server.closeAllConnections?.();
      await new Promise(resolve => server.close(() => resolve()));
      try { s3.logger.exceptions.unhandle(); s3.logger.close(); } catch { /* already closed */ }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
