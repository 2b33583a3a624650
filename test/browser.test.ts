/**
 * The report in a real browser: Debian's chromium driven by playwright-core (never a downloaded
 * browser). Without chromium on the machine the test is skipped with one loud line; .ci/run
 * installs it, so CI always runs it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { SYSTEM_IDS } from '../backends/recipe.ts';
import { simRunDir } from './sim-run.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../runs/artifacts', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../scenarios', import.meta.url));

const available = existsSync(CHROMIUM);
if (!available)
  process.stdout.write(
    `\n*** browser test SKIPPED: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does) ***\n\n`,
  );

describe('the report in a real browser', { skip: !available && `${CHROMIUM} is missing` }, () => {
  it('loads from file:// with no console errors and no network requests; every chart has marks; one matrix cell per run; the matrix fits the page', async () => {
    // The whole library on every system: the widest matrix a default run writes.
    const scenarios = readdirSync(LIBRARY)
      .filter((name) => name.endsWith('.yaml'))
      .map((name) => name.slice(0, -'.yaml'.length));
    const dir = await simRunDir('lockstep-browser-', scenarios, SYSTEM_IDS);
    const runs = (JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { runs: unknown[] }).runs.length;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('request', (request) => requests.push(request.url()));
      await page.goto(pathToFileURL(join(dir, 'index.html')).href);
      assert.deepEqual(errors, []);
      assert.deepEqual(
        requests.filter((url) => !url.startsWith('file://')),
        [],
        'no network requests',
      );
      const marks = await page.$$eval('figure.chart', (figures) =>
        figures.map(
          (f) => [f.getAttribute('data-chart'), f.querySelectorAll('svg [class^="mark-"] *').length] as const,
        ),
      );
      assert.ok(marks.length >= 5, `only ${marks.length} charts`);
      for (const [name, count] of marks) assert.ok(count > 0, `chart ${name} drew nothing`);
      assert.equal(await page.locator('td[data-cell]').count(), runs);
      const widths = await page.$eval('div.matrix', (matrix) => ({
        container: matrix.clientWidth,
        scroll: matrix.scrollWidth,
        tables: [...matrix.querySelectorAll('table')].map((table) => table.scrollWidth),
      }));
      assert.ok(widths.tables.length > 0, 'the matrix has tables');
      assert.ok(
        widths.scroll <= widths.container && widths.tables.every((w) => w <= widths.container),
        `the matrix is wider than its container: ${JSON.stringify(widths)}`,
      );
      const document_ = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        client: document.documentElement.clientWidth,
      }));
      assert.ok(document_.scroll <= document_.client, `the page scrolls sideways: ${JSON.stringify(document_)}`);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
      assert.ok(existsSync(join(ARTIFACTS, 'report.png')));
    } finally {
      await browser.close();
    }
  });
});
