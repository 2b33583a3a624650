/** The summary table printed after a run. */
import { runLabel } from '../runner/results.ts';
import type { TimedRun } from '../runner/run-dir.ts';

const COLUMNS = [
  'scenario',
  'system',
  'fencing',
  'seed',
  'verdict',
  'expected',
  'lost',
  'stale',
  'p50 ms',
  'p99 ms',
] as const;

function row(run: TimedRun): string[] {
  const m = run.metrics;
  return [
    run.scenario,
    runLabel(run),
    run.fencing ? 'on' : 'off',
    String(run.seed),
    run.verdict,
    run.expected === null ? '-' : `${run.expected}${run.expectationMet === false ? ' (FAILED)' : ''}`,
    m === null ? '-' : String(m.lostUpdates),
    m === null ? '-' : String(m.staleWritesAccepted),
    m?.acquireLatencyMs == null ? '-' : String(m.acquireLatencyMs.p50),
    m?.acquireLatencyMs == null ? '-' : String(m.acquireLatencyMs.p99),
  ];
}

export function summaryTable(runs: readonly TimedRun[]): string {
  const rows = [COLUMNS as readonly string[], ...runs.map(row)];
  // Every row has a cell per column; a missing one would be empty.
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
