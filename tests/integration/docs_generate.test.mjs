// `sluice docs generate` end to end: the small project of
// fixtures/docs_small built by `sluice build` on SQLite and on a throwaway
// PostgreSQL, then target/manifest.json, target/catalog.json (column types
// as the warehouse itself reports them, read back with sqlite3 / psql) and
// target/column_lineage.json checked, and both dbt artifacts read by DuckDB.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, sluice, tmpdir, duck, startPostgres } from '../lib/harness.mjs';

const FIX = path.join(ROOT, 'tests/integration/fixtures/docs_small');
const PKG = 'docs_small';

let pgServer = null;

function makeProject(warehouse) {
  const root = tmpdir('sluice-docs-');
  const dir = path.join(root, 'project');
  fs.cpSync(FIX, dir, { recursive: true });
  let out;
  if (warehouse === 'postgres') {
    if (!pgServer) pgServer = startPostgres();
    const db = `docs_small_${process.pid}`;
    execFileSync('psql', ['-h', pgServer.host, '-p', String(pgServer.port), '-U', 'postgres', '-X', '-q',
      '-c', `CREATE DATABASE "${db}"`]);
    out = `    dev: {type: postgres, host: ${pgServer.host}, port: ${pgServer.port}, user: postgres, ` +
      `dbname: ${db}, schema: analytics, threads: 1}\n`;
    fs.writeFileSync(path.join(dir, 'profiles.yml'), `${PKG}:\n  target: dev\n  outputs:\n${out}`);
    return { root, dir, db, warehouse };
  }
  out = `    dev: {type: sqlite, schema: main, path: ${path.join(root, 'warehouse.db')}, threads: 1}\n`;
  fs.writeFileSync(path.join(dir, 'profiles.yml'), `${PKG}:\n  target: dev\n  outputs:\n${out}`);
  return { root, dir, db: path.join(root, 'warehouse.db'), warehouse };
}

function run(p, args) {
  return sluice([...args, '--project-dir', p.dir], { cwd: p.root });
}

function assertExit(r, code) {
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
}

const readJson = (p, name) => JSON.parse(fs.readFileSync(path.join(p.dir, 'target', name), 'utf8'));

// The warehouse's own view of a relation's columns: [{name, type, index}].
function warehouseColumns(p, schema, table) {
  if (p.warehouse === 'postgres') {
    const out = execFileSync('psql', ['-h', pgServer.host, '-p', String(pgServer.port), '-U', 'postgres',
      '-d', p.db, '-X', '-q', '-A', '-t', '-F', '|', '-c',
      `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnum FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = '${schema}' AND c.relname = '${table}' AND a.attnum > 0 AND NOT a.attisdropped
       ORDER BY a.attnum`], { encoding: 'utf8' });
    return out.trim().split('\n').map(l => l.split('|')).map(([name, type, i]) => ({ name, type, index: Number(i) }));
  }
  const rows = JSON.parse(execFileSync('sqlite3', ['-json', p.db,
    `SELECT name, type, cid FROM pragma_table_info('${table}', '${schema}') ORDER BY cid`],
  { encoding: 'utf8' }) || '[]');
  return rows.map(r => ({ name: r.name, type: r.type, index: r.cid + 1 }));
}

after(() => { if (pgServer) pgServer.stop('immediate'); });

for (const warehouse of ['sqlite', 'postgres']) {
  describe(`sluice docs generate on ${warehouse}`, () => {
    let p;
    let gen;
    const schema = warehouse === 'postgres' ? 'analytics' : 'main';
    before(() => {
      p = makeProject(warehouse);
      assertExit(run(p, ['build']), 0);
      gen = run(p, ['docs', 'generate']);
    });

    test('exits 0 and names what it wrote', () => {
      assertExit(gen, 0);
      assert.match(gen.stdout, /manifest\.json, catalog\.json and column_lineage\.json/);
      for (const f of ['manifest.json', 'catalog.json', 'column_lineage.json']) {
        assert.ok(fs.existsSync(path.join(p.dir, 'target', f)), `${f} missing`);
      }
    });

    test('manifest.json: nodes with compiled code, docs rendered, the graph', () => {
      const m = readJson(p, 'manifest.json');
      assert.equal(m.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/manifest/v12.json');
      assert.equal(m.metadata.project_name, PKG);
      assert.equal(m.metadata.adapter_type, warehouse);
      const ids = Object.keys(m.nodes).filter(id => !id.startsWith('test.')).sort();
      assert.deepEqual(ids, [`model.${PKG}.category_sales`, `model.${PKG}.stg_items`,
        `seed.${PKG}.categories`, `seed.${PKG}.raw_items`]);
      const tests = Object.values(m.nodes).filter(n => n.resource_type === 'test').map(n => n.name).sort();
      assert.deepEqual(tests, ['not_null_category_sales_category_label', 'not_null_stg_items_item_id',
        'unique_stg_items_item_id']);
      const cs = m.nodes[`model.${PKG}.category_sales`];
      assert.equal(cs.compiled, true);
      assert.match(cs.compiled_code, new RegExp(`round\\(cast\\(sum\\(p\\.price\\) as numeric\\), 2\\) as revenue`));
      assert.match(cs.compiled_code, new RegExp(`from "${schema}"\\."stg_items"`));
      assert.equal(cs.columns.revenue.description.trim(), 'The sum of the items\' prices, a missing price counting as 0.');
      assert.deepEqual(cs.config.tags, ['marts']);
      assert.deepEqual(cs.depends_on.nodes.sort(), [`model.${PKG}.stg_items`, `seed.${PKG}.categories`]);
      assert.deepEqual(m.parent_map[`model.${PKG}.category_sales`], [`model.${PKG}.stg_items`, `seed.${PKG}.categories`]);
      assert.ok(m.child_map[`model.${PKG}.stg_items`].includes(`model.${PKG}.category_sales`));
      assert.equal(m.macros[`macro.${PKG}.money`].macro_sql, '{% macro money(expr) %}round(cast({{ expr }} as numeric), 2){% endmacro %}');
      assert.ok(m.docs[`doc.${PKG}.revenue`]);
    });

    test('catalog.json: every relation with the warehouse\'s own column types', () => {
      const c = readJson(p, 'catalog.json');
      assert.equal(c.metadata.dbt_schema_version, 'https://schemas.getdbt.com/dbt/catalog/v1.json');
      assert.equal(c.errors, null);
      assert.deepEqual(Object.keys(c.nodes).sort(), [`model.${PKG}.category_sales`, `model.${PKG}.stg_items`,
        `seed.${PKG}.categories`, `seed.${PKG}.raw_items`]);
      for (const [id, n] of Object.entries(c.nodes)) {
        const table = id.split('.')[2];
        assert.equal(n.unique_id, id);
        assert.equal(n.metadata.schema, schema);
        assert.equal(n.metadata.name, table);
        const want = warehouseColumns(p, schema, table);
        const got = Object.values(n.columns).sort((a, b) => a.index - b.index)
          .map(x => ({ name: x.name, type: x.type, index: x.index }));
        assert.deepEqual(got, want, id);
      }
      const view = c.nodes[`model.${PKG}.stg_items`];
      assert.equal(view.metadata.type.toLowerCase(), 'view');
      assert.equal(view.stats.has_stats.value, false);
      const table = c.nodes[`model.${PKG}.category_sales`];
      assert.match(table.metadata.type.toLowerCase(), /table/);
      assert.equal(table.stats.row_count.value, 2);
      assert.equal(c.nodes[`seed.${PKG}.raw_items`].stats.row_count.value, 4);
      if (warehouse === 'postgres') {
        assert.equal(c.nodes[`seed.${PKG}.raw_items`].columns.sold_on.type, 'date');
        assert.equal(table.metadata.owner, 'postgres');
      }
    });

    // dbt-postgres writes the profile's dbname as every node's database and
    // in relation_name; dbt-sqlite leaves the database out of relations.
    test('database and relation_name as dbt\'s adapter writes them, in every artifact', () => {
      const db = warehouse === 'postgres' ? p.db : null;
      const rel = name => (db ? `"${db}".` : '') + `"${schema}"."${name}"`;
      const m = readJson(p, 'manifest.json');
      for (const n of Object.values(m.nodes)) {
        assert.equal(n.database, db, `${n.unique_id} database`);
        if (n.resource_type !== 'test') assert.equal(n.relation_name, rel(n.alias), `${n.unique_id} relation_name`);
      }
      const c = readJson(p, 'catalog.json');
      for (const [id, n] of Object.entries(c.nodes)) assert.equal(n.metadata.database, db, `${id} catalog database`);
      const rr = readJson(p, 'run_results.json');
      const cs = rr.results.find(r => r.unique_id === `model.${PKG}.category_sales`);
      assert.ok(cs, 'category_sales in run_results');
      assert.equal(cs.relation_name, rel('category_sales'));
    });

    test('manifest.json: generic tests name the properties entry declaring them (file_key_name)', () => {
      const m = readJson(p, 'manifest.json');
      const keys = Object.values(m.nodes).filter(n => n.resource_type === 'test')
        .map(n => [n.name, n.file_key_name]).sort();
      assert.deepEqual(keys, [['not_null_category_sales_category_label', 'models.category_sales'],
        ['not_null_stg_items_item_id', 'models.stg_items'], ['unique_stg_items_item_id', 'models.stg_items']]);
    });

    test('column_lineage.json: each output column to the inputs it comes from', () => {
      const l = readJson(p, 'column_lineage.json');
      const cs = l.nodes[`model.${PKG}.category_sales`];
      assert.equal(cs.error, null);
      assert.deepEqual(Object.keys(cs.columns), ['category_label', 'items', 'revenue']);
      assert.equal(cs.columns.category_label.how, 'direct');
      assert.deepEqual(cs.columns.category_label.from,
        [{ node: `seed.${PKG}.categories`, relation: `"${schema}"."categories"`, column: 'label' }]);
      assert.equal(cs.columns.revenue.how, 'aggregated');
      assert.deepEqual(cs.columns.revenue.from,
        [{ node: `model.${PKG}.stg_items`, relation: `"${schema}"."stg_items"`, column: 'price' }]);
      const st = l.nodes[`model.${PKG}.stg_items`];
      assert.deepEqual(st.columns.item_id.from,
        [{ node: `seed.${PKG}.raw_items`, relation: `"${schema}"."raw_items"`, column: 'id' }]);
    });

    test('DuckDB reads manifest.json and catalog.json', async () => {
      const target = path.join(p.dir, 'target');
      const cat = await duck(`SELECT metadata.dbt_schema_version AS v, json_keys(nodes) AS k
        FROM read_json('${target}/catalog.json', maximum_object_size = 104857600)`);
      assert.equal(cat[0].v, 'https://schemas.getdbt.com/dbt/catalog/v1.json');
      assert.equal(cat[0].k.length, 4);
      const ids = await duck(`SELECT unnest(json_keys(nodes)) AS id
        FROM read_json('${target}/manifest.json', maximum_object_size = 104857600) ORDER BY 1`);
      assert.equal(ids.length, 7);
      assert.equal(ids[0].id, `model.${PKG}.category_sales`);
    });
  });
}

describe('sluice docs: usage', () => {
  test('no subcommand or an unknown one exits 2 and says what to use', () => {
    const root = tmpdir('sluice-docs-usage-');
    let r = sluice(['docs'], { cwd: root });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /usage: sluice docs generate/);
    r = sluice(['docs', 'publish'], { cwd: root });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /sluice: docs: unknown subcommand 'publish'; use generate or serve/);
    r = sluice(['docs', 'generate', '--bogus'], { cwd: root });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /docs generate: unknown or incomplete option '--bogus'/);
  });

  test('--no-compile: no compiled code, lineage not traced; an unreachable warehouse leaves the catalog empty', () => {
    const p = makeProject('sqlite');
    // the warehouse file does not exist: nothing was built
    const r = run(p, ['docs', 'generate', '--no-compile']);
    assertExit(r, 0);
    assert.match(r.stderr, /catalog will be empty/);
    const m = readJson(p, 'manifest.json');
    assert.equal(m.nodes[`model.${PKG}.stg_items`].compiled, false);
    assert.equal(m.nodes[`model.${PKG}.stg_items`].compiled_code, undefined);
    const c = readJson(p, 'catalog.json');
    assert.deepEqual(c.nodes, {});
    assert.equal(c.errors.length, 1);
    const l = readJson(p, 'column_lineage.json');
    assert.equal(l.nodes[`model.${PKG}.stg_items`].error, 'not compiled (--no-compile)');
  });
});
