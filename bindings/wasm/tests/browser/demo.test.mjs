// Browser test of the demo page: playwright-core driving Debian's chromium (/usr/bin/chromium),
// the page served from 127.0.0.1 by tests/server.mjs on a free port (started and stopped here).
//
// Environment: CHROMIUM (default /usr/bin/chromium). Screenshots go to test-output/ (git-ignored).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../server.mjs';
import { lexguard, wasmDir } from '../helpers.mjs';

const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const outDir = join(wasmDir, 'test-output');

describe('demo page in chromium', { timeout: 120_000 }, () => {
  let server;
  let browser;
  let page;
  const errors = [];

  before(async () => {
    assert.ok(existsSync(executablePath), `${executablePath} is missing (apt-get install chromium)`);
    assert.ok(existsSync(join(wasmDir, 'pkg', 'web', 'lexguard_wasm_bg.wasm')), 'run build.sh first');
    mkdirSync(outDir, { recursive: true });
    server = await startServer();
    browser = await chromium.launch({
      executablePath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  const marks = () => page.$$eval('#highlights mark', (ms) => ms.map((m) => ({
    text: m.textContent, category: m.dataset.category, label: m.dataset.label,
    start: Number(m.dataset.start), end: Number(m.dataset.end),
    labelShown: getComputedStyle(m, '::before').content,
  })));
  const badge = () => page.$eval('#verdict', (b) => ({ verdict: b.dataset.verdict, text: b.textContent }));
  const publishDisabled = () => page.$eval('#publish', (b) => b.disabled);

  test('loads with the shipped lexicon', async () => {
    await page.goto(`${server.url}/demo/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    assert.match(await page.textContent('#stats'), /\d+ terms/);
    assert.deepEqual(await badge(), { verdict: 'pass', text: 'pass' });
    assert.equal(await publishDisabled(), false);

    // The page agrees with the Node package on the shipped lexicon (whatever its curation says).
    const text = '網上賭場百家樂，網上賭❤博';
    const want = new lexguard.Filter().check(text);
    assert.ok(want.hits.length > 0, 'the shipped lexicon should know these gambling terms');
    await page.click('#text');
    await page.keyboard.type(text);
    await page.waitForFunction((v) => document.querySelector('#verdict').dataset.verdict === v, want.verdict);
    const ms = await marks();
    assert.ok(ms.length > 0);
    for (const m of ms) {
      assert.ok(want.hits.some((h) => h.start === m.start && h.category === m.category), JSON.stringify(m));
    }
    assert.equal(await publishDisabled(), want.verdict === 'block');
    await page.screenshot({ path: join(outDir, 'demo-shipped.png'), fullPage: true });
  });

  test('highlights evasive text while typing; badge and publish follow', async () => {
    // Without the shipped lexicon and with the terms typed into "your terms", so that the test
    // exercises the page, not the curation of the shipped lists.
    await page.goto(`${server.url}/demo/?defaultLists=0`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    await page.fill('#custom', 'gambling: 赌博\nspam: viagra');
    await page.waitForFunction(() => document.querySelector('#stats').textContent.startsWith('lexguard') &&
      /\b2 terms/.test(document.querySelector('#stats').textContent));

    await page.click('#text');
    await page.keyboard.type('今天看新闻，網上賭');
    assert.deepEqual(await marks(), []);
    assert.equal((await badge()).verdict, 'pass');
    await page.keyboard.type('❤博，还有');
    await page.waitForSelector('#highlights mark');
    let ms = await marks();
    assert.equal(ms.length, 1);
    assert.equal(ms[0].text, '賭❤博');
    assert.equal(ms[0].category, 'gambling');
    assert.equal(ms[0].labelShown, '"gambling"', 'the category label is drawn over the highlight');
    assert.deepEqual(await badge(), { verdict: 'block', text: 'block' });
    assert.equal(await publishDisabled(), true);

    await page.keyboard.type('ＶＩＡＧＲＡ特价');
    await page.waitForFunction(() => document.querySelectorAll('#highlights mark').length === 2);
    ms = await marks();
    assert.deepEqual(ms.map((m) => [m.text, m.category]), [['賭❤博', 'gambling'], ['ＶＩＡＧＲＡ', 'spam']]);
    const value = await page.inputValue('#text');
    for (const m of ms) assert.equal(value.slice(m.start, m.end), m.text);
    assert.equal(await page.$$eval('#hits tbody tr', (rows) => rows.length), 2);
    assert.match(await page.textContent('#hits tbody'), /traditional, separator/);
    assert.match(await page.textContent('#hits tbody'), /compat, case/);

    // The highlight sits exactly under the typed characters.
    const geometry = await page.evaluate(() => {
      const mark = document.querySelector('#highlights mark').getBoundingClientRect();
      const editor = document.querySelector('#text').getBoundingClientRect();
      return { inside: mark.left >= editor.left && mark.right <= editor.right && mark.top >= editor.top, w: mark.width };
    });
    assert.ok(geometry.inside && geometry.w > 10, JSON.stringify(geometry));
    await page.screenshot({ path: join(outDir, 'demo-block.png'), fullPage: true });

    // Remove the blocked content: the publish button comes back.
    await page.fill('#text', '今天天气很好');
    await page.waitForFunction(() => document.querySelector('#verdict').dataset.verdict === 'pass');
    assert.deepEqual(await marks(), []);
    assert.equal(await publishDisabled(), false);

    // Mask button.
    await page.fill('#text', '網上賭❤博');
    await page.waitForFunction(() => document.querySelector('#verdict').dataset.verdict === 'block');
    await page.click('#mask');
    assert.equal(await page.inputValue('#text'), '網上＊＊＊');
    assert.equal((await badge()).verdict, 'pass');
  });

  test('a bad list line shows file:line and keeps the last good filter', async () => {
    await page.fill('#custom', 'gambling: 赌博\ngambling: 网络赌场\tcolour=red');
    await page.waitForSelector('#listError:not([hidden])');
    assert.match(await page.textContent('#listError'), /^inline:gambling\.txt:2: /);
    await page.fill('#text', '賭博');
    assert.equal((await badge()).verdict, 'block');
    await page.screenshot({ path: join(outDir, 'demo-list-error.png'), fullPage: true });
  });

  test('no page errors', () => {
    assert.deepEqual(errors, []);
  });
});
