// Lake commits on an S3 store that ignores If-None-Match (s3rver with the shim's
// If-None-Match support turned off, as older MinIO or some gateways behave), with
// two `sluice extract` processes of one project committing to the same lake table
// at once. The race is staged through the fault proxy: the first process's PUT of
// log version 1 is held while the second process starts, writes its data file and
// tries to commit.
//   - lake_commit_lock: none — both "create" version 1, the last PUT wins and one
//     run's rows are gone although both succeeded (why the lock exists);
//   - lake_commit_lock: state — the second process waits for the first's lock in
//     .sluice/state.db, finds version 1 taken and commits version 2: both versions
//     present, nothing overwritten, every row of both runs in the table once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SLUICE, tmpdir, writeFiles, duck } from '../lib/harness.mjs';
import { startS3Server } from '../lib/s3server.mjs';
import { startFaultProxy } from '../lib/faultproxy.mjs';

let s3;
let proxy;

before(async () => {
  s3 = await startS3Server({ buckets: ['lake'], ifNoneMatch: false });
  proxy = await startFaultProxy(s3.endpoint);
});

after(async () => {
  await proxy?.stop();
  await s3?.stop();
});

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// Runs sluice without blocking the event loop (s3rver and the proxy live in it).
function run(args, env = {}) {
  return new Promise(resolve => {
    const child = spawn(SLUICE, args, {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_REGION: 'us-east-1',
        AWS_ENDPOINT_URL: proxy.endpoint,
        SLUICE_S3_RETRY_BASE_MS: '20',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; });
    child.on('close', code => {
      assert.doesNotMatch(stderr, /AddressSanitizer|LeakSanitizer|runtime error:/);
      resolve({ code, stdout, stderr });
    });
  });
}

const ids = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const csv = list => 'id,batch\n' + list.map(i => `${i},b${Math.floor(i / 100)}`).join('\n') + '\n';

function project(name, lock) {
  const dir = tmpdir('sluice-s3lock-');
  writeFiles(dir, {
    'sluice.yml': `name: t\nlake: s3://lake/${name}\n` + (lock ? `lake_commit_lock: ${lock}\n` : ''),
    // one table, its files picked by $BATCH: two runs of one project, disjoint files
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n  - name: orders\n    path: data/${BATCH}/*.csv\n    columns: {id: int64}\n',
    'data/init/orders.csv': csv(ids(1, 3)),
    'data/a/orders.csv': csv(ids(101, 110)),
    'data/b/orders.csv': csv(ids(201, 220)),
  });
  return dir;
}

// The log versions of the table as s3rver holds them, each as its parsed actions.
function logVersions(name) {
  const prefix = `${name}/raw/shop/orders/_delta_log/`;
  const root = path.join(s3.dir, 'lake', ...prefix.split('/').filter(Boolean));
  if (!fs.existsSync(root)) return [];
  return fs.readdirSync(root).filter(f => /^\d{20}\.json\._S3rver_object$/.test(f)).sort().map(f => ({
    version: Number(f.slice(0, 20)),
    actions: fs.readFileSync(path.join(root, f), 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l)),
  }));
}

// Every id in the table's live files (read with DuckDB from s3rver's store).
async function tableIds(name) {
  const live = new Set();
  for (const v of logVersions(name))
    for (const a of v.actions) {
      if (a.add) live.add(a.add.path);
      if (a.remove) live.delete(a.remove.path);
    }
  const files = [...live].map(p => `'${s3.objectPath('lake', `${name}/raw/shop/orders/${p}`)}'`);
  const rows = await duck(`SELECT id::INT AS id FROM read_parquet([${files.join(',')}]) ORDER BY id`);
  return rows.map(r => r.id);
}

// Process A commits batch a; its PUT of log version 1 is held until process B
// (batch b, started from inside the hold, so its run sequence is later) has
// written its data file and had 1.5 s to commit.
async function race(dir, name, dirB = dir) {
  const init = await run(['extract', '--project-dir', dir], { BATCH: 'init' });
  assert.equal(init.code, 0, init.stderr);
  assert.deepEqual(logVersions(name).map(v => v.version), [0]);

  proxy.clear();
  let bRun = null;
  let sawBData;
  const bData = new Promise(resolve => { sawBData = resolve; });
  proxy.inject({
    kind: 'status', times: Infinity,
    match: req => {
      if (bRun && req.method === 'PUT' && req.url.includes(`/lake/${name}/raw/shop/orders/data/`)) sawBData();
      return false;
    },
  });
  const hold = proxy.inject({
    kind: 'before', times: 1,
    match: req => req.method === 'PUT' && req.url.endsWith(`/lake/${name}/raw/shop/orders/_delta_log/00000000000000000001.json`),
    fn: async () => {
      bRun = run(['--log-level', 'debug', 'extract', '--project-dir', dirB], { BATCH: 'b' });
      await bData;
      await sleep(1500);
    },
  });
  const a = await run(['extract', '--project-dir', dir], { BATCH: 'a' });
  assert.equal(hold.fired, 1, 'the race was staged');
  const b = await bRun;
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr.slice(-3000));
  return { a, b };
}

// Processes of one project never race on a table: each takes the table's
// lock in state.db for its extract and load. Writers with another state.db
// (a second project on the same lake) can, and a store that ignores
// If-None-Match then loses one of two concurrent commits.
test('without a shared lock, a store that ignores If-None-Match loses a concurrent commit', async () => {
  const name = 'nolock';
  const dir = project(name, 'none');
  const other = project(name, 'none');
  await race(dir, name, other);
  // both runs succeeded, but only one version 1 exists: the other was overwritten
  const versions = logVersions(name);
  assert.deepEqual(versions.map(v => v.version), [0, 1]);
  const got = await tableIds(name);
  const a = [1, 2, 3, ...ids(101, 110)];
  const b = [1, 2, 3, ...ids(201, 220)];
  assert.ok(JSON.stringify(got) === JSON.stringify(a) || JSON.stringify(got) === JSON.stringify(b),
    `expected one run's rows to be lost, got ${got.length} rows`);
});

test('runs of one project on one table are serialised: both versions present, every row once', async () => {
  const name = 'statelock';
  const dir = project(name, 'state');
  const init = await run(['extract', '--project-dir', dir], { BATCH: 'init' });
  assert.equal(init.code, 0, init.stderr);
  const [a, b] = await Promise.all([
    run(['extract', '--project-dir', dir], { BATCH: 'a' }),
    sleep(50).then(() => run(['extract', '--project-dir', dir], { BATCH: 'b' })),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const versions = logVersions(name);
  assert.deepEqual(versions.map(v => v.version), [0, 1, 2]);
  // nothing overwritten: the two runs' commits are versions 1 and 2
  const info = versions.map(v => v.actions.find(x => x.commitInfo).commitInfo);
  assert.deepEqual(info.map(c => c.sluice.rows_read).slice(1).sort((x, y) => x - y), [10, 20]);
  assert.deepEqual(await tableIds(name), [1, 2, 3, ...ids(101, 110), ...ids(201, 220)]);
  // the locks were released
  const left = execFileSync('sqlite3', [path.join(dir, '.sluice/state.db'), 'SELECT count(*) FROM locks'], { encoding: 'utf8' });
  assert.equal(left.trim(), '0');
  // and a later run of either batch finds its files done: nothing read twice
  for (const batch of ['a', 'b']) {
    const r = await run(['extract', '--project-dir', dir], { BATCH: batch });
    assert.equal(r.code, 0, r.stderr);
  }
  assert.deepEqual(await tableIds(name), [1, 2, 3, ...ids(101, 110), ...ids(201, 220)]);
});

test('lake_commit_lock: a misspelt value is a configuration error with a suggestion', async () => {
  const dir = project('typo', 'stat');
  const r = await run(['extract', '--project-dir', dir], { BATCH: 'init' });
  assert.notEqual(r.code, 0);
  assert.match(r.stdout + r.stderr, /sluice\.yml:3: "lake_commit_lock" must be one of none, state, not "stat"; did you mean "state"\?/);
});
