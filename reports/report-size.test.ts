/**
 * The report of `lockstep run --seeds 20` over the whole library: one timeline per unsafe cell, not
 * one per unsafe seed, so the page a reader opens stays small however many seeds ran.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../cli/run.ts';
import { loadScenarios } from '../scenarios/loader.ts';
import { tempDir } from '../test/temp.ts';

const LIBRARY = fileURLToPath(new URL('../scenarios', import.meta.url));
const SEEDS = 20;
/** The most index.html, with every file it loads, may weigh. */
const MAX_PAGE_BYTES = 3 * 1024 * 1024;

/** index.html's size plus that of every local file it names in src or href (none today: charts are inline). */
function pageBytes(dir: string): number {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const loaded = [...html.matchAll(/\s(?:src|href)="([^"#:]+)"/g)].map((m) => join(dir, m[1]!));
  return statSync(join(dir, 'index.html')).size + loaded.reduce((n, file) => n + statSync(file).size, 0);
}

describe('the report of a 20-seed run of the library', () => {
  it(
    'draws one timeline per unsafe cell, counting its unsafe seeds, and weighs under 3 MB',
    { timeout: 300_000 },
    async () => {
      const out = tempDir('lockstep-report-size-');
      const files = readdirSync(LIBRARY)
        .filter((name) => name.endsWith('.yaml'))
        .map((name) => join(LIBRARY, name));
      const code = await runCommand(
        {
          scenarios: loadScenarios(files),
          systems: null,
          fencing: 'both',
          seed: 1,
          seeds: SEEDS,
          outDir: out,
          checkDeterminism: false,
          version: 'test',
          commandLine: `lockstep run --seeds ${SEEDS} (test)`,
        },
        () => {},
      );
      assert.equal(code, 0, 'every expectation of the library is met');
      const dir = join(out, 'latest');
      const { runs } = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
        runs: { scenario: string; system: string; fencing: boolean; verdict: string }[];
      };
      const unsafeCells = new Set(
        runs.filter((r) => r.verdict === 'unsafe').map((r) => `${r.scenario} ${r.system} ${String(r.fencing)}`),
      );
      assert.ok(unsafeCells.size > 0, 'the library has unsafe cells to draw');
      const html = readFileSync(join(dir, 'index.html'), 'utf8');
      const titles = [...html.matchAll(/class="chart timeline"[\s\S]*?<figcaption>([^<]*)/g)].map((m) => m[1]!);
      assert.equal(titles.length, unsafeCells.size, 'one timeline per unsafe cell');
      for (const title of titles) assert.match(title, new RegExp(`unsafe in \\d+ of ${SEEDS} seeds`));
      assert.equal(
        readdirSync(join(dir, 'charts')).filter((f) => f.startsWith('timeline-')).length,
        2 * unsafeCells.size,
      );
      assert.ok(!existsSync(join(dir, 'charts', `timeline-${unsafeCells.size + 1}.svg`)));
      const bytes = pageBytes(dir);
      assert.ok(bytes < MAX_PAGE_BYTES, `the page weighs ${bytes} bytes`);
      assert.match(html, /sim: \d+ run\(s\) of no-faults, 3 clients contending for one lock/, 'speed says its runs');
    },
  );
});
