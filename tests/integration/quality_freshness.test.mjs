// Source freshness: `sluice source freshness` on the quality project (feeds
// whose loaded_at the tests write relative to now: one fresh, one late,
// one stale) on SQLite and PostgreSQL — statuses, exit codes, selection,
// target/sources.json (dbt's schema v3) and state.db; and a sluice project
// whose CSV table has `freshness:` without loaded_at_field, measured by
// the time sluice loaded it.
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, tmpdir, writeFiles, startPostgres } from '../lib/harness.mjs';
import { EXPECTED, PKG, makeProject, assertExit, assertLines, nodeLines } from './fixtures/quality/harness.mjs';

const F = EXPECTED.freshness;
const FEEDS = Object.keys(F.feeds).map(t => `feeds.${t}`);
const WORD = { pass: 'PASS', warn: 'WARN', error: 'ERROR' };

// Seconds between an artifact's timestamp text and ms.
function secondsFrom(text, ms) {
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
  assert.ok(!Number.isNaN(t), `unparsable time ${text}`);
  return (ms - t) / 1000;
}

let pg = null;
for (const warehouse of ['sqlite', 'postgres']) {
  describe(`source freshness on ${warehouse}`, () => {
    let p;
    let r;
    before(() => {
      if (warehouse === 'postgres' && !pg) pg = startPostgres();
      p = warehouse === 'postgres' ? makeProject({ pg, db: 'fresh' }) : makeProject();
      assertExit(p.run('seed'), 0);
      r = p.run(['source', 'freshness']);
    });

    test('exit 1: a source is past error_after', () => {
      assertExit(r, F.exit);
    });

    test('each source with freshness: pass, warn, error; none without', () => {
      const want = Object.fromEntries(Object.entries(F.feeds).map(([t, x]) => [`feeds.${t}`, WORD[x.status]]));
      assertLines(r, want, `${warehouse} source freshness`);
      const all = nodeLines(r.stdout, ['feeds.unmonitored', 'shop.customers', 'shop.orders', 'unmonitored']);
      assert.deepEqual(Object.keys(all), [], 'sources without freshness are not measured');
    });

    test('target/sources.json: dbt schema v3, one result per measured source', () => {
      const j = p.json('sources.json');
      assert.equal(j.metadata?.dbt_schema_version, 'https://schemas.getdbt.com/dbt/sources/v3.json');
      assert.equal(typeof j.elapsed_time, 'number');
      const ids = j.results.map(x => x.unique_id).sort();
      assert.deepEqual(ids, Object.keys(F.feeds).map(t => `source.${PKG}.feeds.${t}`).sort());
      for (const x of j.results) {
        const t = x.unique_id.split('.').pop();
        const e = F.feeds[t];
        assert.equal(x.status, e.status, `${x.unique_id} status`);
        assert.deepEqual({ count: x.criteria.warn_after.count, period: x.criteria.warn_after.period }, e.warn_after, `${t} warn_after`);
        assert.deepEqual({ count: x.criteria.error_after.count, period: x.criteria.error_after.period }, e.error_after, `${t} error_after`);
        assert.equal(x.criteria.filter ?? null, e.filter ?? null, `${t} filter`);
        // loaded_at was written age_seconds before the project was made
        const age = secondsFrom(x.max_loaded_at, p.now);
        assert.ok(Math.abs(age - e.age_seconds) < 5, `${t}: max_loaded_at ${x.max_loaded_at} is ${age}s before the seed time, expected ${e.age_seconds}`);
        assert.ok(Math.abs(x.max_loaded_at_time_ago_in_s - e.age_seconds) < 600,
          `${t}: max_loaded_at_time_ago_in_s ${x.max_loaded_at_time_ago_in_s}, expected about ${e.age_seconds}`);
        assert.ok(Math.abs(secondsFrom(x.snapshotted_at, Date.now())) < 600, `${t}: snapshotted_at ${x.snapshotted_at} is now`);
        for (const k of ['adapter_response', 'timing', 'thread_id', 'execution_time']) assert.ok(k in x, `${t}: no ${k}`);
      }
    });

    test('--select source:feeds.fresh measures that one only, exit 0', () => {
      const one = p.run(['source', 'freshness'], ['--select', 'source:feeds.fresh']);
      assertExit(one, 0);
      assertLines(one, { 'feeds.fresh': 'PASS' }, 'select one');
      assert.deepEqual(Object.keys(nodeLines(one.stdout, FEEDS)), ['feeds.fresh']);
      assert.deepEqual(p.json('sources.json').results.map(x => x.unique_id), [`source.${PKG}.feeds.fresh`]);
    });

    if (warehouse === 'sqlite') {
      test('SQLite loaded_at as ISO 8601 with an offset, and as epoch seconds', () => {
        // 10 minutes ago written at -05:00 (five hours off if the offset
        // were dropped); 3 hours ago as epoch seconds
        const t = new Date(Date.now() - 600 * 1000 - 5 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, '-05:00');
        const epoch = Math.floor(Date.now() / 1000) - 3 * 3600;
        fs.writeFileSync(path.join(p.dir, 'seeds/feed_tz.csv'), `id,loaded_at\n1,${t}\n`);
        fs.writeFileSync(path.join(p.dir, 'seeds/feed_epoch.csv'), `id,loaded_at\n1,${epoch}\n`);
        fs.writeFileSync(path.join(p.dir, 'models/staging/_feeds_tz.yml'), `version: 2
sources:
  - name: feeds_tz
    schema: main
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 1, period: hour}
      error_after: {count: 1, period: day}
    tables:
      - name: offset
        identifier: feed_tz
      - name: epoch
        identifier: feed_epoch
`);
        assertExit(p.run('seed', ['-s', 'feed_tz', 'feed_epoch']), 0);
        const r2 = p.run(['source', 'freshness'], ['--select', 'source:feeds_tz']);
        assertLines(r2, { 'feeds_tz.offset': 'PASS', 'feeds_tz.epoch': 'WARN' }, 'offset and epoch');
        assertExit(r2, 0);
      });
    }

    // dbt renders Jinja in a source's schema, database and identifier
    // (`schema: "{{ target.schema }}"` is the common idiom); sluice
    // queries the text unrendered ("no such table: {{ target.schema }}.feed_fresh").
    test('a source whose schema is "{{ target.schema }}" is measured in the target\'s schema',
      () => {
        fs.writeFileSync(path.join(p.dir, 'models/staging/_feeds_jinja.yml'), `version: 2
sources:
  - name: feeds_jinja
    schema: "{{ target.schema }}"
    loaded_at_field: loaded_at
    freshness:
      warn_after: {count: 1, period: hour}
    tables:
      - name: fresh
        identifier: "{{ 'feed_' ~ 'fresh' }}"
`);
        const j = p.run(['source', 'freshness'], ['--select', 'source:feeds_jinja']);
        fs.rmSync(path.join(p.dir, 'models/staging/_feeds_jinja.yml'));
        assertExit(j, 0);
        assertLines(j, { 'feeds_jinja.fresh': 'PASS' }, 'jinja schema');
      });

    test('a warning alone exits 0', () => {
      const w = p.run(['source', 'freshness'], ['--select', 'source:feeds.late']);
      assertExit(w, 0);
      assertLines(w, { 'feeds.late': 'WARN' }, 'select late');
    });
  });
}

describe('a sluice project: freshness by load time, no loaded_at_field', () => {
  let dir;
  before(() => {
    dir = tmpdir('sluice-fresh-');
    writeFiles(dir, {
      'sluice.yml': 'name: fresh\nlake: ./lake\n',
      'sources/shop.yml': `source: shop
kind: csv
tables:
  - name: orders
    path: data/orders_*.csv
    columns: {id: int64, amount: int64}
    freshness:
      warn_after: {count: 1, period: hour}
      error_after: {count: 1, period: day}
  - name: customers
    path: data/customers_*.csv
    freshness:
      warn_after: {count: 1, period: hour}
      error_after: {count: 1, period: day}
  - name: products
    path: data/products_*.csv
`,
      'data/orders_1.csv': 'id,amount\n1,10\n2,20\n',
      'data/customers_1.csv': 'id,name\n1,Ada\n',
      'data/products_1.csv': 'id,name\n1,Tea\n',
    });
  });

  test('a table loaded now passes; one never loaded errors; one without freshness is not measured', () => {
    const run = sluice(['run', '--project-dir', dir, '--select', 'shop.orders', 'shop.products']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const loadedAt = Date.now();
    const r = sluice(['source', 'freshness', '--project-dir', dir]);
    r.args = ['source', 'freshness'];
    assertLines(r, { 'shop.orders': 'PASS', 'shop.customers': 'ERROR' }, 'sluice project freshness');
    assert.deepEqual(Object.keys(nodeLines(r.stdout, ['shop.orders', 'shop.customers', 'shop.products'])).sort(),
      ['shop.customers', 'shop.orders']);
    assertExit(r, 1);
    const j = JSON.parse(fs.readFileSync(path.join(dir, 'target/sources.json'), 'utf8'));
    const orders = j.results.find(x => x.unique_id === 'source.fresh.shop.orders');
    assert.ok(orders, `no source.fresh.shop.orders in ${JSON.stringify(j.results.map(x => x.unique_id))}`);
    assert.equal(orders.status, 'pass');
    assert.ok(Math.abs(secondsFrom(orders.max_loaded_at, loadedAt)) < 600, `max_loaded_at ${orders.max_loaded_at} is the load's time`);
    const customers = j.results.find(x => x.unique_id === 'source.fresh.shop.customers');
    assert.ok(customers && ['error', 'runtime error'].includes(customers.status),
      `never loaded: ${JSON.stringify(customers)}`);
    assert.ok(!j.results.some(x => x.unique_id === 'source.fresh.shop.products'));
  });

  test('after loading it, the table passes and the command exits 0', () => {
    const run = sluice(['run', '--project-dir', dir]);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const r = sluice(['source', 'freshness', '--project-dir', dir]);
    r.args = ['source', 'freshness'];
    assertLines(r, { 'shop.orders': 'PASS', 'shop.customers': 'PASS' }, 'after load');
    assertExit(r, 0);
  });
});
