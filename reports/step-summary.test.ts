import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompareCell } from '../runner/compare.ts';
import { ciRun as run } from '../test/ci-run-fixture.ts';
import {
  checkSummaryLine,
  compareSummaryMarkdown,
  MAX_FAILED_LISTED,
  stepSummaryMarkdown,
  type SummaryRun,
} from './step-summary.ts';

const replay = (r: SummaryRun) =>
  `npx lockstep run scenarios/${r.scenario}.yaml --systems ${r.system} --seed ${r.seed}`;

/** The rows of the first table in `markdown`, each split into its cells at unescaped pipes. */
function tableRows(markdown: string): string[][] {
  const table = markdown.split('\n\n').find((block) => block.startsWith('|'));
  assert.ok(table !== undefined, 'no table');
  return table
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
}

/**
 * `markdown` without its code spans (shown literally) and without its backslash escapes (shown as
 * the character), which leaves what Markdown would read as syntax. Backslashes escape nothing
 * inside a code span, whose content holds no backtick here (markdownCode takes them out).
 */
function withoutCodeSpans(markdown: string): string {
  let out = '';
  for (let i = 0; i < markdown.length; i++) {
    const c = markdown[i]!;
    const close = c === '`' ? markdown.indexOf('`', i + 1) : -1;
    if (c === '\\') i++;
    else if (close > 0 && !markdown.slice(i, close).includes('\n')) i = close;
    else out += c;
  }
  return out;
}

/**
 * Markdown that shows every input value as text: no raw HTML, and no heading, list or fence of the
 * input's making, at the start of a line or of one of our list items.
 */
function assertInert(markdown: string, headings: readonly string[]): void {
  const lines = markdown.split('\n');
  assert.deepEqual(
    lines.filter((line) => /^\s*#/.test(line)),
    headings,
    'a heading the input made',
  );
  const blocks = lines.map((line) => line.replace(/^- /, ''));
  assert.deepEqual(
    blocks.filter((block) => /^\s*(#|```|~~~|[-+*](\s|$)|\d+[.)](\s|$))/.test(block) && !headings.includes(block)),
    [],
    'a heading, fence or list the input made',
  );
  const prose = withoutCodeSpans(markdown);
  assert.doesNotMatch(prose, /`/, 'a code span left open');
  assert.doesNotMatch(prose, /<[a-zA-Z/!?]/, 'raw HTML');
  for (const table of markdown.split('\n\n').filter((block) => block.startsWith('|'))) {
    const widths = table
      .split('\n')
      .filter((row) => row !== '')
      .map((row) => row.split(/(?<!\\)\|/).length);
    assert.ok(
      widths.every((w) => w === widths[0]),
      `a table row with a different number of cells:\n${table}`,
    );
  }
}

describe('the step summary of a run', () => {
  it('has a title, the counts, and a line saying skipped and unknown runs are not counted as safe', () => {
    const markdown = stepSummaryMarkdown({ title: 'lockstep run', runs: [run(), run({ seed: 2 })], replay });
    assert.deepEqual(markdown.split('\n').slice(0, 5), [
      '## lockstep run',
      '',
      '2 run(s): 2 safe, 0 unsafe, 0 not run (skipped), 0 unknown. Every expectation was met.',
      '',
      'Skipped (not run) and unknown runs are never counted as safe.',
    ]);
  });

  it('has one table row per scenario, lock and fencing setting, counting its seeds by verdict and expectation', () => {
    const runs = [
      run({ seed: 1 }),
      run({ seed: 2, verdict: 'unsafe', expectationMet: false }),
      run({ seed: 3, verdict: 'unknown', expectationMet: false }),
      run({ seed: 4, verdict: 'skipped', skipped: 'needs a leader', expectationMet: null }),
      run({ fencing: true, expected: null, expectationMet: null }),
      run({ subject: 'node-redlock', expected: null, expectationMet: null, verdict: 'unsafe' }),
      run({ scenario: 'holder-crash' }),
    ];
    assert.deepEqual(tableRows(stepSummaryMarkdown({ title: 't', runs, replay })), [
      [
        'scenario',
        'lock',
        'fencing',
        'runs',
        'safe',
        'unsafe',
        'unknown',
        'skipped',
        'expectation met',
        'expectation failed',
      ],
      ['---', '---', '---', '---', '---', '---', '---', '---', '---', '---'],
      ['gc-pause-beyond-ttl', 'redis', 'off', '4', '1', '1', '1', '1', '1', '2'],
      ['gc-pause-beyond-ttl', 'redis', 'on', '1', '1', '0', '0', '0', '0', '0'],
      ['gc-pause-beyond-ttl', 'node-redlock', 'off', '1', '0', '1', '0', '0', '0', '0'],
      ['holder-crash', 'redis', 'off', '1', '1', '0', '0', '0', '1', '0'],
    ]);
  });

  it('adds a mode column only when simulated and live runs are mixed', () => {
    const runs = [run(), run({ mode: 'live' })];
    const rows = tableRows(stepSummaryMarkdown({ title: 't', runs, replay }));
    assert.deepEqual(
      rows.map((r) => r.slice(0, 2)),
      [
        ['mode', 'scenario'],
        ['---', '---'],
        ['sim', 'gc-pause-beyond-ttl'],
        ['live', 'gc-pause-beyond-ttl'],
      ],
    );
  });

  it('lists each failed expectation with its replay command in a code span, and no skipped run among them', () => {
    const runs = [
      run({ seed: 2, verdict: 'unsafe', expectationMet: false }),
      run({ seed: 3, expectationMet: false, notes: ['bound broken: unavailableMs 120 > 100'] }),
      run({ seed: 4, verdict: 'skipped', skipped: 'needs a leader', expectationMet: null }),
    ];
    const markdown = stepSummaryMarkdown({ title: 't', runs, replay });
    assert.match(markdown, /\*\*2 expectation\(s\) failed\.\*\*/);
    assert.deepEqual(markdown.slice(markdown.indexOf('### Failed expectations')).trimEnd().split('\n'), [
      '### Failed expectations',
      '',
      '- gc-pause-beyond-ttl on redis, fencing off, seed 2: expected safe, got unsafe; replay: `npx lockstep run scenarios/gc-pause-beyond-ttl.yaml --systems redis --seed 2`',
      '- gc-pause-beyond-ttl on redis, fencing off, seed 3: expected safe, got safe; bound broken: unavailableMs 120 > 100; replay: `npx lockstep run scenarios/gc-pause-beyond-ttl.yaml --systems redis --seed 3`'.replace(
        '>',
        '&gt;',
      ),
    ]);
    assert.doesNotMatch(
      stepSummaryMarkdown({ title: 't', runs: [run()], replay }),
      /Failed expectations/,
      'no list when none failed',
    );
  });

  it(`lists at most ${MAX_FAILED_LISTED} failed expectations, and says how many more failed`, () => {
    const runs = Array.from({ length: MAX_FAILED_LISTED + 3 }, (_, seed) =>
      run({ seed, verdict: 'unsafe', expectationMet: false }),
    );
    const items = stepSummaryMarkdown({ title: 't', runs, replay })
      .split('\n')
      .filter((line) => line.startsWith('- '));
    assert.equal(items.length, MAX_FAILED_LISTED + 1);
    assert.equal(items.at(-1), '- and 3 more');
  });

  it('shows hostile scenario, subject, note and title text as text', () => {
    const hostile = [
      '# heading',
      '- item',
      '1. item',
      '~~~',
      '```',
      'a|b',
      '`rm -rf /`',
      '<img src=x onerror=alert(1)>',
      '<script>alert(1)</script>',
      'line\n# break',
      '[link](https://example.com)',
    ];
    const runs = hostile.flatMap((name) => [
      run({
        scenario: name,
        subject: name,
        verdict: 'unsafe',
        expectationMet: false,
        notes: [`bound broken: ${name}`],
      }),
    ]);
    for (const title of hostile) {
      const markdown = stepSummaryMarkdown({ title, runs, replay: (r) => `npx lockstep run ${r.scenario}` });
      assertInert(markdown, [markdown.split('\n')[0]!, '### Failed expectations']);
      assert.ok(markdown.startsWith('## '), 'the title stays a heading of its own');
      const rows = tableRows(markdown).slice(2);
      assert.equal(rows.length, hostile.length, 'one row per hostile scenario, none split or merged');
    }
    const rows = tableRows(stepSummaryMarkdown({ title: 't', runs, replay }));
    assert.deepEqual(
      rows.slice(2, 8).map((r) => r[0]),
      ['\\# heading', '\\- item', '1\\. item', '\\~\\~\\~', '\\`\\`\\`', 'a\\|b'],
    );
  });
});

describe('the step summary of a compare campaign', () => {
  const cell = (fields: Partial<CompareCell>): CompareCell => ({
    system: 'redlock',
    fencing: 'off',
    fencingSound: false,
    runs: 500,
    notApplicable: 3,
    notApplicableReasons: [{ reason: 'needs a leader', schedules: 3 }],
    unknown: 2,
    unsafe: 3,
    unsafeFraction: 0.006,
    interval: [0.002, 0.017],
    ackedWrites: 1000,
    lostUpdates: 1,
    staleWritesAccepted: 1,
    lostPer1000: 1,
    stalePer1000: 1,
    unavailableFraction: 0.1,
    takeoverMs: null,
    firstUnsafe: 17,
    ...fields,
  });

  it('has one row per lock and fencing setting: unsafe fraction with its interval, unknown and not applicable', () => {
    const markdown = compareSummaryMarkdown({
      title: 'lockstep compare',
      cells: [cell({}), cell({ fencing: 'on', runs: 0, unsafe: 0, unsafeFraction: null, interval: [0, 1] })],
    });
    assert.ok(markdown.startsWith('## lockstep compare\n'));
    assert.match(markdown, /never counted as safe/);
    assert.deepEqual(tableRows(markdown), [
      ['lock', 'fencing', 'unsafe (95% CI)', 'unknown', 'not applicable'],
      ['---', '---', '---', '---', '---'],
      ['redlock', 'off', 'unsafe in 3 of 500 (0.6%; 95% CI 0.2%-1.7%)', '2', '3'],
      ['redlock', 'on', 'no run judged', '2', '3'],
    ]);
  });

  it("names a subject's row by the subject, as text", () => {
    const subject = '<b>|`x`|# lock';
    const markdown = compareSummaryMarkdown({ title: '# t', cells: [cell({ subject })] });
    assertInert(markdown, ['## \\# t']);
    assert.equal(tableRows(markdown)[2]![0], '&lt;b&gt;\\|\\`x\\`\\|# lock');
  });
});

describe('the step summary of a check', () => {
  it('says the lock held over the schedules tried', () => {
    assert.equal(
      checkSummaryLine({ label: 'redlock', fencing: false, tried: 200, counterexample: null }),
      '**held**: redlock, fencing off stayed safe over 200 schedule(s).\n',
    );
  });

  it('gives a counterexample with its replay command in a code span, and a hostile label as text', () => {
    const line = checkSummaryLine({
      label: '<img src=x>|`a`',
      fencing: true,
      tried: 40,
      counterexample: { index: 16, shrinks: 4, replay: 'npx lockstep run counterexample.yaml --seed 1' },
    });
    assert.equal(
      line,
      '**counterexample**: &lt;img src=x&gt;\\|\\`a\\`, fencing on was unsafe on schedule 17 of 40 tried, shrunk 4 time(s); replay: `npx lockstep run counterexample.yaml --seed 1`\n',
    );
  });
});
