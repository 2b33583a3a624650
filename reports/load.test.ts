/**
 * The report reader under hostile input: run directories are shared between people and CI, so a
 * results.json or history file may hold anything. Each is validated against the results contract
 * (a ReportError naming the file and field) or rendered as text, never as markup: in index.html,
 * in report.md and in the SVG charts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdirSync, openSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fixtureHistory, fixtureResults, writeFixture, type Json } from '../test/report-fixture.ts';
import { simRunDir } from '../test/sim-run.ts';
import { tempDir } from '../test/temp.ts';
import { failoverChart, latencyChart, safetyChart, throughputChart, timelineChart } from './charts.ts';
import { renderHtml } from './html.ts';
import { loadRunDirs, MAX_HISTORY_BYTES, MAX_RESULTS_BYTES, readHistory, ReportError } from './load.ts';
import { renderMarkdown } from './markdown.ts';
import { renderChart } from './render.ts';
import { buildReport } from './report.ts';

const PAYLOADS = [
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(1)>',
  "'><iframe src=javascript:alert(1)></iframe>",
  '`<b>x</b>` | [x](javascript:alert(1)) ![y](http://evil/) **z** \\',
];

/** The elements the renderer and vega's SVG emit: any other tag in the page came from the input. */
const HTML_TAGS = new Set([
  'html',
  'head',
  'meta',
  'title',
  'style',
  'body',
  'h1',
  'h2',
  'h3',
  'wbr',
  'p',
  'div',
  'table',
  'tr',
  'th',
  'td',
  'br',
  'span',
  'figure',
  'figcaption',
  'code',
  'ul',
  'li',
  'details',
  'summary',
  'pre',
]);
const SVG_TAGS = new Set([
  'svg',
  'g',
  'path',
  'rect',
  'line',
  'text',
  'defs',
  'clipPath',
  'linearGradient',
  'stop',
  'circle',
]);

// A start tag with its attributes (values quoted, as the renderer and vega write them), an end tag, or the doctype.
const TAG =
  /<([a-zA-Z][\w:-]*)((?:\s+[^\s"'=<>/]+(?:="[^"<]*"|='[^'<]*')?)*)\s*\/?>|<\/([a-zA-Z][\w:-]*)\s*>|<!doctype html>/gi;
const ATTRIBUTE = /([^\s"'=<>/]+)(?:="([^"<]*)"|='([^'<]*)')?/g;

/**
 * Asserts `html` holds none of the payloads raw, and is made of the renderer's own tags only: every
 * `<` starts a well-formed tag of the allowed set, with no event handler and no script URL.
 */
function assertInertHtml(html: string): void {
  for (const payload of PAYLOADS) assert.ok(!html.includes(payload), `payload appears raw: ${payload}`);
  for (const [, start, attributes, end] of html.matchAll(TAG)) {
    const tag = start ?? end;
    if (tag === undefined) continue;
    assert.ok(HTML_TAGS.has(tag) || SVG_TAGS.has(tag), `unexpected tag <${tag}>`);
    for (const [, name, double, single] of (attributes ?? '').matchAll(ATTRIBUTE)) {
      assert.doesNotMatch(name!, /^on/i, `an event handler attribute on <${tag}>`);
      assert.doesNotMatch(double ?? single ?? '', /^\s*javascript:/i, `a script URL on <${tag}>`);
    }
  }
  assert.doesNotMatch(html.replace(TAG, ''), /</, 'a < outside every well-formed tag');
}

/**
 * The text with its code spans taken out, read as CommonMark does: outside a span a backslash
 * escapes the next character (both are kept, but for an escaped backtick); a backtick opens a span that the next backtick on
 * the line closes, and inside it a backslash is just a character. A backtick with no partner on
 * its line is kept, so a span left open shows.
 */
function withoutCodeSpans(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      // An escaped backtick is text, not a span's edge: it is dropped, so that only real ones show.
      if (text[i + 1] !== '`') out += text.slice(i, i + 2);
      i++;
    } else if (c === '`') {
      const close = text.indexOf('`', i + 1);
      const lineEnd = text.indexOf('\n', i + 1);
      if (close < 0 || (lineEnd >= 0 && lineEnd < close)) out += c;
      else i = close;
    } else out += c;
  }
  return out;
}

/** Asserts `markdown` shows input as text: no raw tag but the renderer's <br>, no link but to charts/, tables intact. */
function assertInertMarkdown(markdown: string): void {
  const fences = markdown.split('\n').filter((line) => line.startsWith('```'));
  assert.deepEqual(fences, ['```', '```'], 'the replay block is the one fenced block');
  // Code spans and the fenced block show their content literally; everything else must be escaped.
  const prose = withoutCodeSpans(markdown.replace(/```[\s\S]*?```/g, ''));
  assert.doesNotMatch(prose, /`/, 'a code span left open');
  assert.doesNotMatch(prose, /<(?!br>)[a-zA-Z/!?]/, 'raw HTML');
  assert.doesNotMatch(prose, /(?<!\\)\]\((?!charts\/)/, 'a link not to charts/');
  for (const table of prose.split(/\n\n+/).filter((block) => block.startsWith('|'))) {
    const widths = table.split('\n').map((row) => row.split(/(?<!\\)\|/).length);
    assert.ok(
      widths.every((w) => w === widths[0]),
      `a table row with a different number of cells:\n${table}`,
    );
  }
}

/** Every path into `value`: itself, each field and element, and a field no contract names. */
function pathsOf(value: Json, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [path];
  const children = Array.isArray(value)
    ? value.map((v, i) => pathsOf(v, [...path, i]))
    : Object.entries(value).map(([k, v]) => pathsOf(v, [...path, k]));
  return [path, ...children.flat(), ...(Array.isArray(value) ? [] : [[...path, 'addedByAnotherTool']])];
}

function setAt(root: Json, path: readonly (string | number)[], value: Json): Json {
  if (path.length === 0) return value;
  let node = root as Record<string | number, Json>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  node[path.at(-1)!] = value;
  return root;
}

function pathText(path: readonly (string | number)[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${key}`)).join('');
}

type Target =
  | { file: 'results'; path: (string | number)[] }
  | { file: 'history'; line: number; path: (string | number)[] };

const targets: Target[] = [
  ...pathsOf(fixtureResults()).map((path): Target => ({ file: 'results', path })),
  ...fixtureHistory().flatMap((line, i) => pathsOf(line).map((path): Target => ({ file: 'history', line: i, path }))),
];

const hostile: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: fc.constantFrom(...PAYLOADS), weight: 4 },
  fc.constantFrom(...PAYLOADS).map((p): Json => [p]),
  fc.constantFrom(...PAYLOADS).map((p): Json => ({ p50: p, scenario: p, kind: p })),
  fc.constantFrom<Json>(null, true, false, 0, -1, 0.5, 1e308, '', [], {}),
  fc.string({ maxLength: 20 }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

/** Writes the fixture with `value` at `target`, then loads and renders it. */
async function reportWith(target: Target, value: Json): Promise<void> {
  const dir = tempDir('lockstep-load-fuzz-');
  const results = fixtureResults();
  const history: Json[] = fixtureHistory();
  if (target.file === 'history') history[target.line] = setAt(history[target.line]!, target.path, value);
  const files = writeFixture(dir, target.file === 'results' ? setAt(results, target.path, value) : results, history);
  let report;
  try {
    report = await buildReport([dir]);
  } catch (error) {
    assert.ok(error instanceof ReportError, `not a ReportError: ${(error as Error).stack}`);
    const where = target.file === 'results' ? `${files.results}: ` : `${files.history}: line ${target.line + 1}: `;
    assert.ok(
      error.message.startsWith(`${where}${pathText(target.path)}`),
      `"${error.message}" does not name ${where}${pathText(target.path)}`,
    );
    return;
  }
  assertInertHtml(renderHtml(report));
  assertInertMarkdown(renderMarkdown(report));
}

function refuses(message: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof ReportError, `not a ReportError: ${String(error)}`);
    assert.equal(error.message, message);
    return true;
  };
}

describe('the report reader', () => {
  it('accepts every results.json and history file a real lockstep run writes', async () => {
    const dir = await simRunDir(
      'lockstep-load-real-',
      ['gc-pause-beyond-ttl', 'leader-isolated', 'holder-crash-recovery'],
      ['redis', 'redlock', 'etcd'],
    );
    const { runs } = loadRunDirs([dir]);
    const judged = runs.filter((run) => run.verdict !== 'skipped');
    assert.ok(
      judged.length >= 6 && runs.some((run) => run.metrics?.failoverMs !== undefined),
      'judged runs, election metrics among them',
    );
    for (const run of judged)
      assert.ok((readHistory(run)?.ops.length ?? 0) > 0, `${run.scenario} ${run.system}: history read`);
  });

  it('refuses a null entry in runs, naming runs[0]', () => {
    const dir = tempDir('lockstep-load-null-');
    const { results } = writeFixture(dir, { ...fixtureResults(), runs: [null] });
    assert.throws(() => loadRunDirs([dir]), refuses(`${results}: runs[0]: expected an object`));
  });

  it('refuses markup where a number belongs, and a number too large to be finite', () => {
    const dir = tempDir('lockstep-load-number-');
    const run = (fixtureResults().runs as Json[])[0] as { [key: string]: Json };
    const { results } = writeFixture(dir, {
      ...fixtureResults(),
      runs: [{ ...run, seed: '<script>alert(1)</script>' }],
    });
    assert.throws(() => loadRunDirs([dir]), refuses(`${results}: runs[0].seed: expected a number`));
    // JSON.parse reads 1e999 as Infinity, which no metric can be.
    writeFixture(dir, JSON.stringify(fixtureResults()).replace('"p50":1.5', '"p50":1e999'));
    assert.throws(
      () => loadRunDirs([dir]),
      refuses(`${results}: runs[0].metrics.acquireLatencyMs.p50: expected a number`),
    );
  });

  it('refuses a corrupt history line, naming the file and the line', async () => {
    const dir = tempDir('lockstep-load-history-');
    const lines: Json[] = fixtureHistory();
    lines[2] = '{"kind":"op","index":2,';
    const { history } = writeFixture(dir, fixtureResults(), lines);
    await assert.rejects(
      buildReport([dir]),
      (error: unknown) =>
        error instanceof ReportError && error.message.startsWith(`${history}: line 3: not valid JSON (`),
    );
    lines[2] = { ...fixtureHistory()[2]!, timeMs: '<img src=x onerror=alert(1)>' };
    writeFixture(dir, fixtureResults(), lines);
    await assert.rejects(buildReport([dir]), refuses(`${history}: line 3: timeMs: expected a number`));
  });

  it('refuses a results.json or history file larger than its limit without reading it', async () => {
    const dir = tempDir('lockstep-load-size-');
    const { results, history } = writeFixture(dir);
    grow(history, MAX_HISTORY_BYTES + 1);
    await assert.rejects(
      buildReport([dir]),
      refuses(
        `${history}: ${MAX_HISTORY_BYTES + 1} bytes, larger than the limit of ${MAX_HISTORY_BYTES} bytes (64 MiB)`,
      ),
    );
    grow(results, MAX_RESULTS_BYTES + 1);
    assert.throws(
      () => loadRunDirs([dir]),
      refuses(
        `${results}: ${MAX_RESULTS_BYTES + 1} bytes, larger than the limit of ${MAX_RESULTS_BYTES} bytes (64 MiB)`,
      ),
    );
  });

  it(
    'refuses a results.json that is a FIFO, a device or a directory, without blocking on it',
    { timeout: 10_000 },
    () => {
      const notRegular = `not a regular file (a directory, FIFO, socket or device is never read)`;
      const fifo = tempDir('lockstep-load-fifo-');
      execFileSync('mkfifo', [join(fifo, 'results.json')]);
      assert.throws(() => loadRunDirs([fifo]), refuses(`${join(fifo, 'results.json')}: ${notRegular}`));
      const device = tempDir('lockstep-load-device-');
      symlinkSync('/dev/zero', join(device, 'results.json'));
      assert.throws(() => loadRunDirs([device]), refuses(`${join(device, 'results.json')}: ${notRegular}`));
      const directory = tempDir('lockstep-load-directory-');
      mkdirSync(join(directory, 'results.json'));
      assert.throws(() => loadRunDirs([directory]), refuses(`${join(directory, 'results.json')}: ${notRegular}`));
    },
  );

  it('shows the command with its password redacted', async () => {
    const dir = tempDir('lockstep-load-secret-');
    writeFixture(dir, { ...fixtureResults(), command: 'lockstep live --postgres postgres://me:hunter2@db/locks' });
    const report = await buildReport([dir]);
    for (const text of [renderHtml(report), renderMarkdown(report)]) {
      assert.ok(!text.includes('hunter2'), 'the password is not shown');
      assert.ok(text.includes('postgres://me:***@db/locks'), 'the rest of the command is');
    }
  });

  it('with markup or a wrong type in any field of results.json or a history line, refuses naming the field or renders it inert', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...targets), hostile, reportWith), { numRuns: 120 });
  });
});

describe('charts drawn from hostile names', () => {
  it('carry scenario, system, client and fault names into the SVG as text only', async () => {
    const evil = PAYLOADS.join(' ');
    const specs = [
      latencyChart([{ system: evil, mode: 'sim', latencyMs: 3 }]),
      safetyChart([{ system: evil, fencing: 'off', lostUpdates: 1, staleWritesAccepted: 2 }]),
      throughputChart([{ system: evil, mode: 'live', acquisitionsPerSec: 3 }]),
      failoverChart([{ system: evil, scenario: evil, failoverMs: 1, leaderlessMs: 2 }]),
      timelineChart({
        title: evil,
        endMs: 100,
        holds: [{ client: evil, startMs: 0, endMs: 10 }],
        faults: [{ label: evil, startMs: 1, endMs: 5 }],
        writes: [{ client: evil, atMs: 3, accepted: true, stale: true }],
      }),
    ];
    for (const spec of specs) {
      const { svg } = await renderChart(spec);
      assertInertHtml(svg);
      assert.ok(svg.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the name is drawn, escaped');
    }
  });
});

/** Make `file` `bytes` long without writing them: a sparse file, so the test costs no disk. */
function grow(file: string, bytes: number): void {
  const fd = openSync(file, 'r+');
  ftruncateSync(fd, bytes);
  closeSync(fd);
}
