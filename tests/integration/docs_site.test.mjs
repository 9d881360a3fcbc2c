// The documentation site end to end: a small dbt project on SQLite built
// with `sluice build` (tests passing, warning and failing), `sluice docs
// generate`, then target/docs/index.html opened from file:// in headless
// Chromium (playwright-core): the lineage graph shows every model, seed and
// source; a click on a node opens its page with its description and typed
// columns; a click on a column shows its upstream and downstream columns;
// tests show their last status; no text of the project runs as markup.
// Then `sluice docs serve` over HTTP: GET, HEAD, 405, no path traversal, a
// port in use, Ctrl-C.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { sluice, sluiceSpawn, tmpdir, writeFiles } from '../lib/harness.mjs';

const NASTY = 'Customers <b>as loaded</b> & "cleaned" </script><script>window.__pwned = 1</script>';

function makeProject() {
  const root = tmpdir('sluice-docs-');
  const dir = path.join(root, 'project');
  const wh = path.join(root, 'warehouse');
  fs.mkdirSync(wh);
  writeFiles(root, {
    'profiles/profiles.yml': `jaffle:
  target: dev
  outputs:
    dev:
      type: sqlite
      threads: 1
      database: database
      schema: main
      schemas_and_paths:
        main: ${wh}/main.db
      schema_directory: ${wh}
`,
    'project/dbt_project.yml': 'name: jaffle\nversion: "1.0.0"\nconfig-version: 2\nprofile: jaffle\n',
    'project/seeds/raw_customers.csv': 'id,first_name,country\n1,Ann,FR\n2,Bob,DE\n3,Cy,FR\n',
    'project/seeds/raw_orders.csv': 'id,customer_id,amount,status\n10,1,100,placed\n11,1,50,shipped\n12,2,70,returned\n13,3,-5,placed\n',
    'project/models/staging/stg_customers.sql':
      "select id as customer_id, first_name, country from {{ ref('raw_customers') }}\n",
    'project/models/staging/stg_orders.sql':
      "select id as order_id, customer_id, amount, status from {{ ref('raw_orders') }}\n",
    'project/models/marts/customers.sql': `with totals as (
  select customer_id, sum(amount) as total_amount, count(*) as order_count
  from {{ ref('stg_orders') }} group by customer_id
)
select c.customer_id, c.first_name, t.total_amount, t.order_count
from {{ ref('stg_customers') }} c left join totals t on t.customer_id = c.customer_id
`,
    // SQLite's GLOB: PostgreSQL's parser cannot trace it.
    'project/models/marts/order_flags.sql':
      "select order_id, amount from {{ ref('stg_orders') }} where status glob 'p*'\n",
    'project/models/staging/schema.yml': `version: 2
sources:
  - name: crm
    description: The CRM's export.
    tables:
      - name: raw_customers
        description: Customers as the CRM sends them.
models:
  - name: stg_customers
    description: ${JSON.stringify(NASTY)}
    columns:
      - name: customer_id
        description: The customer's id.
        tests: [not_null, unique]
      - name: first_name
        description: First name.
  - name: stg_orders
    description: "One row per **order**; see [customers](#!/model/model.jaffle.customers), not [this](javascript:alert(1))."
    columns:
      - name: order_id
        tests: [unique]
      - name: status
        description: "Where the order is; **never** <i>empty</i>:\\n\\n| status | meaning |\\n|:--|--:|\\n| placed | <b>new</b> |\\n| shipped \\\\| sent | gone |"
        tests:
          - accepted_values:
              values: ['placed', 'shipped']
              config:
                severity: warn
`,
    'project/models/marts/schema.yml': `version: 2
models:
  - name: customers
    description: One row per customer with their order totals.
    columns:
      - name: customer_id
        description: Primary key.
        tests: [not_null]
      - name: total_amount
        description: Sum of the customer's orders.
`,
    'project/tests/assert_no_negative_total.sql':
      "select * from {{ ref('customers') }} where total_amount < 0\n",
  });
  return { root, dir, profiles: path.join(root, 'profiles') };
}

let p;
let manifest;
let browser;

before(() => {
  p = makeProject();
  const flags = ['--project-dir', p.dir, '--profiles-dir', p.profiles];
  const b = sluice(['build', ...flags]);
  // The singular test fails (customer 3's total is -5): exit 1.
  assert.equal(b.code, 1, b.stdout + b.stderr);
  assert.match(b.stdout, /PASS=\d+ WARN=1 ERROR=1 SKIP=0/);
  const g = sluice(['docs', 'generate', ...flags]);
  assert.equal(g.code, 0, g.stdout + g.stderr);
  assert.match(g.stdout, /Wrote the documentation site to .*target\/docs\/index\.html/);
  manifest = JSON.parse(fs.readFileSync(path.join(p.dir, 'target/manifest.json'), 'utf8'));
});

after(async () => { if (browser) await browser.close(); });

describe('the site from file://', () => {
  let page;
  const errors = [];
  const url = () => pathToFileURL(path.join(p.dir, 'target/docs/index.html')).href;

  before(async () => {
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    // No network at all: everything the site needs is in the file.
    const ctx = await browser.newContext({ offline: true });
    page = await ctx.newPage();
    page.on('pageerror', e => errors.push(String(e)));
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('request', r => { if (!r.url().startsWith('file:')) errors.push(`request ${r.url()}`); });
    await page.goto(url());
  });

  test('the lineage graph shows every model, seed and source, linked to its page', async () => {
    await page.waitForSelector('#graph svg');
    const models = Object.values(manifest.nodes).filter(n => n.resource_type === 'model');
    assert.equal(models.length, 4);
    const expected = [...Object.values(manifest.nodes).filter(n => n.resource_type !== 'test'),
      ...Object.values(manifest.sources)];
    assert.equal(expected.length, 7);
    const drawn = await page.$$eval('#graph g.node', gs => gs.map(g => ({
      id: g.id, label: g.querySelector('text').textContent,
      href: g.querySelector('a').getAttribute('xlink:href'),
      visible: g.getBoundingClientRect().width > 0,
    })));
    assert.equal(drawn.length, expected.length);
    for (const n of expected) {
      const d = drawn.find(x => x.id === `sl-node-${n.unique_id}`);
      assert.ok(d, `${n.unique_id} not in the graph: ${drawn.map(x => x.id).join(' ')}`);
      assert.ok(d.visible, `${n.unique_id} not visible`);
      assert.equal(d.label, n.resource_type === 'source' ? `${n.source_name}.${n.name}` : n.name);
      assert.equal(d.href, `#!/${n.resource_type}/${n.unique_id}`);
    }
    // edges: seeds -> staging -> customers, stg_orders -> order_flags
    assert.equal(await page.locator('#graph g.edge').count(), 5);
  });

  test('clicking a node opens its page: description, typed columns, row count', async () => {
    await page.goto(url());
    await page.locator('#graph g[id="sl-node-model.jaffle.customers"] a').click();
    await page.waitForFunction(() => location.hash === '#!/model/model.jaffle.customers');
    const h1 = page.locator('#page h1');
    assert.equal((await h1.textContent()).replace(/^M/, ''), 'customers');
    assert.equal(await page.locator('#page .description').textContent(),
      'One row per customer with their order totals.');
    const cols = await page.$$eval('#page table.columns tr[data-column]', trs => trs.map(tr =>
      [...tr.querySelectorAll('td')].slice(0, 3).map(td => td.textContent)));
    assert.deepEqual(cols.map(c => c[0]), ['customer_id', 'first_name', 'total_amount', 'order_count']);
    assert.equal(cols[0][2], 'Primary key.');
    assert.equal(cols[2][2], "Sum of the customer's orders.");
    // types as the warehouse's catalog has them
    const catalog = JSON.parse(fs.readFileSync(path.join(p.dir, 'target/catalog.json'), 'utf8'));
    const types = catalog.nodes['model.jaffle.customers'].columns;
    assert.equal(cols[0][1], 'BIGINT');
    for (const c of cols) assert.equal(c[1], types[c[0]].type, `column ${c[0]}`);
    // a view: the catalog counts no rows, so no row count is shown
    assert.equal(await page.locator('#page table.props th', { hasText: 'Table type' }).count(), 1);
    const dependsOn = await page.$$eval('#depends-on a', as => as.map(a => a.textContent));
    assert.deepEqual(dependsOn.sort(), ['Mstg_customers', 'Mstg_orders']);
    assert.ok((await page.locator('#code').textContent()).includes('"main"."stg_orders"'));
  });

  test('clicking a column shows its upstream columns; they link to their page and back', async () => {
    await page.goto(url() + '#!/model/model.jaffle.customers');
    await page.locator('#page tr[data-column="total_amount"] button.col').click();
    const up = page.locator('#page tr.col-lineage .upstream li');
    assert.equal(await up.count(), 1);
    assert.equal(await up.textContent(), 'Mstg_orders.amount (aggregated)');
    await up.locator('a').click();
    await page.waitForFunction(() => location.hash === '#!/model/model.jaffle.stg_orders/amount');
    assert.equal((await page.locator('#page h1').textContent()).replace(/^M/, ''), 'stg_orders');
    // the column is opened: upstream is the seed, downstream the mart
    const row = page.locator('#page tr.col-lineage[data-lineage-of="amount"]');
    assert.equal(await row.locator('.upstream li').textContent(), 'Sraw_orders.amount (direct)');
    assert.equal(await row.locator('.downstream li').textContent(), 'Mcustomers.total_amount (aggregated)');
  });

  test('a model whose SQL cannot be traced says why', async () => {
    await page.goto(url() + '#!/model/model.jaffle.order_flags');
    assert.match(await page.locator('#lineage-error').textContent(),
      /^Column lineage not traced: syntax error at or near "glob"/);
  });

  test("tests show their last status, failing rows and compiled SQL", async () => {
    await page.goto(url() + '#!/model/model.jaffle.stg_orders');
    const rows = await page.$$eval('#page table.tests tr[data-test]', trs => Object.fromEntries(trs.map(tr =>
      [tr.querySelector('td a').textContent, tr.querySelector('.status').textContent])));
    assert.deepEqual(rows, {
      accepted_values_stg_orders_status__placed__shipped: 'warn',
      unique_stg_orders_order_id: 'pass',
    });
    await page.goto(url() + '#!/model/model.jaffle.customers');
    const t = await page.$$eval('#page table.tests tr[data-test]', trs => trs.map(tr =>
      [...tr.querySelectorAll('td')].map(td => td.textContent)));
    const singular = t.find(r => r[0] === 'assert_no_negative_total');
    assert.ok(singular, JSON.stringify(t));
    assert.equal(singular[1], 'singular');
    assert.equal(singular[4], 'fail');
    assert.equal(singular[5], '1');
    await page.locator('#page table.tests a', { hasText: 'assert_no_negative_total' }).click();
    await page.waitForFunction(() => location.hash.startsWith('#!/test/test.jaffle.assert_no_negative_total'));
    assert.match(await page.locator('#last-result').textContent(), /Statusfail.*Failing rows1/);
    const sample = await page.$$eval('#sample tr', trs => trs.map(tr => [...tr.children].map(c => c.textContent)));
    assert.deepEqual(sample[0], ['customer_id', 'first_name', 'total_amount', 'order_count']);
    assert.deepEqual(sample[1], ['3', 'Cy', '-5', '1']);
    assert.match(await page.locator('#code').textContent(), /where total_amount < 0/);
  });

  test("descriptions' Markdown is drawn; links only to the web and the site", async () => {
    await page.goto(url() + '#!/model/model.jaffle.stg_orders');
    const d = page.locator('#page .description');
    assert.equal(await d.textContent(), 'One row per order; see customers, not [this](javascript:alert(1)).');
    assert.equal(await d.locator('strong').textContent(), 'order');
    assert.deepEqual(await d.locator('a').evaluateAll(as => as.map(a => a.getAttribute('href'))),
      ['#!/model/model.jaffle.customers']);
  });

  test("a column description's Markdown is drawn, pipe tables too, its markup kept as text", async () => {
    await page.goto(url() + '#!/model/model.jaffle.stg_orders');
    await page.waitForSelector('#page h1');
    const d = page.locator('#page tr[data-column="status"] td.coldesc');
    assert.equal(await d.locator('strong').textContent(), 'never');
    assert.equal(await d.locator('i, b').count(), 0);
    assert.match(await d.locator('p').first().textContent(), /<i>empty<\/i>:$/);
    assert.deepEqual(await d.locator('table th').allTextContents(), ['status', 'meaning']);
    assert.deepEqual(await d.locator('table td').allTextContents(), ['placed', '<b>new</b>', 'shipped | sent', 'gone']);
    assert.deepEqual(await d.locator('table td').evaluateAll(tds => tds.map(td => td.style.textAlign)),
      ['left', 'right', 'left', 'right']);
  });

  test('the home page shows a default overview when the project has no __overview__ block', async () => {
    assert.equal(Object.keys(manifest.docs).filter(k => k.endsWith('.__overview__')).length, 0);
    await page.goto(url());
    await page.waitForSelector('#graph svg');
    assert.match(await page.locator('#graph-head #overview').textContent(),
      /^WelcomeThis is the documentation of the project's models, seeds, snapshots, sources and tests/);
  });

  test('a description holding markup is shown as text, never run', async () => {
    await page.goto(url() + '#!/model/model.jaffle.stg_customers');
    assert.equal(await page.locator('#page .description').textContent(), NASTY);
    assert.equal(await page.locator('#page .description b').count(), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
  });

  test('the search box finds nodes by name; navigation lists every node by folder', async () => {
    await page.goto(url());
    const folders = await page.$$eval('#nav details[data-folder] > summary', s => s.map(x => x.textContent));
    assert.deepEqual(folders.sort(), ['models/marts', 'models/staging', 'seeds', 'tests']);
    const all = await page.$$eval('#nav a[data-uid]', as => as.map(a => a.getAttribute('data-uid')));
    assert.deepEqual(all.sort(), [...Object.keys(manifest.nodes), ...Object.keys(manifest.sources)].sort());
    await page.fill('#search', 'stg_orders');
    const hits = await page.$$eval('#search-results a', as => as.map(a => a.getAttribute('data-uid')));
    assert.ok(hits.includes('model.jaffle.stg_orders'));
    assert.ok(!hits.includes('model.jaffle.stg_customers'));
    assert.deepEqual(errors, []);
  });
});

// A raw request, so that paths reach the server exactly as written.
function rawRequest(port, text) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let out = '';
    s.on('data', d => { out += d; });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

function waitForLine(child, re) {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', d => {
      out += d;
      const m = re.exec(out);
      if (m) resolve(m);
    });
    child.on('exit', code => reject(new Error(`exited ${code} before printing: ${out}`)));
  });
}

describe('sluice docs serve', () => {
  test('serves target/docs read only on 127.0.0.1; a port in use is an error; Ctrl-C stops it', async () => {
    const child = sluiceSpawn(['docs', 'serve', '--project-dir', p.dir, '--port', '0']);
    let stderr = '';
    child.stderr.on('data', d => { stderr += d; });
    const m = await waitForLine(child, /Serving the docs site at (http:\/\/127\.0\.0\.1:(\d+)\/)/);
    const [, base, portText] = m;
    const port = Number(portText);

    const index = await fetch(base + 'index.html');
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    const body = await index.text();
    assert.equal(body, fs.readFileSync(path.join(p.dir, 'target/docs/index.html'), 'utf8'));
    assert.equal((await fetch(base)).status, 200);
    const head = await fetch(base + 'index.html', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(body));
    const post = await fetch(base + 'index.html', { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await fetch(base + 'nope.html')).status, 404);
    for (const bad of ['/../manifest.json', '/%2e%2e/manifest.json', '/..%2f..%2fprofiles/profiles.yml']) {
      const r = await rawRequest(port, `GET ${bad} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(r, /^HTTP\/1\.1 403 /, `${bad}: ${r}`);
      assert.ok(!r.includes('"nodes"'), `${bad} leaked manifest.json`);
    }

    const busy = sluice(['docs', 'serve', '--project-dir', p.dir, '--port', String(port)]);
    assert.equal(busy.code, 1);
    assert.equal(busy.stderr.trim(), `sluice: docs serve: port ${port} on 127.0.0.1 is already in use; ` +
      'stop what listens there or pick another with --port');

    const exited = new Promise(resolve => child.on('exit', (code, signal) => resolve({ code, signal })));
    let stdout = '';
    child.stdout.on('data', d => { stdout += d; });
    child.kill('SIGINT');
    assert.deepEqual(await exited, { code: 0, signal: null }, stderr);
    assert.match(stdout, /Stopped\./);
  });

  test('before docs generate, serve says what to run', () => {
    const empty = tmpdir('sluice-docs-empty-');
    const r = sluice(['docs', 'serve', '--project-dir', empty, '--port', '0']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /docs serve: .*target\/docs\/index\.html not found; run `\S*sluice docs generate` first/);
    assert.equal(sluice(['docs', 'serve', '--port', 'x']).code, 2);
  });
});
