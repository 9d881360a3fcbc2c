// CSV headers whose names repeat, exactly or in another case (Dup,dup), load
// into SQLite: the names are made unique at extraction (dup -> dup_1), where
// they once landed as they were and failed every load with "duplicate column
// name". An oversized header is refused with the file and the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sluice, tmpdir, writeFiles, warehouseSql, warehouseRows } from '../lib/harness.mjs';

function project(files) {
  const dir = tmpdir();
  writeFiles(dir, { 'sluice.yml': 'name: t\nlake: ./lake\n', ...files });
  return dir;
}

const yml = `source: shop
kind: csv
tables:
  - name: people
    path: data/people_*.csv
`;

test('names equal ignoring case are renamed and every row loads into SQLite', () => {
  const dir = project({
    'sources/shop.yml': yml,
    'data/people_1.csv': 'id,Dup,dup,name,NAME,Name_1,\n1,a,b,c,d,e,f\n2,g,h,i,j,k,l\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const cols = JSON.parse(warehouseSql(dir,
    `SELECT json_group_array(name) FROM pragma_table_info('shop__people', 'raw');`));
  assert.deepEqual(cols.filter((c) => !c.startsWith('_')),
    ['id', 'Dup', 'dup_1', 'name', 'NAME_2', 'Name_1', 'column7']);
  const rows = warehouseRows(dir, ['id', '"Dup"', '"dup_1"', '"NAME_2"', '"Name_1"', '"column7"'],
    'raw.shop__people ORDER BY id');
  assert.deepEqual(rows, [[1, 'a', 'b', 'd', 'e', 'f'], [2, 'g', 'h', 'j', 'k', 'l']]);
  // the summary says what was renamed
  assert.match(r.stdout, /^note: shop\.people: column names that repeat \(ignoring case\) were renamed: dup → dup_1, NAME → NAME_2, "" → column7$/m);
});

test('a header over max_columns (10,000) is refused naming the file and the limit', () => {
  const names = Array.from({ length: 10001 }, (_, i) => `c${i}`);
  const dir = project({
    'sources/shop.yml': yml,
    'data/people_1.csv': `${names.join(',')}\n${names.map(() => '1').join(',')}\n`,
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(r.stderr + r.stdout,
    /people_1\.csv: the header has 10001 columns, more than max_columns \(10000\); set max_columns on the table to read it/);
});

test('max_columns on a table raises or lowers the limit', () => {
  const dir = project({
    'sources/shop.yml': `${yml}    max_columns: 3\n  - name: wide\n    path: data/wide.csv\n    max_columns: 20000\n`,
    'data/people_1.csv': 'a,b,c,d\n1,2,3,4\n',
    'data/wide.csv': `${Array.from({ length: 12000 }, (_, i) => `c${i}`).join(',')}\n${'7,'.repeat(11999)}7\n`,
  });
  const r = sluice(['extract', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(r.stdout, /people_1\.csv: the header has 4 columns, more than max_columns \(3\)/);
  // past max_columns' check, the target's own limit refuses it before landing
  assert.match(r.stdout, /shop\.yml:7: the table would have 12000 columns, more than the 2000 a sqlite table holds \(target "local"\); nothing landed/);
  assert.equal(fs.existsSync(path.join(dir, 'lake', 'raw', 'shop', 'wide')), false);
  const bad = project({ 'sources/shop.yml': `${yml}    max_columns: 0\n` });
  const b = sluice(['run', '--project-dir', bad]);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /shop\.yml:6: .*max_columns/);
});

test('a later file that spells a column in another case lands in the same column and loads', () => {
  const dir = project({ 'sources/shop.yml': yml, 'data/people_1.csv': 'id,Name\n1,x\n' });
  let r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  writeFiles(dir, { 'data/people_2.csv': 'id,NAME,extra\n2,y,e\n' });
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^note: shop\.people: columns spelled otherwise in the lake table took its spelling: NAME → Name$/m);
  const cols = JSON.parse(warehouseSql(dir,
    `SELECT json_group_array(name) FROM pragma_table_info('shop__people', 'raw');`));
  assert.deepEqual(cols.filter((c) => !c.startsWith('_')), ['id', 'Name', 'extra']);
  assert.deepEqual(warehouseRows(dir, ['id', '"Name"', 'extra'], 'raw.shop__people ORDER BY id'),
    [[1, 'x', null], [2, 'y', 'e']]);
  // and loads go on working
  writeFiles(dir, { 'data/people_3.csv': 'id,name,EXTRA\n3,z,f\n' });
  r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(warehouseRows(dir, ['count(*)'], 'raw.shop__people')[0][0], 3);
});

test('a primary key or declared column keeps its spelling; the other spelling is renamed', () => {
  const dir = project({
    'sources/shop.yml': `${yml}    primary_key: [key]\n    write: merge\n    columns: {Note: string}\n`,
    'data/people_1.csv': 'Key,key,v,note,Note\n1,10,a,x,y\n1,20,b,x,y\n',
  });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^note: shop\.people: column names that repeat \(ignoring case\) were renamed: Key → Key_1, note → note_1$/m);
  assert.deepEqual(warehouseRows(dir, ['key', '"Key_1"', 'v', '"Note"', 'note_1'], 'raw.shop__people ORDER BY key'),
    [[10, 1, 'a', 'y', 'x'], [20, 1, 'b', 'y', 'x']]);
});

test('a column name longer than the target holds is refused before landing', () => {
  const long = 'c'.repeat(70);
  const dir = project({
    'sluice.yml': 'name: t\nlake: ./lake\ntarget: pg\ntargets:\n  pg: {type: postgres, host: 127.0.0.1, dbname: x}\n',
    'sources/shop.yml': yml,
    'data/people_1.csv': `id,${long}\n1,2\n`,
  });
  const r = sluice(['extract', '--project-dir', dir]);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(r.stdout, /shop\.yml:4: column "c{40}\.\.\." is 70 bytes, longer than the 63 bytes a postgres name holds \(target "pg"\); nothing landed: shorten it at the source/);
  assert.equal(fs.existsSync(path.join(dir, 'lake', 'raw', 'shop', 'people')), false);
});

test('the rename note lists the first 20 renames and counts the rest', () => {
  const dir = project({ 'sources/shop.yml': yml, 'data/people_1.csv': `${Array(30).fill('a').join(',')}\n${Array(30).fill('1').join(',')}\n` });
  const r = sluice(['run', '--project-dir', dir]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const note = r.stdout.split('\n').find(l => l.startsWith('note: shop.people: column names'));
  assert.match(note, /renamed: a → a_1, a → a_2, .*a → a_20 and 9 more$/);
});
