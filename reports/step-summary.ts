/**
 * A CI step summary (GitHub's $GITHUB_STEP_SUMMARY) in GitHub-flavoured Markdown: a run's verdicts
 * as a table with its failed expectations and their replay commands, a compare campaign's cells as
 * a table, or a check's outcome in one line. Pure: the caller writes the file. Every value taken
 * from the input goes through markdown.ts's escapes, since a scenario or subject name is user input.
 */
import { runLabel } from '../runner/results.ts';
import { fractionText } from './campaign.ts';
import { markdownCode, markdownText } from './markdown.ts';
import { expectationText, runOutcome, runTitle, type CiRun } from './outcome.ts';
import { runCounts } from './wording.ts';

/** Failed expectations listed at most; a summary past GitHub's size limit is not shown at all. */
export const MAX_FAILED_LISTED = 100;

const NOT_SAFE = 'Skipped (not run) and unknown runs are never counted as safe.';

export type SummaryRun = Pick<
  CiRun,
  'scenario' | 'system' | 'subject' | 'fencing' | 'seed' | 'mode' | 'verdict' | 'expected' | 'expectationMet' | 'notes'
>;

export interface StepSummaryInput<R extends SummaryRun> {
  readonly title: string;
  readonly runs: readonly R[];
  /** The command that replays a run, listed with each failed expectation. */
  readonly replay: (run: R) => string;
}

interface VerdictRow {
  readonly mode: string;
  readonly scenario: string;
  readonly label: string;
  readonly fencing: boolean;
  runs: number;
  safe: number;
  unsafe: number;
  unknown: number;
  skipped: number;
  met: number;
  failed: number;
}

/** The title, the counts, one table row per scenario, lock and fencing setting over its seeds, and the failed expectations. */
export function stepSummaryMarkdown<R extends SummaryRun>(input: StepSummaryInput<R>): string {
  const failed = input.runs.filter((run) => runOutcome(run) === 'failed');
  const rows = verdictRows(input.runs);
  const withMode = new Set(rows.map((row) => row.mode)).size > 1;
  const head = [
    ...(withMode ? ['mode'] : []),
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
  ];
  const lines = [
    `## ${markdownText(input.title)}`,
    '',
    `${runCounts(input.runs)} ${failed.length === 0 ? 'Every expectation was met.' : `**${failed.length} expectation(s) failed.**`}`,
    '',
    NOT_SAFE,
    '',
    ...table(
      head,
      rows.map((row) => [
        ...(withMode ? [row.mode] : []),
        row.scenario,
        row.label,
        row.fencing ? 'on' : 'off',
        ...[row.runs, row.safe, row.unsafe, row.unknown, row.skipped, row.met, row.failed].map(String),
      ]),
    ),
  ];
  if (failed.length > 0) {
    lines.push('', '### Failed expectations', '');
    for (const run of failed.slice(0, MAX_FAILED_LISTED))
      lines.push(
        `- ${markdownText(`${runTitle(run)}: ${expectationText(run)}`)}; replay: ${markdownCode(input.replay(run))}`,
      );
    if (failed.length > MAX_FAILED_LISTED) lines.push(`- and ${failed.length - MAX_FAILED_LISTED} more`);
  }
  return `${lines.join('\n')}\n`;
}

function verdictRows(runs: readonly SummaryRun[]): VerdictRow[] {
  const rows = new Map<string, VerdictRow>();
  for (const run of runs) {
    const label = runLabel(run);
    const key = JSON.stringify([run.mode, run.scenario, label, run.fencing]);
    const row = rows.get(key) ?? {
      mode: run.mode,
      scenario: run.scenario,
      label,
      fencing: run.fencing,
      runs: 0,
      safe: 0,
      unsafe: 0,
      unknown: 0,
      skipped: 0,
      met: 0,
      failed: 0,
    };
    rows.set(key, row);
    row.runs++;
    row[run.verdict]++;
    const outcome = runOutcome(run);
    if (outcome === 'failed') row.failed++;
    else if (outcome === 'passed' && run.expectationMet === true) row.met++;
  }
  return [...rows.values()];
}

/** A compare campaign's cell, as runner/compare.ts makes it or compare.json holds it. */
export interface SummaryCell {
  readonly system: string;
  readonly subject?: string | null;
  readonly fencing: 'off' | 'on';
  readonly runs: number;
  readonly notApplicable: number;
  readonly unknown: number;
  readonly unsafe: number;
  readonly unsafeFraction: number | null;
  readonly interval: readonly [number, number];
}

/** The title and one table row per cell (lock and fencing setting) of a compare campaign. */
export function compareSummaryMarkdown(input: {
  readonly title: string;
  readonly cells: readonly SummaryCell[];
}): string {
  const lines = [
    `## ${markdownText(input.title)}`,
    '',
    'Fractions are over the schedules each lock ran and judged; unknown and not-applicable schedules are never counted as safe.',
    '',
    ...table(
      ['lock', 'fencing', 'unsafe (95% CI)', 'unknown', 'not applicable'],
      input.cells.map((cell) => [
        cell.subject ?? cell.system,
        cell.fencing,
        fractionText({ unsafe: cell.unsafe, runs: cell.runs, interval: [...cell.interval] }),
        String(cell.unknown),
        String(cell.notApplicable),
      ]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** A check's outcome: its lock (system or subject), fencing, how many schedules it tried, and any counterexample. */
export interface CheckSummary {
  readonly label: string;
  readonly fencing: boolean;
  readonly tried: number;
  /** The first unsafe schedule (0-based position in the search), its shrinks, and the command that replays it. */
  readonly counterexample: { readonly index: number; readonly shrinks: number; readonly replay: string } | null;
}

/** One line: the lock held over N schedules, or the counterexample and its replay command. */
export function checkSummaryLine(check: CheckSummary): string {
  const lock = markdownText(`${check.label}, fencing ${check.fencing ? 'on' : 'off'}`);
  const found = check.counterexample;
  if (found === null) return `**held**: ${lock} stayed safe over ${check.tried} schedule(s).\n`;
  return `**counterexample**: ${lock} was unsafe on schedule ${found.index + 1} of ${check.tried} tried, shrunk ${found.shrinks} time(s); replay: ${markdownCode(found.replay)}\n`;
}

/** A GFM table; every cell escaped. */
function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]) => `| ${cells.map(markdownText).join(' | ')} |`;
  return [line(head), `| ${head.map(() => '---').join(' | ')} |`, ...rows.map(line)];
}
