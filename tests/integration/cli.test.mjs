// The command line as a new user meets it: configuration refused before
// anything runs (warehouse name clashes, names over 255 bytes), only the
// selected target's environment needed, env values never printed, what
// `init` scaffolds and ignores, each command's own help, plurals, `runs`
// saying what happened to a refused task, errors as JSON lines under
// --log-format json, and hints that name the program as it was invoked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { sluice, tmpdir, writeFiles, SLUICE, warehouseSql } from '../lib/harness.mjs';

function project(files) {
  const dir = tmpdir();
  writeFiles(dir, { 'sluice.yml': 'name: t\nlake: ./lake\n', ...files });
  return dir;
}

const csvSource = (name, table = 't', file = 'data/x.csv') =>
  `source: ${name}\nkind: csv\ntables:\n  - name: ${table}\n    path: ${file}\n`;

test('sources differing only in case are refused on SQLite, naming both places, before anything runs', () => {
  const dir = project({
    'sources/A.yml': csvSource('A'),
    'sources/a.yml': '# lower case\n' + csvSource('a'),
    'data/x.csv': 'id\n1\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /sources\/A\.yml:4: table "t" of source "A" and sources\/a\.yml:5: table "t" of source "a" would load into one warehouse table: target "local" \(sqlite\) ignores the case of names, so "A__t" and "a__t" are the same table there; rename one of them/);
  assert.equal(r.stdout, '');
  assert.ok(!fs.existsSync(path.join(dir, 'lake')), 'nothing was extracted');
  assert.ok(!fs.existsSync(path.join(dir, 'warehouse.db')), 'nothing was loaded');
});

test('postgres tables "Orders" and orders are refused on SQLite', () => {
  const dir = project({
    'sources/db.yml': 'source: db\nkind: postgres\nconnection: host=/nonexistent\ntables:\n  - name: Orders\n  - name: orders\n',
  });
  const r = sluice(['extract', '--project-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sources\/db\.yml:5: table "Orders" of source "db" and sources\/db\.yml:6: table "orders" of source "db" would load into one warehouse table/);
});

test('on PostgreSQL, two tables equal in their first 63 bytes are refused before connecting', () => {
  const a = 'x'.repeat(59) + '1', b = 'x'.repeat(59) + '2';
  const dir = tmpdir();
  writeFiles(dir, {
    'sluice.yml': 'name: t\ntarget: pg\ntargets:\n  pg: {type: postgres, host: /nonexistent, dbname: x}\n',
    'sources/src.yml': `source: src\nkind: csv\ntables:\n  - {name: ${a}, path: a.csv}\n  - {name: ${b}, path: b.csv}\n`,
  });
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.ok(r.stderr.includes(`sources/src.yml:4: table "${a}" of source "src" and sources/src.yml:5: table "${b}" ` +
    `of source "src" would load into one warehouse table: target "pg" (postgres) keeps the first 63 bytes of a name, ` +
    `so "src__${a}" and "src__${b}" are the same table there; rename one of them`), r.stderr);
  assert.ok(!fs.existsSync(path.join(dir, '.sluice')), 'nothing ran');
  // the same names on SQLite are fine
  writeFiles(dir, { 'sluice.yml': 'name: t\n', 'a.csv': 'id\n1\n', 'b.csv': 'id\n2\n' });
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('a name longer than 255 bytes is a configuration error with file and line', () => {
  const long = 'a'.repeat(256);
  const dir = project({ 'sources/s.yml': csvSource('s', long) });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sources\/s\.yml:4: table name "a{40}\.\.\." is 256 bytes long; names may have at most 255 bytes: shorten it/);
});

test('long names sharing a prefix keep their own warehouse tables and merge indexes', () => {
  const a = 'p'.repeat(150) + 'a'.repeat(50), b = 'p'.repeat(150) + 'b'.repeat(50);
  const dir = project({
    'sources/s.yml': `source: s\nkind: csv\ntables:\n  - {name: ${a}, path: data/a.csv, primary_key: [id], write: merge}\n` +
      `  - {name: ${b}, path: data/b.csv, primary_key: [id], write: merge}\n`,
    'data/a.csv': 'id,v\n1,a\n',
    'data/b.csv': 'id,v\n1,b\n2,b\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(warehouseSql(dir, `select count(*) from raw."s__${a}"; select count(*) from raw."s__${b}";`), '1\n2\n');
  const ix = warehouseSql(dir, "select tbl_name from raw.sqlite_master where type = 'index' order by tbl_name;");
  assert.equal(ix, `s__${a}\ns__${b}\n`);
});

test('a target not selected needs none of its environment variables', () => {
  const env = { SL_CLI_PGHOST_UNSET: '' };
  delete process.env.SL_CLI_PGHOST_UNSET;
  const dir = tmpdir();
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\ntarget: local\ntargets:\n  local: {type: sqlite, path: ./warehouse.db}\n' +
      '  pg:\n    type: postgres\n    host: ${SL_CLI_PGHOST_UNSET}\n    password: ${SL_CLI_PGPASSWORD_UNSET}\n',
    'sources/s.yml': csvSource('s'),
    'data/x.csv': 'id\n1\n2\n',
  });
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^s\.t\s+1\s+2\s+2\s+0\s+2\s/m);
  r = sluice(['lake', 'ls', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  // selected, it needs them
  r = sluice(['load', '--project-dir', dir, '--target', 'pg']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sluice\.yml:8: environment variable SL_CLI_PGHOST_UNSET is not set/);
  // an unselected target's structure is still checked
  writeFiles(dir, { 'sluice.yml': 'name: t\ntarget: local\ntargets:\n  local: {type: sqlite}\n  pg: {type: postgress, host: "${SL_CLI_PGHOST_UNSET}"}\n' });
  r = sluice(['run', '--project-dir', dir], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sluice\.yml:5: "type" in target "pg" must be one of sqlite, postgres, duckdb, not "postgress"; did you mean "postgres"\?/);
});

test('a value from the environment never appears in the output of sluice run', () => {
  const token = 'TOKq8Zx2Vw9';
  const env = { SL_CLI_TOKEN: token };
  const dir = project({
    'sources/files.yml': 'source: files\nkind: csv\ntables:\n  - name: t\n    path: data/${SL_CLI_TOKEN}/*.csv\n',
    'sources/api.yml': 'source: api\nkind: http\ntables:\n  - name: items\n    url: http://127.0.0.1:1/items\n' +
      '    params: {token: "${SL_CLI_TOKEN}"}\n    max_retries: 0\n',
  });
  for (const args of [['run'], ['--log-level', 'debug', 'run'], ['--log-format', 'json', '--log-level', 'info', 'run']]) {
    const r = sluice([...args, '--project-dir', dir], { env });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /error: files\.t: extract: /);
    assert.ok(!(r.stdout + r.stderr).includes(token), `${args.join(' ')} printed the token:\n${r.stdout}${r.stderr}`);
  }
  const runs = sluice(['runs', '--project-dir', dir], { env });
  assert.ok(!(runs.stdout + runs.stderr).includes(token), runs.stdout);
  // in a configuration error too
  writeFiles(dir, { 'sources/files.yml': 'source: files\nkind: csv\ntables:\n  - name: t\n    path: x.csv\n    delimiter: "${SL_CLI_TOKEN}"\n' });
  const r = sluice(['run', '--project-dir', dir], { env });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /sources\/files\.yml:6: "delimiter" in table "t" must be a single character, not "\*\*\*"/);
  assert.ok(!r.stderr.includes(token));
});

test('init: a .gitignore that keeps every file runs make out of git, and no folders nothing reads', () => {
  const dir = path.join(tmpdir(), 'my-proj');
  let r = sluice(['init', dir]);
  assert.equal(r.code, 0, r.stderr);
  for (const d of ['models', 'seeds', 'macros']) assert.ok(!fs.existsSync(path.join(dir, d)), d);
  const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
  assert.doesNotMatch(readme, /models|seeds|macros/);
  assert.match(readme, /warehouse\.raw\.db/);
  writeFiles(dir, { 'sources/s.yml': csvSource('s'), 'data/x.csv': 'id\n1\n' });
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(fs.existsSync(path.join(dir, 'warehouse.raw.db')));
  // the WAL files of both databases, as a crashed run leaves them
  for (const f of ['warehouse.db-wal', 'warehouse.db-shm', 'warehouse.raw.db-wal', 'warehouse.raw.db-shm', 'warehouse.db-journal'])
    fs.writeFileSync(path.join(dir, f), '');
  execFileSync('git', ['init', '-q', dir]);
  const status = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=all'], { encoding: 'utf8' });
  assert.deepEqual(status.trim().split('\n').map(l => l.slice(3)).sort(),
    ['.gitignore', 'README.md', 'data/x.csv', 'sluice.yml', 'sources/s.yml']);
  r = sluice(['init', '--help']);
  assert.doesNotMatch(r.stdout, /models|seeds|macros/);
});

test('extract, load and run each have their own help', () => {
  const help = Object.fromEntries(['run', 'extract', 'load'].map(c => {
    const r = sluice([c, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^usage: sluice ${c} \\[options\\]`));
    return [c, r.stdout];
  }));
  assert.notEqual(help.extract, help.run);
  assert.notEqual(help.load, help.run);
  assert.match(help.extract, /The warehouse is not touched/);
  assert.doesNotMatch(help.extract, /--target|loaded,/);
  assert.match(help.load, /Sources are not read/);
  assert.match(help.load, /--target NAME/);
  assert.match(help.run, /extracts each source table into the lake, then loads/);
  assert.equal(sluice(['help', 'load']).stdout, help.load);
});

test('counts of one are singular: 1 table, 1 row quarantined', () => {
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: t\n    path: data/x.csv\n    columns: {id: int64}\n    max_bad_rows: 5\n',
    'data/x.csv': 'id\n1\nbad\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^note: s\.t: 1 row quarantined; see the lake table quarantine\/s\/t$/m);
  assert.match(r.stdout, /^1 table, 0 failed, /m);
  const ls = sluice(['lake', 'show', 'raw/s/t', '--project-dir', dir]);
  assert.match(ls.stdout, /^version 0: 1 file, 1 row, /m);
});

test('runs says what happened to a task refused by max_bad_rows', () => {
  const rows = ['id'];
  for (let i = 1; i <= 10; i++) rows.push(String(i));
  rows.push('bad');
  const dir = project({
    'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: t\n    path: data/x.csv\n    columns: {id: int64}\n',
    'data/x.csv': rows.join('\n') + '\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 1);
  // the error names the table once
  assert.match(r.stdout, /^error: s\.t: extract: 1 bad row/m);
  // once in the report on stdout, once in the log on stderr (its table line)
  assert.equal(r.stdout.split('1 bad row exceeds').length - 1, 1, r.stdout);
  assert.equal(r.stderr.split('1 bad row exceeds').length - 1, 1, r.stderr);
  assert.match(r.stderr, /table failed .*error=extract s\.t: 1 bad row exceeds/);
  assert.doesNotMatch(r.stdout, /extract s\.t:/);
  const runs = sluice(['runs', '--project-dir', dir]);
  assert.equal(runs.code, 0, runs.stderr);
  assert.doesNotMatch(runs.stdout, /loaded -1|= landed 0 \+ quarantined 1/);
  assert.match(runs.stdout, /raw\/s\/t\s+read 11, quarantined 1; refused by max_bad_rows: nothing landed or loaded\n\s+extract failed: 1 bad row exceeds max_bad_rows=0/);
  // runs show RUN_ID: that run alone, with every task attempt
  const id = runs.stdout.split(/\s+/)[0];
  const show = sluice(['runs', 'show', id, '--project-dir', dir]);
  assert.equal(show.code, 0, show.stderr);
  assert.equal(show.stdout.split('\n')[0].split(/\s+/)[0], id);
  // task, attempt, status, start, end, seconds, rows, bytes, error
  assert.match(show.stdout, /^\s+extract:s\.t\s+1\s+failed\s+[\d:.]+\s+[\d:.]+\s+[\d.]+\s+\d+\s+\d+(\.\d)? [KM]?B\s+extract s\.t: 1 bad row exceeds max_bad_rows=0/m);
  assert.match(show.stdout, /^\s+extract:s\.t\s+\|[x ]+\| failed$/m);
  const unknown = sluice(['runs', 'show', 'no-such-run', '--project-dir', dir]);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /no-such-run/);
  const noid = sluice(['runs', 'show', '--project-dir', dir]);
  assert.equal(noid.code, 2);
  assert.match(noid.stderr, /show needs a RUN_ID/);
  const bad = sluice(['runs', 'bogus', '--project-dir', dir]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unexpected 'bogus'/);
});

test('configuration and usage errors are JSON lines under --log-format json', () => {
  const dir = project({ 'sources/s.yml': 'source: s\nkind: csv\ntables:\n  - name: t\n    pth: x.csv\n' });
  let r = sluice(['--log-format', 'json', 'run', '--project-dir', dir]);
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  const e = JSON.parse(lines[0]);
  assert.equal(e.level, 'error');
  assert.equal(e.exit, 2);
  assert.match(e.msg, /^sources\/s\.yml:5: unknown key "pth" in table "t"; did you mean "path"\?/);
  assert.ok(e.ts);
  r = sluice(['run', '--project-dir', dir, '--log-format', 'json', '--bogus']);
  assert.equal(r.code, 2);
  assert.match(JSON.parse(r.stderr.trim()).msg, /run: unknown or incomplete option '--bogus'/);
  r = sluice(['--log-format', 'json', 'nosuchcommand']);
  assert.equal(r.code, 2);
  assert.match(JSON.parse(r.stderr.trim()).msg, /unknown command 'nosuchcommand'/);
  // text stays text
  r = sluice(['run', '--project-dir', dir]);
  assert.match(r.stderr, /^sluice: sources\/s\.yml:5: unknown key "pth"/);
});

test('hints name the program as it was invoked', () => {
  const dir = tmpdir();
  // by a path (after `make`, sluice is not on PATH)
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(`run \`${SLUICE} init\` to create a project`), r.stderr);
  r = sluice(['demo', path.join(dir, 'd')]);
  assert.ok(r.stdout.includes(`next: ${SLUICE} run --project-dir`), r.stdout);
  // by name from PATH
  const byName = spawnSync(SLUICE, ['run', '--project-dir', dir], { argv0: 'sluice', encoding: 'utf8' });
  assert.match(byName.stderr, /run `sluice init` to create a project/);
});
