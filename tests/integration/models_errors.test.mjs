// Errors in a dbt project's templates and graph: each case is one bad file
// added to a copy of the test project. sluice must stop before building
// anything, exit 2, and say where (path:line:column) and what.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeProject, assertExit } from './fixtures/models/harness.mjs';

function withFiles(files) {
  const p = makeProject();
  for (const [rel, text] of Object.entries(files)) fs.writeFileSync(path.join(p.dir, rel), text);
  return p;
}

// The first "path:line:column" naming file in out, as numbers.
function location(out, file) {
  const esc = file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const m = out.match(new RegExp(`${esc}:(\\d+):(\\d+)`));
  assert.ok(m, `no ${file}:line:column in:\n${out}`);
  return { line: Number(m[1]), col: Number(m[2]) };
}

const CASES = [
  {
    name: 'an unclosed {% if %}',
    file: 'models/misc/bad_unclosed.sql',
    text: "select 1 as a\n{% if var('schema_version') > 1 %}\n, 2 as b\n",
    lines: [2, 3, 4],
    message: /\bif\b|endif|unclosed|end of (file|template)/i,
  },
  {
    name: 'an unknown filter',
    file: 'models/misc/bad_filter.sql',
    text: "select\n  '{{ \"x\" | no_such_filter }}' as a\n",
    lines: [2],
    cols: [4, 13],
    message: /no_such_filter/,
  },
  {
    name: 'a ref to a missing model',
    file: 'models/misc/bad_ref.sql',
    text: "-- a typo\nselect * from {{ ref('stg_ordrs') }}\n",
    lines: [2],
    message: /stg_ordrs[\s\S]*stg_orders/,
  },
  {
    name: 'an undefined macro',
    file: 'models/misc/bad_macro.sql',
    text: "select {{ no_such_macro('a') }} as a\n",
    lines: [1],
    message: /no_such_macro/,
  },
  {
    name: 'a construct outside the subset',
    file: 'models/misc/bad_construct.sql',
    text: "select 1 as a\n{% include 'other.sql' %}\n",
    lines: [2],
    message: /include/,
  },
];

describe('template errors: path:line:column, a useful message, exit 2', () => {
  for (const c of CASES) {
    for (const cmd of ['build', 'compile']) {
      test(`${c.name} (${cmd})`, () => {
        const p = withFiles({ [c.file]: c.text });
        p.load('load1');
        const r = p.run(cmd, []);
        assertExit(r, 2);
        const out = r.stdout + r.stderr;
        const at = location(out, c.file);
        assert.ok(c.lines.includes(at.line), `line ${at.line} not one of ${c.lines}:\n${out}`);
        if (c.cols) {
          assert.ok(at.col >= c.cols[0] && at.col <= c.cols[1], `column ${at.col} not in ${c.cols}:\n${out}`);
        }
        assert.match(out, c.message);
        // nothing was built
        assert.deepEqual(p.relations().filter(x => !x.startsWith('raw.')), [], 'relations built');
      });
    }
  }

  test('a cycle is named, exit 2', () => {
    const p = withFiles({
      'models/misc/cyc_a.sql': "select * from {{ ref('cyc_b') }}\n",
      'models/misc/cyc_b.sql': "select * from {{ ref('cyc_c') }}\n",
      'models/misc/cyc_c.sql': "select * from {{ ref('cyc_a') }}\n",
    });
    const r = p.run('build', []);
    assertExit(r, 2);
    const out = r.stdout + r.stderr;
    assert.match(out, /cycle/i);
    for (const m of ['cyc_a', 'cyc_b', 'cyc_c']) assert.match(out, new RegExp(m));
  });
});

describe('usage errors: exit 2', () => {
  test('an unknown target', () => {
    const p = makeProject();
    p.target = 'no_such_target';
    const r = p.run('build', []);
    assertExit(r, 2);
    assert.match(r.stdout + r.stderr, /no_such_target/);
  });

  test('no profiles.yml where --profiles-dir says', () => {
    const p = makeProject();
    fs.rmSync(path.join(p.profilesDir, 'profiles.yml'));
    const r = p.run('build', [], { env: { DBT_PROFILES_DIR: '', HOME: p.root } });
    assertExit(r, 2);
    assert.match(r.stdout + r.stderr, /profiles\.yml/);
  });

  test('--vars that are not YAML', () => {
    const p = makeProject();
    const r = p.run('build', ['--vars', '{unclosed: [1, 2']);
    assertExit(r, 2);
    assert.match(r.stdout + r.stderr, /--vars/);
  });
});
