/** The summary table printed after a run, with the reason of every skipped run below it. */
import { replayCommand } from '../runner/replay.ts';
import { runOutcome } from '../reports/outcome.ts';
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
  const table = formatTable([COLUMNS as readonly string[], ...runs.map(row)]);
  const skips = skipLines(runs);
  return skips.length === 0 ? table : [table, '', ...skips].join('\n');
}

/**
 * The summary table, then every unmet expectation with the command that replays it; returns how
 * many expectations failed, counted as the CI reports count them (reports/outcome.ts).
 */
export function printVerdicts(runs: readonly TimedRun[], print: (line: string) => void): number {
  print('');
  print(summaryTable(runs));
  print('');
  const failed = runs.filter((run) => runOutcome(run) === 'failed');

  for (const run of failed) {
    const bounds = (run.notes ?? []).filter((n) => n.startsWith('bound broken')).map((n) => `; ${n}`);
    print(
      `expectation failed: ${run.scenario} on ${runLabel(run)}, fencing ${run.fencing ? 'on' : 'off'}: expected ${run.expected}, got ${run.verdict}${bounds.join('')}`,
    );
    print(`  replay: ${replayOf(run)}`);
  }
  return failed.length;
}

/** The command that replays a run from its row: its scenario file, and the subject as it was given. */
export function replayOf(run: TimedRun): string {
  return replayCommand({
    file: run.file ?? `<the file of scenario ${run.scenario}>`,
    system: run.system,
    subject: run.subjectFile ?? run.subject ?? null,
    fencing: run.fencing,
    seed: run.seed,
    mode: run.mode,
  });
}

/**
 * One line per scenario, system and reason that runs were skipped for, naming the fencing settings
 * and seeds: a skipped run was not run, and the reader is told why instead of reading a bare "skipped".
 */
export function skipLines(runs: readonly TimedRun[]): string[] {
  const groups = new Map<string, { head: string; reason: string; fencings: Set<string>; seeds: Set<number> }>();
  for (const run of runs) {
    if (run.verdict !== 'skipped') continue;
    const head = `${run.scenario} on ${runLabel(run)}`;
    const reason = run.skipped ?? 'no reason given';
    const key = JSON.stringify([head, reason]);
    const group = groups.get(key) ?? { head, reason, fencings: new Set(), seeds: new Set() };
    groups.set(key, group);
    group.fencings.add(run.fencing ? 'on' : 'off');
    group.seeds.add(run.seed);
  }
  return [...groups.values()].map(({ head, reason, fencings, seeds }) => {
    const seedText = seeds.size === 1 ? `seed ${[...seeds].join('')}` : `${seeds.size} seeds`;
    return `skipped: ${head}, fencing ${[...fencings].join(' and ')}, ${seedText}: ${reason}`;
  });
}

/** Rows as aligned columns, two spaces apart; a missing cell is empty. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
