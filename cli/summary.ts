/** The summary table printed after a run, and the short report.md written beside results.json. */
import type { ResultsFile, TimedRun } from './run-dir.ts';
import { historyFileName } from './run-dir.ts';
import { replayCommand } from '../runner/replay.ts';
import type { RunPlanItem } from './run.ts';

const COLUMNS = ['scenario', 'system', 'fencing', 'seed', 'verdict', 'expected', 'lost', 'stale', 'p50 ms', 'p99 ms'] as const;

function row(run: TimedRun): string[] {
  const m = run.metrics;
  return [
    run.scenario,
    run.system,
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
  const widths = COLUMNS.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function markdownReport(results: ResultsFile, items: readonly RunPlanItem[]): string {
  const lines = [
    `# lockstep run`,
    '',
    `${results.runs.length} run(s) in the simulator, lockstep ${results.tool.version}, ${results.createdAt}.`,
    '',
    `| ${COLUMNS.join(' | ')} | history |`,
    `| ${COLUMNS.map(() => '---').join(' | ')} | --- |`,
    ...results.runs.map((run) => `| ${row(run).map(escapeCell).join(' | ')} | ${run.skipped === null ? `[jsonl](history/${historyFileName(run)})` : escapeCell(`skipped: ${run.skipped}`)} |`),
    '',
    '## Replay',
    '',
    'Every run replays exactly from its seed:',
    '',
    '```',
    ...items.map((item) => replayCommand(item)),
    '```',
    '',
  ];
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
