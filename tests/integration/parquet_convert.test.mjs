// `sluice parquet convert`: the output format comes from OUT's name or from
// --format; a name that says neither is a usage error, never silent Parquet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, tmpdir } from '../lib/harness.mjs';

const dir = tmpdir();
const csv = path.join(dir, 'in.csv');
fs.writeFileSync(csv, 'id,name\n1,a\n2,b\n');

const isParquet = f => fs.readFileSync(f).subarray(0, 4).toString() === 'PAR1';

test('an OUT name that is neither Parquet nor CSV is refused with exit 2', () => {
  const out = path.join(dir, 'out.txt');
  const r = sluice(['parquet', 'convert', csv, out]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /cannot tell what to write to '.*out\.txt': name it \*\.parquet for Parquet or \*\.csv \/ \*\.tsv for CSV, or say --format parquet or --format csv/);
  assert.equal(fs.existsSync(out), false);
  // The same from Parquet input: no silent recompression into out.txt.
  const pq = path.join(dir, 'a.parquet');
  assert.equal(sluice(['parquet', 'convert', csv, pq]).code, 0);
  const r2 = sluice(['parquet', 'convert', pq, out]);
  assert.equal(r2.code, 2);
  assert.equal(fs.existsSync(out), false);
});

test('--format says what to write whatever the name', () => {
  const out = path.join(dir, 'forced.txt');
  const r = sluice(['parquet', 'convert', csv, out, '--format', 'parquet']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /converted 2 rows/);
  assert.ok(isParquet(out));
  const back = path.join(dir, 'back.out');
  const r2 = sluice(['parquet', 'convert', out, back, '--format', 'csv']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(fs.readFileSync(back, 'utf8'), 'id,name\n1,a\n2,b\n');
  const bad = sluice(['parquet', 'convert', csv, out, '--format', 'xml']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown --format 'xml'; use parquet or csv/);
});

test('.parquet and .csv names still choose the format', () => {
  const pq = path.join(dir, 'b.parquet');
  assert.equal(sluice(['parquet', 'convert', csv, pq]).code, 0);
  assert.ok(isParquet(pq));
  const out = path.join(dir, 'b.csv');
  assert.equal(sluice(['parquet', 'convert', pq, out]).code, 0);
  assert.equal(fs.readFileSync(out, 'utf8'), 'id,name\n1,a\n2,b\n');
});

test('CSV output under a compressed name is refused, never written plain under it', () => {
  const pq = path.join(dir, 'z.parquet');
  assert.equal(sluice(['parquet', 'convert', csv, pq]).code, 0);
  for (const name of ['out.csv.gz', 'out.tsv.zst']) {
    const out = path.join(dir, name);
    const r = sluice(['parquet', 'convert', pq, out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /CSV is written uncompressed; name OUT \*\.csv or \*\.tsv/);
    assert.equal(fs.existsSync(out), false);
  }
});

test('one row converted is "1 row"', () => {
  const one = path.join(dir, 'one.csv');
  fs.writeFileSync(one, 'id\n7\n');
  const r = sluice(['parquet', 'convert', one, path.join(dir, 'one.parquet')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^converted 1 row \(0 rejected\)$/m);
});
