// Files written by our Parquet writer, read back by DuckDB: types, exact
// values, NULL positions, codecs, encodings, row groups and statistics.
// The files come from the C unit test test_parquet_writer, which leaves
// them in $SL_PARQUET_OUT (its binary is found in $SL_UNIT_DIR).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, tmpdir, duck } from '../lib/harness.mjs';

const UNIT_DIR = process.env.SL_UNIT_DIR || path.join(ROOT, 'build-asan/tests');
const BIN = path.join(UNIT_DIR, 'test_parquet_writer');
let dir;

before(() => {
  assert.ok(fs.existsSync(BIN), `${BIN} is not built (set SL_UNIT_DIR)`);
  dir = tmpdir('sluice-pqw-');
  const r = spawnSync(BIN, [], {
    env: { ...process.env, SL_PARQUET_OUT: dir }, encoding: 'utf8', maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, `test_parquet_writer failed:\n${r.stdout}\n${r.stderr}`);
});

const file = (name) => path.join(dir, name);
const q = (s) => `'${s.replaceAll("'", "''")}'`;

// ---- the all-types data set, computed as the C test does

const CATS = ['pending', 'shipped', 'delivered', 'cancelled', 'rückgabe ✓'];

function decimal(unscaled, scale) {
  const neg = unscaled < 0n;
  let s = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  if (scale > 0) s = `${s.slice(0, -scale)}.${s.slice(-scale)}`;
  return (neg ? '-' : '') + s;
}

function dateOf(days) {
  return new Date(days * 86400000).toISOString().slice(0, 10);
}

function expectedRow(i) {
  const nul = i % 7 === 3;
  const big = BigInt(i);
  const p38 = 10n ** 38n - 1n;
  return {
    b: nul ? null : i % 3 === 0,
    i32: nul ? null : i === 1 ? -2147483648 : i === 2 ? 2147483647 : (i % 1000) - 500,
    i64: i === 1 ? '-9223372036854775808' : i === 2 ? '9223372036854775807'
      : (big * 1000003n - 500000000000n).toString(),
    f: nul ? null : i * 0.25 - 10,
    d9: nul ? null : decimal(i === 1 ? -999999999n : i === 2 ? 999999999n
      : BigInt((i % 10000) * 7 - 20000), 2),
    d18: decimal(i === 2 ? 999999999999999999n : big * 12345n - 100000000000000000n, 4),
    d38: nul ? null : decimal(i === 1 ? -p38 : i === 2 ? p38
      : BigInt(i - 500) * 10n ** 27n + big, 10),
    s: nul ? null : CATS[i % 5],
    dt: nul ? null : dateOf(19000 + (i % 400) - 200),
    ts: nul ? null : (i === 1 ? -86400000000n + 123n : 1706695200000000n + big * 1000001n).toString(),
    txt: i % 5 === 1 ? null : `text ${i} "q" \\ ${(i * 7919) % 1000003} é`,
  };
}

const SELECT_ALL = (f) => `
  SELECT b, i32, i64::VARCHAR AS i64, f, d9::VARCHAR AS d9, d18::VARCHAR AS d18,
         d38::VARCHAR AS d38, s, dt::VARCHAR AS dt, epoch_us(ts)::VARCHAR AS ts, txt
  FROM read_parquet(${q(f)}, file_row_number = true) ORDER BY file_row_number`;

async function checkAllTypes(name, nrows) {
  const rows = await duck(SELECT_ALL(file(name)));
  assert.equal(rows.length, nrows);
  for (let i = 0; i < nrows; i++) assert.deepEqual(rows[i], expectedRow(i), `${name} row ${i}`);
}

test('DuckDB reads every type with the right SQL type', async () => {
  const cols = await duck(`DESCRIBE SELECT * FROM read_parquet(${q(file('all_types_zstd.parquet'))})`);
  assert.deepEqual(cols.map((c) => [c.column_name, c.column_type]), [
    ['b', 'BOOLEAN'], ['i32', 'INTEGER'], ['i64', 'BIGINT'], ['f', 'DOUBLE'],
    ['d9', 'DECIMAL(9,2)'], ['d18', 'DECIMAL(18,4)'], ['d38', 'DECIMAL(38,10)'],
    ['s', 'VARCHAR'], ['dt', 'DATE'], ['ts', 'TIMESTAMP WITH TIME ZONE'], ['txt', 'VARCHAR'],
  ]);
  const schema = await duck(`SELECT name, type, repetition_type, logical_type::VARCHAR AS lt
    FROM parquet_schema(${q(file('all_types_zstd.parquet'))}) WHERE name IN ('i64', 'd38', 'ts')`);
  const byName = Object.fromEntries(schema.map((r) => [r.name, r]));
  assert.equal(byName.i64.repetition_type, 'REQUIRED');
  assert.equal(byName.d38.type, 'FIXED_LEN_BYTE_ARRAY');
  assert.equal(byName.d38.repetition_type, 'OPTIONAL');
  assert.match(byName.ts.lt, /isAdjustedToUTC=1|isAdjustedToUTC=true/i);
});

for (const codec of ['zstd', 'zstd_inline', 'snappy', 'gzip', 'none']) {
  test(`every value and NULL reads back exactly (${codec})`, async () => {
    await checkAllTypes(`all_types_${codec}.parquet`, 5000);
  });
}

test('each codec is recorded per column chunk', async () => {
  const want = { zstd: 'ZSTD', snappy: 'SNAPPY', gzip: 'GZIP', none: 'UNCOMPRESSED' };
  for (const [name, codec] of Object.entries(want)) {
    const rows = await duck(`SELECT DISTINCT compression FROM parquet_metadata(${q(file(`all_types_${name}.parquet`))})`);
    assert.deepEqual(rows.map((r) => r.compression), [codec]);
  }
});

test('several row groups, each chunk with statistics', async () => {
  const f = q(file('all_types_rowgroups.parquet'));
  await checkAllTypes('all_types_rowgroups.parquet', 20000);
  const [rg] = await duck(`SELECT count(DISTINCT row_group_id)::INTEGER AS n,
      max(row_group_num_rows)::INTEGER AS biggest FROM parquet_metadata(${f})`);
  assert.ok(rg.n >= 10, `${rg.n} row groups`);
  assert.ok(rg.biggest < 2000);
  // statistics let DuckDB prune: min/max of an increasing column per group
  const st = await duck(`SELECT row_group_id, stats_min_value, stats_max_value, stats_null_count::INTEGER AS nulls
      FROM parquet_metadata(${f}) WHERE path_in_schema = 'i32' AND row_group_id = 0`);
  assert.equal(st[0].stats_min_value, '-2147483648');
  assert.equal(st[0].stats_max_value, '2147483647');
  const [{ total }] = await duck(`SELECT sum(stats_null_count)::INTEGER AS total
      FROM parquet_metadata(${f}) WHERE path_in_schema = 'txt'`);
  assert.equal(total, 4000);
  const s = await duck(`SELECT stats_min_value AS lo, stats_max_value AS hi FROM parquet_metadata(${f})
      WHERE path_in_schema = 's' AND row_group_id = 0`);
  assert.equal(s[0].lo, 'cancelled');
  assert.equal(s[0].hi, 'shipped');
  // a filter on the statistics gives the same answer as a full scan
  const [{ n }] = await duck(`SELECT count(*)::INTEGER AS n FROM read_parquet(${f})
      WHERE ts >= TIMESTAMPTZ '2024-01-31 15:00:00+00'`);
  let want = 0;
  for (let i = 0; i < 20000; i++) {
    if (i % 7 !== 3 && i !== 1 && 1706695200000000 + i * 1000001 >= 1706713200000000) want++;
  }
  assert.equal(n, want);
});

for (const [name, fallback, intEnc] of [
  ['dict_fallback.parquet', /DELTA_LENGTH_BYTE_ARRAY/, /DELTA_BINARY_PACKED/],
  ['dict_fallback_plain.parquet', /PLAIN/, /PLAIN/],
]) {
  test(`dictionary pages, then ${fallback.source} after the dictionary fills up (${name})`, async () => {
    const f = q(file(name));
    const meta = await duck(`SELECT path_in_schema AS p, encodings AS e,
        dictionary_page_offset IS NOT NULL AS has_dict FROM parquet_metadata(${f})`);
    const by = Object.fromEntries(meta.map((r) => [r.p, r]));
    assert.match(by.k.e, /RLE_DICTIONARY/);
    assert.match(by.k.e, fallback);
    assert.equal(by.k.has_dict, true);
    assert.match(by.lo.e, /RLE_DICTIONARY/);
    assert.equal(by.id.has_dict, false);
    assert.doesNotMatch(by.id.e, /DICTIONARY/);
    assert.match(by.id.e, intEnc);
    const rows = await duck(`SELECT k, lo::INTEGER AS lo, id::INTEGER AS id
        FROM read_parquet(${f}, file_row_number = true) ORDER BY file_row_number`);
    assert.equal(rows.length, 20000);
    for (let i = 0; i < 20000; i++) {
      const k = i < 3000 ? `key-${i % 12}` : `unique-${i}`;
      assert.deepEqual(rows[i], { k, lo: (i * 7) % 5, id: i * 3 }, `row ${i}`);
    }
  });
}

// ---- the delta data set, computed as test_delta_pages_read_back does

const M64 = (1n << 64n) - 1n;
function splitmix(x) {
  let z = (x + 0x9E3779B97F4A7C15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & M64;
  return z ^ (z >> 31n);
}
const signed64 = (u) => (u >= 1n << 63n ? u - (1n << 64n) : u);

function deltaRow(i) {
  const big = BigInt(i);
  return {
    seq: (i === 1 ? -(2n ** 63n) : i === 2 ? 2n ** 63n - 1n : i === 3 ? -1n : big * 1000n + 7n).toString(),
    i32: i % 7 === 3 ? null : i === 1 ? -2147483648 : i === 2 ? 2147483647 : ((i * 37) % 2001) - 1000,
    dt: i % 9 === 4 ? null : dateOf(19000 + ((Math.floor(i / 40) * 7919) % 3000) - 1500),
    ts: i % 11 === 5 ? null
      : (i === 1 ? -86400000000n + 123n : 1706695200000000n + big * 1000001n).toString(),
    d9: i % 7 === 3 ? null : decimal(i === 1 ? -999999999n : i === 2 ? 999999999n
      : BigInt((i % 10000) * 7 - 20000), 2),
    d18: decimal(i === 1 ? -999999999999999999n : i === 2 ? 999999999999999999n
      : big * 12345n - 100000000000000000n, 4),
    rnd: i % 17 === 0 ? null : signed64(splitmix(big)).toString(),
    s: i % 5 === 1 ? null : i % 13 === 0 ? '' : `note ${i % 1000} for élève ${(i * 7919) % 250000}`,
    late: i < 3000 ? null : i - 10000,
    runs: Math.floor(i / 8),
  };
}

test('delta-encoded pages read back exactly, NULLs, extremes and all', async () => {
  const f = q(file('delta.parquet'));
  const rows = await duck(`SELECT seq::VARCHAR AS seq, i32, dt::VARCHAR AS dt,
      epoch_us(ts)::VARCHAR AS ts, d9::VARCHAR AS d9, d18::VARCHAR AS d18,
      rnd::VARCHAR AS rnd, s, late, runs::INTEGER AS runs
      FROM read_parquet(${f}, file_row_number = true) ORDER BY file_row_number`);
  assert.equal(rows.length, 20000);
  for (let i = 0; i < 20000; i++) assert.deepEqual(rows[i], deltaRow(i), `row ${i}`);
  const meta = await duck(`SELECT path_in_schema AS p, encodings AS e FROM parquet_metadata(${f})`);
  const enc = Object.fromEntries(meta.map((r) => [r.p, r.e]));
  for (const c of ['seq', 'i32', 'ts', 'd9', 'd18', 'late', 'runs']) assert.match(enc[c], /DELTA_BINARY_PACKED/, c);
  // dt switches from the dictionary to delta pages within its chunk
  assert.match(enc.dt, /RLE_DICTIONARY/);
  assert.match(enc.dt, /DELTA_BINARY_PACKED/);
  // random 64-bit values do not shrink: they stay PLAIN
  assert.doesNotMatch(enc.rnd, /DELTA/);
  assert.match(enc.s, /DELTA_LENGTH_BYTE_ARRAY/);
  // runs of equal values in steps of one: delta beats the dictionary
  assert.doesNotMatch(enc.runs, /DICTIONARY/);
  // statistics stay right: filters prune by them and agree with a scan
  const [{ n }] = await duck(`SELECT count(*)::INTEGER AS n FROM read_parquet(${f})
      WHERE dt >= DATE '2022-01-01' AND seq > 0`);
  let want = 0;
  for (let i = 0; i < 20000; i++) {
    const r = deltaRow(i);
    if (r.dt !== null && r.dt >= '2022-01-01' && BigInt(r.seq) > 0n) want++;
  }
  assert.equal(n, want);
});

test('an empty file has a schema and no rows', async () => {
  const f = q(file('empty.parquet'));
  const [{ n }] = await duck(`SELECT count(*)::INTEGER AS n FROM read_parquet(${f})`);
  assert.equal(n, 0);
  const cols = await duck(`DESCRIBE SELECT * FROM read_parquet(${f})`);
  assert.equal(cols.length, 11);
  const [{ created_by }] = await duck(`SELECT created_by FROM parquet_file_metadata(${f})`);
  assert.equal(created_by, 'sluice version 0.1.0');
});

test('NULL-only pages and columns read back as NULL', async () => {
  const f = q(file('nulls.parquet'));
  const rows = await duck(`SELECT a, b FROM read_parquet(${f}, file_row_number = true)
      ORDER BY file_row_number`);
  assert.equal(rows.length, 8000);
  for (let i = 0; i < 8000; i++) {
    assert.deepEqual(rows[i], { a: null, b: i < 5000 ? null : `v${i % 3}` }, `row ${i}`);
  }
  const [meta] = await duck(`SELECT stats_null_count::INTEGER AS n, stats_min_value AS lo
      FROM parquet_metadata(${f}) WHERE path_in_schema = 'a'`);
  assert.deepEqual(meta, { n: 8000, lo: null });
});
