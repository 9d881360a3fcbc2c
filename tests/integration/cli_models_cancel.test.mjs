// A signal stops a model's running warehouse query: build of a model whose
// query runs for minutes (SQLite: a recursive CTE counting to 1e9;
// PostgreSQL: pg_sleep), SIGINT or SIGTERM once its node started — the
// query is interrupted, the node ends cancelled, sluice exits 130 (143) and
// the table of the previous build is intact. The test's timeout is the
// guard: without the interrupt the query would run to its end.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { sluice, sluiceSpawn, tmpdir, writeFiles, startPostgres } from '../lib/harness.mjs';

const SLOW_SQLITE =
  "with recursive c(n) as (select 1 union all select n + 1 from c where n < 1000000000)\n" +
  "select count(*) as n from c\n";

// A project whose model "slow" is quick unless --vars '{slow: true}'.
function project(profile, slowSql) {
  const dir = tmpdir('sluice-cancel-');
  writeFiles(dir, {
    'dbt_project.yml': 'name: cancel\nprofile: cancel\n',
    'profiles.yml': profile,
    'models/slow.sql':
      "{{ config(materialized='table') }}\n" +
      "{% if var('slow', false) %}\n" + slowSql + "{% else %}\nselect 42 as n\n{% endif %}\n",
  });
  return dir;
}

// Starts a slow build and sends sig once running() says the query runs
// (checked after the node's attempt started); resolves {code, stdout,
// stderr, sent}.
function interruptBuild(dir, sig, running) {
  return new Promise((resolve, reject) => {
    const child = sluiceSpawn(['--log-level', 'info', 'build', '--project-dir', dir, '--vars', '{slow: true}']);
    let stdout = '', stderr = '', sent = false, polling = false;
    const poll = () => {
      if (sent) return;
      if (running()) {
        sent = true;
        child.kill(sig);
      } else {
        setTimeout(poll, 200);
      }
    };
    child.stdout.on('data', d => { stdout += d; });
    child.stderr.on('data', d => {
      stderr += d;
      if (!polling && /model\.cancel\.slow: attempt 1 started/.test(stderr)) {
        polling = true;
        setTimeout(poll, 200);
      }
    });
    child.on('error', reject);
    child.on('close', code => { polling = true; resolve({ code, stdout, stderr, sent }); });
  });
}

test('SIGINT interrupts a running SQLite model query: exit 130, previous table intact', { timeout: 120000 }, async () => {
  const dir = project('cancel:\n  target: dev\n  outputs:\n    dev:\n      type: sqlite\n      path: ./wh.db\n      schema: main\n', SLOW_SQLITE);
  let r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // SQLite shows no running statement from outside: a second after the
  // attempt started the CTE runs (it takes minutes).
  const t0 = Date.now();
  r = await interruptBuild(dir, 'SIGINT', () => Date.now() - t0 > 1500);
  assert.ok(r.sent, r.stdout + r.stderr);
  assert.equal(r.code, 130, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /OK created sql table model main\.slow/);
  const db = path.join(dir, 'wh.db');
  const out = execFileSync('sqlite3', ['-json', db, 'select n from slow'], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(out), [{ n: 42 }]);
  // no transaction was left behind: the next build writes at once
  r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

let pg;
after(() => pg && pg.stop());

test('SIGINT and SIGTERM interrupt a running PostgreSQL model query: the server query is cancelled, previous table intact', { timeout: 120000 }, async () => {
  pg = startPostgres();
  const profile = `cancel:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: ${pg.host}\n      port: ${pg.port}\n      user: postgres\n      password: ''\n      dbname: postgres\n      schema: an\n`;
  const dir = project(profile, 'select 7 as n from (select pg_sleep(60)) s\n');
  let r = sluice(['build', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
    r = await interruptBuild(dir, sig, () =>
      pg.psql("select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()").trim() === '1');
    assert.ok(r.sent, r.stdout + r.stderr);
    assert.equal(r.code, code, sig + ': ' + r.stdout + r.stderr);
    assert.equal(pg.psql('select n from an.slow').trim(), '42');
    // the server runs no pg_sleep of ours any more
    assert.equal(pg.psql("select count(*) from pg_stat_activity where query like '%pg_sleep(60)%' and pid <> pg_backend_pid()").trim(), '0');
  }
});
