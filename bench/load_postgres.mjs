// One warehouse-load comparison at a given row count; see bench/load_postgres
// (which starts the PostgreSQL server: PG_DIR holds its socket, PG_PORT its port).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const [work, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const csv = path.resolve(work, `orders_${rows}.csv`);
const sluice = path.resolve(process.env.SLUICE_BIN || 'build/sluice');
const sock = process.env.PG_DIR;
const port = process.env.PG_PORT;
if (!sock || !port) throw new Error('run through bench/load_postgres (needs PG_DIR and PG_PORT)');

// The same generator as bench/csv_to_parquet.mjs, so the file is shared.
async function generate() {
  if (fs.existsSync(csv)) return;
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
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

// Runs cmd under /usr/bin/time; returns wall seconds, peak RSS and stdout.
function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const rssKb = Number(lines[lines.length - 1]);
  return { secs, rssMb: rssKb / 1024, stdout: r.stdout };
}

function psql(sql, db = 'bench') {
  return execFileSync('psql', ['-h', sock, '-p', port, '-U', 'postgres', '-d', db, '-X', '-q', '-A', '-t',
    '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
}

await generate();
const size = fs.statSync(csv).size;

// A fresh project whose only table is the orders CSV.
const proj = path.resolve(work, `load_project_${rows}`);
fs.rmSync(proj, { recursive: true, force: true });
fs.mkdirSync(path.join(proj, 'sources'), { recursive: true });
fs.mkdirSync(path.join(proj, 'data'));
fs.symlinkSync(csv, path.join(proj, 'data', 'orders.csv'));
fs.writeFileSync(path.join(proj, 'sluice.yml'), `name: bench
lake: ./lake
target: local
targets:
  local: {type: sqlite, path: ./warehouse.db}
  pg: {type: postgres, host: ${sock}, port: ${port}, dbname: bench, user: postgres}
`);
fs.writeFileSync(path.join(proj, 'sources', 'shop.yml'), `source: shop
kind: csv
tables:
  - name: orders
    path: data/orders.csv
    columns: {order_id: int64, customer_id: int64, amount: "decimal(10,2)", quantity: int32, ordered_at: timestamp, status: string, currency: string, note: string}
`);

psql('CREATE DATABASE bench', 'postgres');
// psql's target: the table sluice creates, column for column.
psql(`CREATE SCHEMA bench_copy;
  CREATE TABLE bench_copy.orders (order_id bigint, customer_id bigint, amount numeric(10,2), quantity integer,
    ordered_at timestamptz, status text, currency text, note text)`);

const x = timed(sluice, ['extract', '--project-dir', proj]);
const a = timed(sluice, ['load', '--project-dir', proj, '--target', 'pg']);
const b = timed('psql', ['-h', sock, '-p', port, '-U', 'postgres', '-d', 'bench', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
  '-c', `\\copy bench_copy.orders FROM '${csv.replace(/'/g, "''")}' CSV HEADER`]);
const c = timed(sluice, ['load', '--project-dir', proj]);

// Every load must hold every row, and the two PostgreSQL tables the same data.
const nA = Number(psql('SELECT count(*) FROM raw.shop__orders'));
const nB = Number(psql('SELECT count(*) FROM bench_copy.orders'));
const nC = Number(execFileSync('sqlite3', [path.join(proj, 'warehouse.raw.db'), 'SELECT count(*) FROM shop__orders'], { encoding: 'utf8' }).trim());
const diff = Number(psql(`SELECT count(*) FROM (
  (SELECT order_id, customer_id, amount, quantity, ordered_at, status, currency, note FROM raw.shop__orders
   EXCEPT ALL SELECT * FROM bench_copy.orders)
  UNION ALL
  (SELECT * FROM bench_copy.orders EXCEPT ALL
   SELECT order_id, customer_id, amount, quantity, ordered_at, status, currency, note FROM raw.shop__orders)) d`));

const mb = size / 1e6;
const nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
console.log(`\nload_postgres: ${rows.toLocaleString()} rows, ${mb.toFixed(0)} MB CSV, ${nproc} cores, ${sluice}`);
console.log(`  (extract CSV -> lake: ${x.secs.toFixed(2)} s, ${(rows / x.secs).toFixed(0)} rows/s, peak RSS ${x.rssMb.toFixed(0)} MB)`);
console.log(`  ${'load'.padEnd(34)} ${'wall s'.padStart(8)} ${'rows/s'.padStart(10)} ${'peak RSS MB'.padStart(12)} ${'rows'.padStart(10)}`);
for (const [name, r, n] of [
  ['(a) sluice load --target pg', a, nA],
  ['(b) psql \\copy CSV', b, nB],
  ['(c) sluice load (sqlite)', c, nC],
]) {
  console.log(`  ${name.padEnd(34)} ${r.secs.toFixed(2).padStart(8)} ${(rows / r.secs).toFixed(0).padStart(10)} ${r.rssMb.toFixed(0).padStart(12)} ${String(n).padStart(10)}`);
}
console.log(`  ratio (psql \\copy / sluice load wall time): ${(b.secs / a.secs).toFixed(2)}x${b.secs > a.secs ? ' — sluice faster' : ' — psql faster'}`);
if (nA !== rows || nB !== rows || nC !== rows) console.log(`  WARNING: row counts differ from ${rows}`);
console.log(diff === 0 ? '  the two PostgreSQL tables hold the same rows' : `  WARNING: ${diff} rows differ between the two PostgreSQL tables`);
if (!process.env.BENCH_KEEP) fs.rmSync(proj, { recursive: true, force: true });
