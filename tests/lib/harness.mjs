// Shared helpers for integration and interop tests: run the real binary,
// make temp projects, query files with DuckDB, start a throwaway PostgreSQL.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SLUICE = process.env.SLUICE_BIN || path.join(ROOT, 'build-asan/sluice');

// Runs sluice synchronously; returns {code, stdout, stderr}.
export function sluice(args, opts = {}) {
  const r = spawnSync(SLUICE, args, {
    cwd: opts.cwd, env: { ...process.env, ...(opts.env || {}) },
    encoding: 'utf8', maxBuffer: 256 << 20, input: opts.input,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

// Runs sluice asynchronously (for tests that kill it); returns the child.
export function sluiceSpawn(args, opts = {}) {
  return spawn(SLUICE, args, { cwd: opts.cwd, env: { ...process.env, ...(opts.env || {}) } });
}

// A fresh temp directory, removed at process exit unless KEEP_TMP is set.
export function tmpdir(prefix = 'sluice-test-') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  if (!process.env.KEEP_TMP) process.on('exit', () => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

// Writes files {relpath: content} under dir.
export function writeFiles(dir, files) {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

let duckInstance = null;
// Runs SQL in an in-memory DuckDB; returns rows as objects with JS values
// (BIGINT as BigInt, DECIMAL/DATE/TIMESTAMP as strings via toString()).
export async function duck(sql) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  if (!duckInstance) duckInstance = await DuckDBInstance.create(':memory:');
  const conn = await duckInstance.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS();
  } finally {
    conn.closeSync?.();
  }
}

// Same, with every value rendered as DuckDB's text (NULL as null).
export async function duckText(sql) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  if (!duckInstance) duckInstance = await DuckDBInstance.create(':memory:');
  const conn = await duckInstance.connect();
  try {
    const reader = await conn.runAndReadAll(sql);
    const cols = reader.columnNames();
    return reader.getRows().map(r => Object.fromEntries(r.map((v, i) =>
      [cols[i], v === null ? null : (typeof v === 'object' && v.toString ? v.toString() : String(v))])));
  } finally {
    conn.closeSync?.();
  }
}

function pgBin(name) {
  for (const v of ['15', '16', '17']) {
    const p = `/usr/lib/postgresql/${v}/bin/${name}`;
    if (fs.existsSync(p)) return p;
  }
  return name;
}

// Starts a throwaway PostgreSQL cluster on a unix socket in a temp dir.
// Returns {host, port, dir, url, psql(sql), stop(), start()}.
export function startPostgres() {
  const dir = tmpdir('sluice-pg-');
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  fs.mkdirSync(sock);
  const asRoot = process.getuid && process.getuid() === 0;
  // initdb refuses to run as root: run the server as the postgres user.
  const run = (cmd, args) => {
    if (asRoot) {
      return execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    }
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
  if (asRoot) {
    fs.chmodSync(dir, 0o777);
    fs.chmodSync(sock, 0o777);
    execFileSync('chown', ['-R', 'postgres', dir]);
  }
  run(pgBin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const pg = {
    host: sock, port, dir, user: 'postgres',
    url: `postgresql://postgres@localhost:${port}/postgres?host=${encodeURIComponent(sock)}`,
    conninfo: `host=${sock} port=${port} user=postgres dbname=postgres`,
    start() {
      run(pgBin('pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o',
        `-k ${sock} -p ${port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start']);
    },
    stop(mode = 'fast') {
      try { run(pgBin('pg_ctl'), ['-D', data, '-m', mode, '-w', 'stop']); } catch { /* already stopped */ }
    },
    psql(sql, db = 'postgres') {
      return execFileSync('psql', ['-h', sock, '-p', String(port), '-U', 'postgres', '-d', db,
        '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
    },
  };
  pg.start();
  process.on('exit', () => pg.stop('immediate'));
  return pg;
}

// Versions of a local lake table's Delta log, as file names, in order.
export function deltaVersions(dir, table) {
  const log = path.join(dir, 'lake', table, '_delta_log');
  if (!fs.existsSync(log)) return [];
  return fs.readdirSync(log).filter(f => /^\d{20}\.json$/.test(f)).sort();
}

// Live data files of a lake table, by replaying its Delta log.
export function liveFiles(dir, table) {
  const live = new Set();
  for (const v of deltaVersions(dir, table)) {
    const text = fs.readFileSync(path.join(dir, 'lake', table, '_delta_log', v), 'utf8');
    for (const line of text.split('\n').filter(Boolean)) {
      const a = JSON.parse(line);
      if (a.add) live.add(a.add.path);
      if (a.remove) live.delete(a.remove.path);
    }
  }
  return [...live].map(p => path.join(dir, 'lake', table, p));
}

// The summary line of one table printed by `sluice run|extract|load`:
// table files read landed quarantined loaded bytes seconds rows/s status
// (bytes hold a space). Counts come back as text, '-' when not applicable.
export function runSummary(stdout, table) {
  const line = stdout.split('\n').find(l => l.startsWith(table + ' '));
  if (!line) throw new Error(`no summary line for ${table} in:\n${stdout}`);
  const m = line.match(/^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.+?)\s+([\d.]+)\s+(\d+)\s+(ok|FAILED|already landed|skipped|cancelled|TIMED OUT)\s*$/);
  if (!m) throw new Error(`unparsable summary line: ${line}`);
  return { files: m[2], read: m[3], landed: m[4], quarantined: m[5], loaded: m[6], status: m[10] };
}

// Runs sql with the sqlite3 CLI on a project's SQLite warehouse, the raw
// schema ATTACHed as "raw" (its own file, warehouse.raw.db); returns stdout.
export function warehouseSql(dir, sql) {
  const main = path.join(dir, 'warehouse.db');
  const raw = path.join(dir, 'warehouse.raw.db');
  return execFileSync('sqlite3', ['-bail', main,
    `ATTACH '${raw.replace(/'/g, "''")}' AS raw; ${sql}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

// Rows of a warehouse query as arrays, through json_group_array(json_array())
// so that text with newlines, tabs and quotes, and NULLs, come back exactly.
export function warehouseRows(dir, exprs, from) {
  const out = warehouseSql(dir, `SELECT json_group_array(json(r)) FROM (SELECT json_array(${exprs.join(', ')}) AS r FROM ${from});`);
  return JSON.parse(out);
}
