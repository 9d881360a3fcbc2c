// A run reads each lake log version at most once: the extract's replay of
// a table is what its commit and its load start from, and the commit a
// run writes is never read back. Counted from the lake's debug lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sluice, tmpdir, writeFiles } from '../lib/harness.mjs';

function reads(stderr) {
  const n = {};
  for (const m of stderr.matchAll(/lake table (\S+): read log version (\d+)/g)) {
    const k = `${m[1]}@${m[2]}`;
    n[k] = (n[k] || 0) + 1;
  }
  return n;
}

test('a run of three tables reads each log version at most once', () => {
  const dir = tmpdir();
  const tables = ['a', 'b', 'c'];
  writeFiles(dir, {
    'sluice.yml': 'name: t\nlake: ./lake\n',
    'sources/shop.yml': 'source: shop\nkind: csv\ntables:\n' +
      tables.map(t => `  - name: ${t}\n    path: data/${t}_*.csv\n`).join(''),
    ...Object.fromEntries(tables.map(t => [`data/${t}_1.csv`, 'id,v\n1,x\n2,y\n'])),
  });
  const r1 = sluice(['--log-level', 'debug', 'run', '--project-dir', dir]);
  assert.equal(r1.code, 0, r1.stderr);
  // the run wrote every version it knows of: nothing is read back
  assert.deepEqual(reads(r1.stderr), {});

  writeFiles(dir, Object.fromEntries(tables.map(t => [`data/${t}_2.csv`, 'id,v\n3,z\n'])));
  const r2 = sluice(['--log-level', 'debug', 'run', '--project-dir', dir]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /shop\.a\s+1\s+1\s+1\s+0\s+1/);
  // version 0 once per table (the replay), version 1 (written now) never
  assert.deepEqual(reads(r2.stderr), {
    'raw/shop/a@0': 1, 'raw/shop/b@0': 1, 'raw/shop/c@0': 1,
  });
});
