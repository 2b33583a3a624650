/**
 * The report in a real browser: Debian's chromium driven by playwright-core (never a downloaded
 * browser). Without chromium on the machine the test is skipped with one loud line; .ci/run
 * installs it, so CI always runs it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { simRunDir } from './sim-run.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../runs/artifacts', import.meta.url));

const available = existsSync(CHROMIUM);
if (!available)
  process.stdout.write(
    `\n*** browser test SKIPPED: ${CHROMIUM} is missing (apt-get install chromium; .ci/run does) ***\n\n`,
  );

describe('the report in a real browser', { skip: !available && `${CHROMIUM} is missing` }, () => {
  it('loads from file:// with no console errors and no network requests; every chart has marks; one matrix cell per run', async () => {
    const dir = await simRunDir('lockstep-browser-', ['gc-pause-beyond-ttl', 'leader-isolated'], ['redis', 'etcd']);
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
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
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
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
      assert.ok(existsSync(join(ARTIFACTS, 'report.png')));
    } finally {
      await browser.close();
    }
  });
});
