// One CSV → Parquet comparison at a given row count; see bench/csv_to_parquet.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const [work, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const csv = path.join(work, `orders_${rows}.csv`);
const sluice = path.resolve('build/sluice');

async function generate() {
  if (fs.existsSync(csv)) return;
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  // ints, decimals, timestamps, low-cardinality strings, quoted free text with NULLs
  await c.run(`COPY (
    SELECT i AS order_id,
           (i * 7919) % 250000 AS customer_id,
           ((i * 104729) % 9999999) / 100.0 :: DECIMAL(10,2) AS amount,
           (i % 20) + 1 AS quantity,
           TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i * 3) AS ordered_at,
           ['placed','shipped','delivered','returned','cancelled'][(i % 5) + 1] AS status,
           ['EUR','USD','GBP'][(i % 3) + 1] AS currency,
           CASE WHEN i % 7 = 0 THEN NULL
                WHEN i % 7 = 1 THEN 'leave at door, "back" porch'
                ELSE 'order note ' || (i % 1000) || ' for customer ' || ((i * 7919) % 250000) END AS note
    FROM range(${rows}) t(i)) TO '${csv}' (FORMAT csv, HEADER)`);
}

function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8' });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const rssKb = Number(lines[lines.length - 1]);
  const copy = r.stderr.match(/copy_seconds=([\d.]+)/);
  return { secs, rssMb: rssKb / 1024, copySecs: copy ? Number(copy[1]) : null };
}

await generate();
const size = fs.statSync(csv).size;
const outS = path.join(work, `sluice_${rows}.parquet`);
const outD = path.join(work, `duckdb_${rows}.parquet`);
fs.rmSync(outS, { force: true });
fs.rmSync(outD, { force: true });

const duckScript = path.join(work, 'duck_copy.mjs');
fs.writeFileSync(duckScript, `
import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const t0 = process.hrtime.bigint();
await c.run("COPY (SELECT * FROM read_csv('${csv}')) TO '${outD}' (FORMAT parquet, COMPRESSION zstd)");
console.error('copy_seconds=' + Number(process.hrtime.bigint() - t0) / 1e9);
`);
fs.copyFileSync(duckScript, path.resolve('bench/.duck_copy.mjs'));
const s = timed(sluice, ['parquet', 'convert', csv, outS, '--compression', 'zstd']);
const d = timed('node', [path.resolve('bench/.duck_copy.mjs')]);
fs.rmSync(path.resolve('bench/.duck_copy.mjs'), { force: true });

// Both files must hold the same rows.
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const cnt = async f => (await c.runAndReadAll(`SELECT count(*) FROM read_parquet('${f}')`)).getRows()[0][0];
const [ns, nd] = [await cnt(outS), await cnt(outD)];

const mb = size / 1e6;
console.log(`\ncsv_to_parquet: ${rows.toLocaleString()} rows, ${mb.toFixed(0)} MB CSV`);
console.log(`  ${'tool'.padEnd(8)} ${'wall s'.padStart(8)} ${'MB/s'.padStart(8)} ${'peak RSS MB'.padStart(12)} ${'out MB'.padStart(8)} ${'rows'.padStart(10)}`);
for (const [name, r, f, n] of [['sluice', s, outS, ns], ['duckdb', d, outD, nd]]) {
  console.log(`  ${name.padEnd(8)} ${r.secs.toFixed(2).padStart(8)} ${(mb / r.secs).toFixed(0).padStart(8)} ${r.rssMb.toFixed(0).padStart(12)} ${(fs.statSync(f).size / 1e6).toFixed(0).padStart(8)} ${String(n).padStart(10)}`);
}
console.log(`  ratio (duckdb / sluice wall time): ${(d.secs / s.secs).toFixed(2)}x${d.secs > s.secs ? ' — sluice faster' : ' — duckdb faster'}`);
if (d.copySecs) console.log(`  duckdb's COPY alone (without node and DuckDB start-up): ${d.copySecs.toFixed(2)} s; ratio ${(d.copySecs / s.secs).toFixed(2)}x`);
if (ns !== nd) console.log(`  WARNING: row counts differ (${ns} vs ${nd})`);
