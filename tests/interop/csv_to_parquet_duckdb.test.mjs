// CSV → Parquet through `sluice parquet convert`, checked against DuckDB's
// own read of the same CSV: same rows, same values, and types of the same
// family (DuckDB sniffs 12.50 as DOUBLE; sluice keeps it exact as DECIMAL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, tmpdir, duck, duckText } from '../lib/harness.mjs';

const dir = tmpdir();
const csv = path.join(dir, 'orders.csv');
const out = path.join(dir, 'orders.parquet');

function q(s) { return `'${s.replace(/'/g, "''")}'`; }

// 5000 rows: ints, a big int, decimals, floats with exponents, booleans,
// dates, timestamps with fractions, low-cardinality and free text with
// quotes, commas, newlines and unicode, and NULLs (empty fields) everywhere.
const notes = ['plain', 'with, comma', 'with "quotes"', 'two\nlines', 'ünïcødé ✓', ''];
const lines = ['id,big,amount,ratio,flag,day,at,status,note'];
for (let i = 1; i <= 5000; i++) {
  const nul = k => (i + k) % 11 === 0;
  const note = notes[i % notes.length];
  const quoted = /[",\n]/.test(note) ? `"${note.replace(/"/g, '""')}"` : note;
  lines.push([
    i,
    nul(1) ? '' : String(9000000000000 + i * 7919),
    nul(2) ? '' : `${i % 2 ? '-' : ''}${Math.floor(i / 7)}.${String(i % 100).padStart(2, '0')}`,
    nul(3) ? '' : `${(i * 1.5).toFixed(3)}e-2`,
    nul(4) ? '' : (i % 3 === 0 ? 'true' : 'false'),
    nul(5) ? '' : `2024-${String(i % 12 + 1).padStart(2, '0')}-${String(i % 28 + 1).padStart(2, '0')}`,
    nul(6) ? '' : `2025-03-${String(i % 28 + 1).padStart(2, '0')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:07.${String(i % 1000000).padStart(6, '0')}`,
    ['placed', 'shipped', 'delivered'][i % 3],
    quoted,
  ].join(','));
}
fs.writeFileSync(csv, lines.join('\n') + '\n');

const family = t => {
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)$/.test(t)) return 'integer';
  if (/^(DECIMAL|DOUBLE|FLOAT)/.test(t)) return 'number';
  if (/^TIMESTAMP/.test(t)) return 'timestamp';
  return t;
};

test('convert writes every row, and DuckDB sees the same types family by family', async () => {
  const r = sluice(['parquet', 'convert', csv, out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /converted 5000 rows/);
  const ours = await duck(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(${q(out)}))`);
  const theirs = await duck(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_csv(${q(csv)}))`);
  assert.deepEqual(ours.map(c => c.column_name), theirs.map(c => c.column_name));
  for (let i = 0; i < ours.length; i++)
    assert.equal(family(ours[i].column_type), family(theirs[i].column_type),
      `column ${ours[i].column_name}: sluice ${ours[i].column_type}, DuckDB ${theirs[i].column_type}`);
  const t = Object.fromEntries(ours.map(c => [c.column_name, c.column_type]));
  assert.equal(t.id, 'INTEGER');
  assert.equal(t.big, 'BIGINT');
  assert.equal(t.amount, 'DECIMAL(5,2)');
  assert.equal(t.flag, 'BOOLEAN');
  assert.equal(t.day, 'DATE');
  assert.equal(t.note, 'VARCHAR');
});

test('values equal DuckDB\'s read of the CSV, row by row, NULLs included', async () => {
  const cols = ['id', 'big', 'amount', 'ratio', 'flag', 'day', 'at', 'status', 'note'];
  // DuckDB reads the CSV with its sniffer; compare as text after casting
  // its doubles to the decimal scale sluice inferred (exact on these inputs).
  const sel = src => `SELECT id::BIGINT AS id, big::BIGINT AS big, amount::DECIMAL(18,2)::VARCHAR AS amount,
      ratio::DOUBLE AS ratio, flag, day, epoch_us("at"::TIMESTAMP) AS "at", status, note FROM ${src}`;
  const a = await duckText(`${sel(`read_parquet(${q(out)})`)} ORDER BY id`);
  const b = await duckText(`${sel(`read_csv(${q(csv)})`)} ORDER BY id`);
  assert.equal(a.length, 5000);
  assert.equal(b.length, 5000);
  for (let i = 0; i < a.length; i++)
    for (const c of cols)
      assert.equal(a[i][c], b[i][c], `row ${i + 1} column ${c}`);
  const nulls = await duck(`SELECT count(*) FILTER (WHERE big IS NULL)::INT AS big, count(*) FILTER (WHERE "at" IS NULL)::INT AS "at",
      count(*) FILTER (WHERE note IS NULL)::INT AS note FROM read_parquet(${q(out)})`);
  assert.deepEqual(nulls, [{ big: 454, at: 455, note: 833 }]);
});

test('the compression flag sets each column chunk\'s codec', async () => {
  for (const [flag, codec] of [['zstd', 'ZSTD'], ['snappy', 'SNAPPY'], ['gzip', 'GZIP'], ['none', 'UNCOMPRESSED']]) {
    const f = path.join(dir, `o_${flag}.parquet`);
    const r = sluice(['parquet', 'convert', csv, f, '--compression', flag]);
    assert.equal(r.code, 0, r.stderr);
    const m = await duck(`SELECT DISTINCT compression FROM parquet_metadata(${q(f)})`);
    assert.deepEqual(m.map(x => x.compression), [codec]);
    const n = await duck(`SELECT count(*)::INT AS n FROM read_parquet(${q(f)})`);
    assert.equal(n[0].n, 5000);
  }
});
