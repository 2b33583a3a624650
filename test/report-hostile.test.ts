/**
 * `lockstep report` as hostile testers met it: a run directory with markup in it, a corrupt
 * history line, an absurdly large or endless results.json, and an `--out` that is someone else's
 * directory. Each is refused with exit 2 and one line naming the file, or rendered as text; a
 * refused `--out` is left exactly as it was.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MAX_RESULTS_BYTES } from '../reports/load.ts';
import { REPORT_MARKER } from '../reports/report.ts';
import { fixtureHistory, fixtureResults, writeFixture, type Json } from './report-fixture.ts';
import { tempDir } from './temp.ts';

const BIN = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));

function lockstep(...args: string[]) {
  // Bounded: a reader blocked on a FIFO fails the test instead of hanging the suite.
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Exit 2 with one line `lockstep: <message>` on stderr and no stack trace. */
function assertRefused(result: ReturnType<typeof lockstep>, message: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /^lockstep: [^\n]+\n$/, 'one line');
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

/** Every file under `dir` with its contents (directories end in /), to compare before and after. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    files[name] = statSync(path).isDirectory() ? '/' : readFileSync(path, 'utf8');
  }
  return files;
}

function runDir(
  results: Json = fixtureResults(),
  history: readonly Json[] = fixtureHistory(),
): { dir: string; results: string; history: string } {
  const dir = tempDir('lockstep-hostile-run-');
  return { dir, ...writeFixture(dir, results, history) };
}

describe('lockstep report --out', () => {
  it('refuses a non-empty directory that is neither a report nor a run, and changes nothing in it', () => {
    const { dir } = runDir();
    const foreign = tempDir('lockstep-hostile-foreign-');
    mkdirSync(join(foreign, 'charts'));
    writeFileSync(join(foreign, 'charts', 'keep.svg'), '<svg>mine</svg>');
    writeFileSync(join(foreign, 'index.html'), 'my own page');
    writeFileSync(join(foreign, 'notes.txt'), 'do not delete');
    const before = snapshot(foreign);
    assertRefused(
      lockstep('report', dir, '--out', foreign),
      /not empty, and neither a lockstep report \(no \.lockstep-report\) nor a run directory \(no results\.json\)/,
    );
    assert.deepEqual(snapshot(foreign), before);
  });

  it('writes into a fresh directory, marks it, and may write into it again', () => {
    const { dir } = runDir();
    const out = join(tempDir('lockstep-hostile-fresh-'), 'report');
    for (let i = 0; i < 2; i++) {
      const { code, stderr } = lockstep('report', dir, '--out', out);
      assert.equal(code, 0, stderr);
    }
    assert.ok(
      existsSync(join(out, REPORT_MARKER)) &&
        existsSync(join(out, 'index.html')) &&
        existsSync(join(out, 'charts', 'safety.svg')),
    );
    assert.ok(!existsSync(join(out, '.report-partial')), 'no staging folder left');
  });

  it('writes into the run directory itself when --out is not given', () => {
    const { dir } = runDir();
    const { code, stderr } = lockstep('report', dir);
    assert.equal(code, 0, stderr);
    assert.ok(existsSync(join(dir, 'index.html')) && existsSync(join(dir, 'report.md')));
  });
});

describe('lockstep report on a hostile run directory', () => {
  it('refuses markup where results.json has a number, naming the field', () => {
    const run = (fixtureResults().runs as Json[])[0] as { [key: string]: Json };
    const metrics = run.metrics as { [key: string]: Json };
    for (const [changed, field] of [
      [{ ...run, seed: '<script>alert(1)</script>' }, 'runs\\[0\\]\\.seed'],
      [
        {
          ...run,
          metrics: { ...metrics, acquireLatencyMs: { p50: '<img src=x onerror=alert(1)>', p95: 1, p99: 1, max: 1 } },
        },
        'runs\\[0\\]\\.metrics\\.acquireLatencyMs\\.p50',
      ],
      [
        {
          ...run,
          metrics: { ...metrics, acquireLatencyMs: { p50: 1, p95: 1, p99: '<script>alert(1)</script>', max: 1 } },
        },
        'runs\\[0\\]\\.metrics\\.acquireLatencyMs\\.p99',
      ],
    ] as const) {
      const { dir, results } = runDir({ ...fixtureResults(), runs: [changed] });
      assertRefused(lockstep('report', dir), new RegExp(`${results}: ${field}: expected a number`));
      assert.ok(!existsSync(join(dir, 'index.html')), 'no report written');
    }
  });

  it('refuses a null entry in runs, naming runs[0]', () => {
    const { dir, results } = runDir({ ...fixtureResults(), runs: [null] });
    assertRefused(lockstep('report', dir), new RegExp(`${results}: runs\\[0\\]: expected an object`));
  });

  it('refuses a corrupt history line, naming the file and the line', () => {
    const lines: Json[] = fixtureHistory();
    lines[4] = 'not json at all';
    const { dir, history } = runDir(fixtureResults(), lines);
    assertRefused(lockstep('report', dir), new RegExp(`${history}: line 5: not valid JSON`));
  });

  it('refuses a results.json over the size limit, and one that is a FIFO, with exit 2', () => {
    const { dir, results } = runDir();
    const fd = openSync(results, 'r+');
    ftruncateSync(fd, MAX_RESULTS_BYTES + 1); // sparse: no disk is spent
    closeSync(fd);
    assertRefused(
      lockstep('report', dir),
      new RegExp(`${results}: ${MAX_RESULTS_BYTES + 1} bytes, larger than the limit of ${MAX_RESULTS_BYTES} bytes`),
    );
    const fifo = tempDir('lockstep-hostile-fifo-');
    spawnSync('mkfifo', [join(fifo, 'results.json')]);
    assertRefused(lockstep('report', fifo), /results\.json: not a regular file/);
  });

  it('shows markup in names, notes and the command as text in index.html and report.md', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const run = (fixtureResults().runs as Json[])[0] as { [key: string]: Json };
    const runs = [
      { ...run, subject: '<script>alert(1)</script>', notes: [evil] },
      { ...run, system: `a|b${evil}` },
    ];
    const { dir } = runDir({ ...fixtureResults(), command: `lockstep run ${evil}`, runs });
    const { code, stderr } = lockstep('report', dir);
    assert.equal(code, 0, stderr);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.ok(!html.includes(evil) && !html.includes('<script>alert(1)'), 'no payload raw in index.html');
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'the subject is shown as text');
    const markdown = readFileSync(join(dir, 'report.md'), 'utf8');
    const matrix = markdown.slice(markdown.indexOf('| system, fencing |')).split('\n\n')[0]!.split('\n');
    const heads = matrix.slice(2).map((line) => line.split(' | ')[0]);
    assert.deepEqual(
      heads,
      ['| &lt;script&gt;alert(1)&lt;/script&gt;, unfenced', '| a\\|b&lt;img src=x onerror=alert(1)&gt;, unfenced'],
      'subject and system head their matrix rows as text',
    );
    // The replay commands are in a fenced block and code spans, which Markdown shows literally.
    const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
    assert.ok(!prose.includes('<script>alert(1)') && !prose.includes(evil), 'no payload raw in report.md outside code');
  });
});
