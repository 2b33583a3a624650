/**
 * The files CI reads, beside the run directory: `--junit FILE` (JUnit XML, one test case per run,
 * campaign cell or search) and `--summary-md FILE` (a Markdown verdict table), and the same table
 * appended to `$GITHUB_STEP_SUMMARY` when GitHub Actions sets it. Both paths are checked before
 * any work starts, and each file is written whole (a temporary file renamed into place).
 */
import { hostname } from 'node:os';
import { accessSync, appendFileSync, constants, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { junitFromRuns, junitTimestamp, junitXml, type JunitCase, type JunitSuite } from '../reports/junit.ts';
import {
  checkSummaryLine,
  compareSummaryMarkdown,
  stepSummaryMarkdown,
  type SummaryCell,
} from '../reports/step-summary.ts';
import { markdownText } from '../reports/markdown.ts';
import { UsageError } from '../runner/errors.ts';
import { statOrNull } from '../runner/read-json.ts';
import type { TimedRun } from '../runner/run-dir.ts';
import { replayOf } from './summary.ts';

export interface CiFileOptions {
  readonly junit?: string;
  readonly summaryMd?: string;
}

/** What a command found, in the shape its CI files are made from. */
export type CiOutcome =
  | { readonly kind: 'runs'; readonly title: string; readonly runs: readonly TimedRun[] }
  | { readonly kind: 'compare'; readonly title: string; readonly cells: readonly CompareCiCell[] }
  | { readonly kind: 'check'; readonly title: string; readonly check: CheckCi };

export interface CompareCiCell extends SummaryCell {
  readonly replay: string | null;
}

export interface CheckCi {
  readonly label: string;
  readonly fencing: boolean;
  readonly seed: number;
  readonly tried: number;
  readonly counterexample: { readonly index: number; readonly shrinks: number; readonly replay: string } | null;
}

/** Refuse, before any work, a --junit or --summary-md path that cannot be written: a directory, or a missing or unwritable parent. */
export function checkCiPaths(options: CiFileOptions): void {
  for (const [option, path] of [
    ['--junit', options.junit],
    ['--summary-md', options.summaryMd],
  ] as const) {
    if (path === undefined) continue;
    if (path.trim() === '') throw new UsageError(`${option} needs a file name`);
    if (statOrNull(path)?.isDirectory() === true)
      throw new UsageError(`${option}: '${path}' is a directory; name a file inside it`);
    const parent = statOrNull(dirname(resolve(path)));
    if (parent?.isDirectory() !== true)
      throw new UsageError(`${option}: the directory of '${path}' does not exist; create it first`);
    try {
      accessSync(dirname(resolve(path)), constants.W_OK);
    } catch {
      throw new UsageError(`${option}: cannot write into the directory of '${path}' (permission denied)`);
    }
  }
}

/** Write the CI files asked for, and append the summary to $GITHUB_STEP_SUMMARY when it is set. */
export function writeCiFiles(options: CiFileOptions, outcome: CiOutcome, createdAt: string): string[] {
  const written: string[] = [];
  if (options.junit !== undefined) {
    writeWhole(options.junit, junitXml(junitOf(outcome, createdAt)));
    written.push(`junit: ${options.junit}`);
  }
  const summary = options.summaryMd !== undefined || process.env.GITHUB_STEP_SUMMARY ? markdownOf(outcome) : null;
  if (options.summaryMd !== undefined && summary !== null) {
    writeWhole(options.summaryMd, summary);
    written.push(`summary: ${options.summaryMd}`);
  }
  const step = process.env.GITHUB_STEP_SUMMARY;
  if (step !== undefined && step !== '' && summary !== null) {
    // The runner's file, not the user's: a failure to add to it must not lose the run's result.
    try {
      appendFileSync(step, `${summary}\n`);
    } catch (error) {
      written.push(
        `could not add the summary to $GITHUB_STEP_SUMMARY (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
  }
  return written;
}

function junitOf(outcome: CiOutcome, createdAt: string): JunitSuite[] {
  const context = { timestamp: junitTimestamp(createdAt), hostname: hostname() };
  switch (outcome.kind) {
    case 'runs':
      return junitFromRuns(outcome.runs, { replay: replayOf, timestamp: createdAt, hostname: context.hostname });
    case 'compare':
      return [{ name: 'lockstep.compare', ...context, cases: outcome.cells.map(compareCase) }];
    case 'check':
      return [{ name: 'lockstep.check', ...context, cases: [checkCase(outcome.check)] }];
  }
}

/** A campaign cell: failed when the campaign found it unsafe (its shrunk counterexample is the failure). */
function compareCase(cell: CompareCiCell): JunitCase {
  const label = cell.subject ?? cell.system;
  const counts = `${cell.unsafe} unsafe of ${cell.runs} judged, ${cell.unknown} unknown, ${cell.notApplicable} not applicable`;
  const base = { classname: 'lockstep.compare', name: `${label} fencing=${cell.fencing}`, systemOut: counts };
  if (cell.runs === 0) return { ...base, skipped: { message: `no schedule was judged (${counts})` } };
  if (cell.replay === null) return base;
  return { ...base, failure: { type: 'counterexample', message: `${counts}; replay: ${cell.replay}`, text: counts } };
}

function checkCase(check: CheckCi): JunitCase {
  const base = {
    classname: 'lockstep.check',
    name: `${check.label} fencing=${check.fencing ? 'on' : 'off'} seed=${check.seed}`,
  };
  const found = check.counterexample;
  if (found === null) return { ...base, systemOut: `safe in all ${check.tried} schedules tried` };
  const message = `unsafe: candidate ${found.index + 1}, shrunk ${found.shrinks} times; replay: ${found.replay}`;
  return { ...base, failure: { type: 'counterexample', message } };
}

function markdownOf(outcome: CiOutcome): string {
  switch (outcome.kind) {
    case 'runs':
      return stepSummaryMarkdown({ title: outcome.title, runs: outcome.runs, replay: replayOf });
    case 'compare':
      return compareSummaryMarkdown({ title: outcome.title, cells: outcome.cells });
    case 'check':
      return `## ${markdownText(outcome.title)}\n\n${checkSummaryLine(outcome.check)}`;
  }
}

function writeWhole(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}
