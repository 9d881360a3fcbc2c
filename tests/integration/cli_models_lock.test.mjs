// Model tasks take the state.db lock of the relation they write
// ("warehouse:schema.alias"), as extract and load tasks take their
// table's: a second `sluice build` of the same project waits for the
// first's node (and Ctrl-C ends that wait, naming the lock and its
// holder); two builds at once both finish with the tables of one build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sluice, sluiceSpawn, tmpdir, writeFiles } from '../lib/harness.mjs';

function rows(db, sql) {
  const out = execFileSync('sqlite3', ['-json', db, sql], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}

const SLOW =
  "with recursive c(n) as (select 1 union all select n + 1 from c where n < 1000000000)\n" +
  "select count(*) as n from c\n";

function project(extra = {}) {
  const dir = tmpdir('sluice-lock-');
  writeFiles(dir, {
    'dbt_project.yml': 'name: lk\nprofile: lk\n',
    'profiles.yml': 'lk:\n  target: dev\n  outputs:\n    dev:\n      type: sqlite\n      path: ./wh.db\n      schema: main\n      threads: 2\n',
    'models/slow.sql':
      "{{ config(materialized='table') }}\n" +
      "{% if var('slow', false) %}\n" + SLOW + "{% else %}\nselect 42 as n\n{% endif %}\n",
    ...extra,
  });
  return dir;
}

// Spawns sluice; resolves {code, stdout, stderr}. onErr(stderr, child)
// sees stderr as it grows.
function run(args, onErr = () => {}) {
  const child = sluiceSpawn(['--log-level', 'info', ...args]);
  const p = new Promise((resolve, reject) => {
    let stdout = '', stderr = '';
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => { stderr += d; onErr(stderr, child); });
    child.on('error', reject);
    child.on('close', code => resolve({ code, stdout, stderr }));
  });
  return { child, done: p };
}

const started = s => /model\.lk\.slow: attempt 1 started/.test(s);

test('a second build waits for the node another build holds; Ctrl-C ends the wait, naming the lock', { timeout: 120000 }, async () => {
  const dir = project();
  let r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // A builds the slow model and holds its lock.
  let aStarted = false;
  const a = run(['build', '--project-dir', dir, '--vars', '{slow: true}'], s => { aStarted = aStarted || started(s); });
  while (!aStarted) await new Promise(res => setTimeout(res, 100));
  // B starts the same node, waits for the lock, and is interrupted there.
  let sent = false;
  const b = run(['build', '--project-dir', dir], (s, child) => {
    if (!sent && started(s)) {
      sent = true;
      setTimeout(() => child.kill('SIGINT'), 1000);
    }
  });
  const rb = await b.done;
  assert.equal(rb.code, 130, rb.stdout + rb.stderr);
  assert.match(rb.stdout + rb.stderr,
    new RegExp(`another sluice process builds warehouse:main\\.slow: state db .*: cancelled while waiting for lock "warehouse:main\\.slow", held by pid ${a.child.pid} on `));
  a.child.kill('SIGINT');
  const ra = await a.done;
  assert.equal(ra.code, 130, ra.stdout + ra.stderr);
  assert.deepEqual(rows(path.join(dir, 'wh.db'), 'select n from slow'), [{ n: 42 }]);
  // the locks were released: a build now takes the node at once
  assert.equal(rows(path.join(dir, '.sluice', 'state.db'), 'select count(*) as n from locks')[0].n, 0);
  r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('two builds of one project at once both succeed with consistent tables', { timeout: 120000 }, async () => {
  const files = {
    'seeds/raw.csv': 'id,v\n' + Array.from({ length: 50 }, (_, i) => `${i + 1},${i * 2}`).join('\n') + '\n',
    'models/inc.sql':
      "{{ config(materialized='incremental') }}\nselect id, v from {{ ref('raw') }}\n" +
      "{% if is_incremental() %} where id > (select coalesce(max(id), 0) from {{ this }}) {% endif %}\n",
  };
  for (let i = 0; i < 6; i++)
    files[`models/m${i}.sql`] = `{{ config(materialized='table') }}\nselect id, v + ${i} as w from {{ ref('raw') }}\n`;
  const dir = project(files);
  const [r1, r2] = await Promise.all([run(['build', '--project-dir', dir]).done, run(['build', '--project-dir', dir]).done]);
  assert.equal(r1.code, 0, r1.stdout + r1.stderr);
  assert.equal(r2.code, 0, r2.stdout + r2.stderr);
  const db = path.join(dir, 'wh.db');
  assert.deepEqual(rows(db, 'select count(*) as n, count(distinct id) as d, sum(v) as s from inc'), [{ n: 50, d: 50, s: 2450 }]);
  for (let i = 0; i < 6; i++)
    assert.deepEqual(rows(db, `select count(*) as n, sum(w) as s from m${i}`), [{ n: 50, s: 2450 + 50 * i }]);
  assert.equal(rows(db, 'select n from slow')[0].n, 42);
  assert.equal(rows(path.join(dir, '.sluice', 'state.db'), 'select count(*) as n from locks')[0].n, 0);
});
