// The docs site of the quality project as a user opens it, after `sluice
// build` and `sluice docs generate` on SQLite: target/docs/index.html from
// file:// in headless Chromium (playwright-core) draws every model of the
// project in the lineage graph, and a model page shows its description
// (doc() blocks rendered) and its columns. The project also gets what dbt's
// demo project (jaffle_shop) has and the quality fixture lacks: an
// `__overview__` docs block and a column description holding a Markdown
// table (through doc()), which dbt's docs site draws; the checks that sluice
// does not pass yet are marked todo with what is missing.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { EXPECTED, PKG, makeProject, assertExit } from './fixtures/quality/harness.mjs';

const OVERVIEW = `{% docs __overview__ %}
# The quality shop

Seeds, staging views and marts, tested.
{% enddocs %}

{% docs status_table %}
Orders can be in one of these statuses:

| status    | meaning                  |
|-----------|--------------------------|
| placed    | not yet left the shop    |
| shipped   | on its way               |
{% enddocs %}
`;

describe('the quality project\'s docs site in Chromium', () => {
  let p;
  let manifest;
  let browser;
  let page;
  let url;
  const errors = [];

  before(async () => {
    p = makeProject();
    fs.writeFileSync(path.join(p.dir, 'models/overview.md'), OVERVIEW);
    const yml = path.join(p.dir, 'models/marts/_marts.yml');
    fs.writeFileSync(yml, fs.readFileSync(yml, 'utf8').replace(
      /(  - name: daily_revenue\n(?:.*\n)*?    columns:\n)/,
      '$1      - name: status_note\n        description: \'{{ doc("status_table") }}\'\n'));
    assertExit(p.run('seed'), 0);
    assertExit(p.run('build'), EXPECTED.build.exit);
    assertExit(p.run('run'), 0);
    assertExit(p.run(['docs', 'generate']), 0);
    manifest = p.json('manifest.json');
    url = pathToFileURL(path.join(p.dir, 'target/docs/index.html')).href;
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    page = await (await browser.newContext({ offline: true })).newPage();
    page.on('pageerror', e => errors.push(String(e)));
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  });

  after(async () => { if (browser) await browser.close(); });

  test('the lineage graph draws every model of the project', async () => {
    await page.goto(url);
    await page.waitForSelector('#graph svg');
    const models = Object.keys(manifest.nodes).filter(u => u.startsWith('model.')).sort();
    const want = Object.entries(EXPECTED.nodes).filter(([, n]) => n.resource_type === 'model' && !n.disabled)
      .map(([name]) => `model.${PKG}.${name}`).sort();
    assert.deepEqual(models, want);
    const drawn = await page.$$eval('#graph g.node', gs => gs.map(g => ({
      id: g.id, label: g.querySelector('text').textContent, visible: g.getBoundingClientRect().width > 0,
    })));
    for (const u of models) {
      const d = drawn.find(x => x.id === `sl-node-${u}`);
      assert.ok(d, `${u} not in the graph: ${drawn.map(x => x.id).join(' ')}`);
      assert.ok(d.visible, `${u} not visible`);
      assert.equal(d.label, manifest.nodes[u].name);
    }
    assert.deepEqual(errors, []);
  });

  test('a model page shows its description and its columns with their descriptions', async () => {
    await page.goto(`${url}#!/model/model.${PKG}.customers`);
    await page.waitForSelector('#page h1');
    assert.equal((await page.locator('#page h1').textContent()).replace(/^M/, ''), 'customers');
    assert.equal(await page.locator('#page .description').first().textContent(),
      'One row per customer with their order counts.');
    const cols = Object.fromEntries(await page.$$eval('#page table.columns tr[data-column]', trs =>
      trs.map(tr => [tr.getAttribute('data-column'), tr.querySelectorAll('td')[2].textContent.trim()])));
    for (const c of Object.keys(EXPECTED.lineage.columns)) assert.ok(c in cols, `column ${c}: ${Object.keys(cols)}`);
    assert.equal(cols.customer_id, "The customer's id, as the CRM numbers customers.");
    assert.equal(cols.full_name, 'First and last name.');
    assert.equal(cols.number_of_orders, 'How many orders the customer placed.');
  });

  // dbt's docs site shows the project's __overview__ block on its home page
  // (jaffle_shop's models/overview.md); sluice's home page is the graph alone.
  test('the home page shows the __overview__ docs block', async () => {
      assert.ok(manifest.docs?.[`doc.${PKG}.__overview__`], 'the manifest has the block');
      await page.goto(url);
      await page.waitForSelector('#graph svg');
      const text = await page.locator('body').textContent();
      assert.match(text, /Seeds, staging views and marts, tested\./);
    });

  // jaffle_shop's orders.status column: a doc() block holding a Markdown
  // table, which dbt's docs site draws as a table.
  test('a column description\'s Markdown table is drawn as a table', async () => {
      await page.goto(`${url}#!/model/model.${PKG}.daily_revenue`);
      await page.waitForSelector('#page h1');
      const row = page.locator('#page tr[data-column="status_note"]');
      assert.equal(await row.count(), 1);
      const cells = await row.locator('table td').allTextContents();
      assert.deepEqual(cells.map(c => c.trim()), ['placed', 'not yet left the shop', 'shipped', 'on its way']);
    });
});
