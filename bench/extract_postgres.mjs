// One PostgreSQL-extraction comparison at a given row count; see
// bench/extract_postgres (which starts the PostgreSQL server: PG_DIR holds
// its socket, PG_PORT its port).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [work, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
const sluice = path.resolve(process.env.SLUICE_BIN || 'build/sluice');
const sock = process.env.PG_DIR;
const port = process.env.PG_PORT;
if (!sock || !port) throw new Error('run through bench/extract_postgres (needs PG_DIR and PG_PORT)');
const LIMIT_MB = 200;
const LOOKBACK = '1h';

// Runs cmd under /usr/bin/time; returns wall seconds, peak RSS, CPU
// seconds (user + system) and output.
function timed(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  const [rssKb, user, sys] = lines[lines.length - 1].split(' ').map(Number);
  return { secs, rssMb: rssKb / 1024, cpu: user + sys, stdout: r.stdout, stderr: r.stderr };
}

function psql(sql, db = 'bench') {
  return execFileSync('psql', ['-h', sock, '-p', port, '-U', 'postgres', '-d', db, '-X', '-q', '-A', '-t',
    '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
}

// Rows read from sluice extract's line for source.table (columns: files,
// read, landed, ...); every row read must have landed in the lake.
function sluiceRows(r, label) {
  const m = r.stdout.match(new RegExp(`^\\s*${label.replace('.', '\\.')}\\s+\\d+\\s+(\\d+)\\s+(\\d+)`, 'm'));
  if (!m) throw new Error(`no line for ${label} in sluice's output:\n${r.stdout}`);
  if (m[1] !== m[2]) console.log(`  WARNING: ${label}: ${m[1]} rows read but ${m[2]} landed`);
  return Number(m[1]);
}

// COPY statements sluice issued for source.table (its "requests" note).
function sluiceCopies(r, label) {
  const m = r.stdout.match(new RegExp(`note: ${label.replace('.', '\\.')}: (\\d+) requests`));
  return m ? Number(m[1]) : '?';
}

// An OLTP-like orders table: a bigint key, a low-cardinality status, exact
// amounts, a note that is NULL for 1 row in 7, one row per second of
// created_at and updated_at up to 10 minutes later.
function generate() {
  const t0 = process.hrtime.bigint();
  psql('CREATE DATABASE bench', 'postgres');
  psql(`CREATE TABLE orders (order_id bigint NOT NULL, customer_id int NOT NULL, status text NOT NULL,
    amount numeric(12,2) NOT NULL, note text, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)`);
  psql(`SET maintenance_work_mem = '512MB';
    INSERT INTO orders SELECT g, 1 + (g * 7919) % 250000,
      (ARRAY['placed','paid','shipped','delivered','returned','cancelled'])[1 + (g * 31) % 6],
      ((g * 104729) % 9999999) / 100.0,
      CASE WHEN g % 7 = 0 THEN NULL
           WHEN g % 7 = 1 THEN E'leave at door, "back" porch\\ttab'
           ELSE 'order note ' || (g % 1000) || ' for customer ' || (1 + (g * 7919) % 250000) END,
      timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second',
      timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' + (g % 600) * interval '1 second'
    FROM generate_series(1::bigint, ${rows}) g;
    ALTER TABLE orders ADD PRIMARY KEY (order_id);`);
  psql('VACUUM (FREEZE, ANALYZE) orders');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes = Number(psql(`SELECT pg_table_size('orders')`));
  return { secs, bytes };
}

// DuckDB's postgres extension, only when it loads without a download.
function duckScript(out) {
  const conn = `host=${sock} port=${port} dbname=bench user=postgres`;
  return `
import { DuckDBInstance } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false', autoload_known_extensions: 'false' });
const c = await db.connect();
await c.run('LOAD postgres');
if (process.argv.includes('--probe')) process.exit(0);
await c.run("ATTACH '${conn}' AS pg (TYPE postgres, READ_ONLY)");
await c.run("COPY (SELECT * FROM pg.public.orders) TO '${out}' (FORMAT parquet, COMPRESSION zstd)");
`;
}

function duckAvailable(script) {
  const r = spawnSync('node', ['--input-type=module', '-e', script, '--', '--probe'], { encoding: 'utf8' });
  return r.status === 0 ? null : (r.stderr.match(/Error[^\n]*/) || [r.stderr.trim().split('\n')[0]])[0];
}

const gen = generate();

// One project, two sources on the same table: with and without a cursor.
const proj = path.resolve(work, `extract_pg_project_${rows}`);
fs.rmSync(proj, { recursive: true, force: true });
fs.mkdirSync(path.join(proj, 'sources'), { recursive: true });
fs.writeFileSync(path.join(proj, 'sluice.yml'), 'name: bench\nlake: ./lake\n');
fs.writeFileSync(path.join(proj, 'sources', 'pg_cursor.yml'), `source: pg_cursor
kind: postgres
connection: \${BENCH_PG_URL}
tables:
  - name: orders
    primary_key: [order_id]
    cursor: updated_at
    lookback: ${LOOKBACK}
    write: merge
`);
fs.writeFileSync(path.join(proj, 'sources', 'pg_keyset.yml'), `source: pg_keyset
kind: postgres
connection: \${BENCH_PG_URL}
tables:
  - name: orders
    primary_key: [order_id]
    write: replace
`);
const env = { ...process.env, BENCH_PG_URL: `host=${sock} port=${port} dbname=bench user=postgres` };
const extract = sel => timed(sluice, ['extract', '--project-dir', proj, '--select', sel], { env });

const csv = path.join(proj, 'orders.csv');
const duckOut = path.join(proj, 'orders_duckdb.parquet');

const a = extract('pg_cursor.orders');
const b = extract('pg_keyset.orders');
const c = timed('psql', ['-h', sock, '-p', port, '-U', 'postgres', '-d', 'bench', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
  '-c', `\\copy (select * from orders) to '${csv.replace(/'/g, "''")}' csv header`]);
const script = duckScript(duckOut);
const duckWhy = duckAvailable(script);
const d = duckWhy ? null : timed('node', ['--input-type=module', '-e', script]);

const nA = sluiceRows(a, 'pg_cursor.orders');
const nB = sluiceRows(b, 'pg_keyset.orders');
const nC = Number(execFileSync('wc', ['-l', csv], { encoding: 'utf8' }).trim().split(/\s+/)[0]) - 1;

// The incremental run: 1% of the rows change. It reads those plus the rows
// whose updated_at lies inside the lookback below the stored watermark.
const wm = psql('SELECT max(updated_at) FROM orders');
psql('UPDATE orders SET updated_at = now(), status = \'x\' WHERE order_id % 100 = 0');
const changed = Number(psql('SELECT count(*) FROM orders WHERE order_id % 100 = 0'));
const expectInc = Number(psql(`SELECT count(*) FROM orders WHERE updated_at > timestamptz '${wm}' - interval '${LOOKBACK}'`));
const inc = extract('pg_cursor.orders');
const nInc = sluiceRows(inc, 'pg_cursor.orders');

const nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
const pgVersion = psql('SHOW server_version');
console.log(`\nextract_postgres: ${rows.toLocaleString()} rows, ${(gen.bytes / 1e6).toFixed(0)} MB table ` +
  `(generated in ${gen.secs.toFixed(1)} s), PostgreSQL ${pgVersion}, ${nproc} cores, ${sluice}`);
console.log(`  ${'extract'.padEnd(38)} ${'wall s'.padStart(8)} ${'rows/s'.padStart(10)} ${'CPU s'.padStart(7)} ${'peak RSS MB'.padStart(12)} ${'rows'.padStart(10)}`);
const table = [
  ['(a) sluice extract, cursor (1 COPY)', a, nA],
  ['(b) sluice extract, keyset by pk', b, nB],
  ['(c) psql \\copy to CSV', c, nC],
];
if (d) table.push(['(d) duckdb postgres ext -> Parquet', d, rows]);
for (const [name, r, n] of table) {
  console.log(`  ${name.padEnd(38)} ${r.secs.toFixed(2).padStart(8)} ${(n / r.secs).toFixed(0).padStart(10)} ${r.cpu.toFixed(2).padStart(7)} ${r.rssMb.toFixed(0).padStart(12)} ${String(n).padStart(10)}`);
}
if (!d) console.log(`  (d) duckdb skipped: its postgres extension is not installed and is not downloaded (${duckWhy.slice(0, 120)})`);
if (nA !== rows || nB !== rows || nC !== rows) console.log(`  WARNING: row counts differ from ${rows}`);
console.log(`  COPY statements: (a) ${sluiceCopies(a, 'pg_cursor.orders')}, (b) ${sluiceCopies(b, 'pg_keyset.orders')} (keyset chunks)`);
for (const [name, r] of [['(a) cursor', a], ['(b) keyset', b]]) {
  const ok = r.rssMb < LIMIT_MB;
  console.log(`  ${ok ? 'PASS' : 'FAIL'}: sluice peak RSS < ${LIMIT_MB} MB, ${name}: ${r.rssMb.toFixed(0)} MB`);
}
console.log(`  incremental (a) after updating ${changed.toLocaleString()} rows (1%), lookback ${LOOKBACK}: ` +
  `${nInc.toLocaleString()} rows extracted (expected ${expectInc.toLocaleString()}: ${changed.toLocaleString()} updated + ` +
  `${(expectInc - changed).toLocaleString()} in the lookback), ${inc.secs.toFixed(2)} s, peak RSS ${inc.rssMb.toFixed(0)} MB`);
if (nInc !== expectInc) console.log(`  WARNING: incremental run read ${nInc}, expected ${expectInc}`);
if (!process.env.BENCH_KEEP) fs.rmSync(proj, { recursive: true, force: true });
