// `sluice lake ls|show|vacuum` on tables landed by `sluice run`: the files a
// crashed run leaves behind are invisible to every reader, `lake vacuum`
// removes them (and only them) once they are older than the retention, and
// the commands report versions, files, rows, schema and history.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, tmpdir, writeFiles, duck } from '../lib/harness.mjs';

const TABLE = 'raw/shop/orders';

const ordersYml = `source: shop
kind: csv
tables:
  - name: orders
    path: data/orders_*.csv
    columns: {id: int64, amount: "decimal(10,2)"}
`;

function project() {
  const dir = tmpdir();
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\n',
    'sources/shop.yml': ordersYml,
    'data/orders_1.csv': 'id,amount\n1,1.50\n2,2.50\n3,\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return dir;
}

function tableDir(dir) {
  return path.join(dir, 'lake', TABLE);
}

function liveFiles(dir) {
  const log = path.join(tableDir(dir), '_delta_log');
  const live = new Set();
  for (const v of fs.readdirSync(log).filter(f => /^\d{20}\.json$/.test(f)).sort()) {
    for (const line of fs.readFileSync(path.join(log, v), 'utf8').split('\n').filter(Boolean)) {
      const a = JSON.parse(line);
      if (a.add) live.add(a.add.path);
      if (a.remove) live.delete(a.remove.path);
    }
  }
  return [...live];
}

async function rowCount(dir) {
  const files = liveFiles(dir).map(f => `'${path.join(tableDir(dir), f)}'`);
  const r = await duck(`SELECT count(*)::INT AS n FROM read_parquet([${files.join(',')}])`);
  return r[0].n;
}

// What a run killed mid-write leaves: a finished but uncommitted data file
// (a copy of a real one) and a half-written temp file.
function leaveCrashedFiles(dir, ageSeconds) {
  const data = path.join(tableDir(dir), 'data');
  const real = path.join(tableDir(dir), liveFiles(dir)[0]);
  const orphan = path.join(data, 'part-00000-00000000-0000-4000-8000-000000000000.zstd.parquet');
  const temp = path.join(data, 'part-00001-00000000-0000-4000-8000-000000000000.zstd.parquet.tmp-0123456789abcdef');
  fs.copyFileSync(real, orphan);
  fs.writeFileSync(temp, 'PAR1 half a file');
  const t = new Date(Date.now() - ageSeconds * 1000);
  fs.utimesSync(orphan, t, t);
  fs.utimesSync(temp, t, t);
  return { orphan, temp };
}

test('lake ls lists each table with version, files, rows and size', () => {
  const dir = project();
  const r = sluice(['lake', 'ls', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^TABLE\s+VERSION\s+FILES\s+ROWS\s+SIZE$/m);
  assert.match(r.stdout, /^raw\/shop\/orders\s+0\s+1\s+3\s+\d+(\.\d)? (B|KB)$/m);
  // --lake names the lake directly
  const r2 = sluice(['lake', 'ls', '--lake', path.join(dir, 'lake')]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.stdout, r.stdout);
});

test('lake show prints the schema and the history with run ids', () => {
  const dir = project();
  writeFiles(dir, { 'data/orders_2.csv': 'id,amount\n4,4.00\n' });
  assert.equal(sluice(['run', '--project-dir', dir]).code, 0);
  const r = sluice(['lake', 'show', TABLE, '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /version 1: 2 files, 4 rows/);
  assert.match(r.stdout, /^\s+id\s+int64\s+(yes|no)$/m);
  assert.match(r.stdout, /^\s+amount\s+decimal\(10,2\)\s+yes$/m);
  assert.match(r.stdout, /VERSION\s+TIME\s+OPERATION\s+RUN ID\s+\+FILES\s+\+ROWS\s+BYTES\s+REMOVED/);
  const hist = r.stdout.split('history:')[1].trim().split('\n').slice(1);
  assert.equal(hist.length, 2);
  assert.match(hist[0], /^\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\S+\s+\S+\s+1\s+3\s/);
  assert.match(hist[1], /^\s+1\s+.*\s+1\s+1\s+\S+ K?B\s+0$/);
  const missing = sluice(['lake', 'show', 'raw/shop/nope', '--project-dir', dir]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /lake table raw\/shop\/nope does not exist/);
});

test('a crashed write stays invisible and vacuum removes only its files', async () => {
  const dir = project();
  const { orphan, temp } = leaveCrashedFiles(dir, 7200);
  // readers see the committed version only
  let r = sluice(['lake', 'ls', '--project-dir', dir]);
  assert.match(r.stdout, /^raw\/shop\/orders\s+0\s+1\s+3\s/m);
  assert.equal(await rowCount(dir), 3);

  r = sluice(['lake', 'vacuum', TABLE, '--dry-run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^raw\/shop\/orders: would remove 2 files \(/m);
  assert.ok(fs.existsSync(orphan) && fs.existsSync(temp));

  r = sluice(['lake', 'vacuum', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^raw\/shop\/orders: removed 2 files \(/m);
  assert.ok(!fs.existsSync(orphan) && !fs.existsSync(temp));
  assert.equal(await rowCount(dir), 3);
  assert.ok(fs.existsSync(path.join(tableDir(dir), '_delta_log', '00000000000000000000.json')));
});

test('vacuum keeps young leftovers unless --retain 0', async () => {
  const dir = project();
  const { orphan } = leaveCrashedFiles(dir, 60);
  let r = sluice(['lake', 'vacuum', TABLE, '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed 0 files/);
  assert.ok(fs.existsSync(orphan));
  r = sluice(['lake', 'vacuum', TABLE, '--retain', '0', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /removed 2 files/);
  assert.ok(!fs.existsSync(orphan));
  assert.equal(await rowCount(dir), 3);
});

test('lake usage errors exit 2 and --help documents every flag', () => {
  const dir = project();
  for (const args of [['lake'], ['lake', 'bogus'], ['lake', 'show'], ['lake', 'ls', 'x'],
    ['lake', 'vacuum', '--retain', 'soon'], ['lake', 'ls', '--nope'], ['lake', 'ls', '--dry-run']]) {
    const r = sluice([...args, '--project-dir', dir]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /sluice lake|usage: sluice lake/);
  }
  const h = sluice(['lake', '--help']);
  assert.equal(h.code, 0);
  for (const flag of ['--project-dir', '--lake', '--retain', '--dry-run', '--help'])
    assert.ok(h.stdout.includes(flag), flag);
  const noProject = sluice(['lake', 'ls', '--project-dir', tmpdir()]);
  assert.equal(noProject.code, 2);
  assert.match(noProject.stderr, /sluice\.yml/);
});
