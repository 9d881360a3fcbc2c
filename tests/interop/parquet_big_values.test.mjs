// Big repetitive values: a 15 MB string compresses to a few hundred bytes,
// and sluice once refused to read back the page it had written ("page
// claims 15728650 uncompressed bytes from 512 compressed"). Files with 15 MB
// and 50 MB values, one or many rows, every codec, written by sluice, are
// read back by sluice and by DuckDB with the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, tmpdir, duck } from '../lib/harness.mjs';

const dir = tmpdir('sluice-big-');
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const MB = 1024 * 1024;

// Our writer's file from a CSV (the extract path): a 15 MB value and a
// short one, read back by `sluice parquet cat` and by DuckDB.
test('a 15 MB value from CSV lands in Parquet that sluice and DuckDB read', async () => {
  const csv = path.join(dir, 'big.csv');
  const body = 'x'.repeat(15 * MB);
  fs.writeFileSync(csv, `id,body\n1,${body}\n2,short\n`);
  for (const codec of ['zstd', 'snappy', 'gzip', 'none']) {
    const out = path.join(dir, `big-${codec}.parquet`);
    const r = sluice(['parquet', 'convert', csv, out, '--compression', codec]);
    assert.equal(r.code, 0, r.stderr);
    const cat = sluice(['parquet', 'cat', out]);
    assert.equal(cat.code, 0, `${codec}: ${cat.stderr}`);
    assert.equal(cat.stdout, `id,body\n1,${body}\n2,short\n`);
    const d = await duck(`select id, length(body)::INTEGER as n, md5(body) as h
      from read_parquet(${q(out)}) order by id`);
    assert.deepEqual(d.map((x) => [x.id, x.n]), [[1, 15 * MB], [2, 5]]);
  }
});

// Many rows of 15 MB and one of 50 MB: DuckDB writes them, sluice rewrites
// them with its own writer (zstd), and both read sluice's file.
test('many 15 MB rows and a 50 MB row: sluice rewrites and reads them, DuckDB agrees', async () => {
  const src = path.join(dir, 'duck.parquet');
  await duck(`copy (select i::INTEGER as id,
      repeat(chr((97 + i % 26)::INTEGER), (case when i = 5 then 50 else 15 end) * ${MB}) as body
    from range(8) t(i)) to ${q(src)} (format parquet)`);
  const ours = path.join(dir, 'ours.parquet');
  const r = sluice(['parquet', 'convert', src, ours]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /converted 8 rows/);
  const want = await duck(`select id, length(body)::INTEGER as n, md5(body) as h
    from read_parquet(${q(src)}) order by id`);
  const got = await duck(`select id, length(body)::INTEGER as n, md5(body) as h
    from read_parquet(${q(ours)}) order by id`);
  assert.deepEqual(got, want);
  assert.equal(got[5].n, 50 * MB);
  const cat = sluice(['parquet', 'cat', ours, '--format', 'json']);
  assert.equal(cat.code, 0, cat.stderr);
  const rows = cat.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(rows.map((x) => [x.id, x.body.length]),
    want.map((x) => [x.id, x.n]));
  assert.equal(rows[3].body, 'd'.repeat(15 * MB));
});
