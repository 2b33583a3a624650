/**
 * `lockstep report`: one or more run directories in, a report out (index.html, report.md and
 * charts/*.svg and *.png). Files are written to a staging folder and moved into place at the end.
 * A report replaces the report already in its directory, and only a report: it writes into a new
 * or empty directory, a run directory, or one holding REPORT_MARKER (the mark of an earlier report).
 */
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failoverChart, latencyChart, safetyChart, throughputChart, timelineChart } from './charts.ts';
import { renderHtml } from './html.ts';
import { loadRunDirs, readHistory, ReportError, type LoadedRun, type LoadedRuns } from './load.ts';
import { renderMarkdown } from './markdown.ts';
import {
  comparison,
  failoverRows,
  latencySamples,
  matrixColumns,
  modesOf,
  safetyRows,
  sharedScenarios,
  speedScope,
  throughputRows,
  timeline,
  unsafeGroups,
  verdictMatrix,
  type ComparisonRow,
  type MatrixRow,
  type Mode,
} from './model.ts';
import { renderChart } from './render.ts';
import { campaignView, type CampaignView } from './campaign.ts';
import { referenceViews, type ReferenceView } from './references.ts';
import { speedScopeText, type Scope } from './wording.ts';
import { NEMESIS } from '../runner/history.ts';

/** Timelines drawn at most, one per unsafe cell; beyond it the rest are listed, not drawn, so a report of thousands of runs stays readable. */
export const MAX_TIMELINES = 200;

export interface RenderedChart {
  readonly name: string;
  readonly caption: string;
  readonly svg: string;
  readonly png: Uint8Array;
}

export interface Report {
  readonly loaded: LoadedRuns;
  readonly matrix: readonly MatrixRow[];
  readonly columns: readonly { system: string; fencing: boolean }[];
  readonly comparison: readonly ComparisonRow[];
  /** Per mode: the scenarios cross-system figures came from, and the runs speed was read from. */
  readonly scopes: readonly Scope[];
  readonly charts: readonly RenderedChart[];
  readonly timelines: {
    readonly shown: readonly (RenderedChart & { readonly run: LoadedRun })[];
    /** Unsafe cells (scenario, system, fencing, mode) not drawn. */
    readonly omitted: number;
  };
  /** The campaigns of `lockstep compare` among the directories, first on the page. */
  readonly campaigns: readonly CampaignView[];
  /** Published results the scenarios reproduce, beside the measured figures. */
  readonly references: readonly ReferenceView[];
}

export async function buildReport(dirs: readonly string[]): Promise<Report> {
  const loaded = loadRunDirs(dirs);
  const runs = loaded.runs;
  const charts: RenderedChart[] = [];
  const chart = async (name: string, caption: string, spec: Parameters<typeof renderChart>[0]) => {
    const { svg, png } = await renderChart(spec);
    charts.push({ name, caption, svg, png });
  };
  const modes = modesOf(runs);
  const speedScopes = modes.map((mode) => speedScope(runs, mode));
  // The latency chart and the speed column read the same runs; the clients in their histories are counted on the way.
  const clients = new Map<Mode, Set<number>>(modes.map((mode) => [mode, new Set<number>()]));
  const samples = latencySamples(
    speedScopes.flatMap((scope) => scope.runs),
    (run) => {
      const history = readHistory(run);
      if (history !== null)
        clients.get(run.mode)?.add(new Set(history.ops.map((op) => op.process).filter((p) => p !== NEMESIS)).size);
      return history;
    },
  );
  const scopes: Scope[] = speedScopes.map((scope) => ({
    mode: scope.mode,
    shared: sharedScenarios(runs, scope.mode),
    speed: {
      scenarios: scope.scenarios,
      runs: scope.runs.length,
      clients: [...(clients.get(scope.mode) ?? [])].sort((a, b) => a - b),
    },
  }));
  const speedFrom = scopes.map(speedScopeText).join('; ');
  if (samples.length > 0)
    await chart(
      'latency',
      `Acquire latency per system, waiting for the lock included (log scale), from ${speedFrom}.`,
      latencyChart(samples),
    );
  for (const scope of scopes) {
    const rows = safetyRows(runs, scope.mode);
    if (rows.length === 0) continue;
    const name = modes.length === 1 ? 'safety' : `safety-${scope.mode}`;
    await chart(
      name,
      `Lost updates and stale writes accepted, unfenced and fenced, in ${scope.mode} runs of the scenarios every system ran (${scope.shared.join(', ')}); scenarios only some systems ran are left out.`,
      safetyChart(rows, `${scope.mode} runs of the ${scope.shared.length} scenarios every system ran`),
    );
  }
  const throughput = throughputRows(runs);
  if (throughput.length > 0)
    await chart(
      'throughput',
      `Acquisitions per second of simulated (sim) or real (live) time, from ${speedFrom}.`,
      throughputChart(throughput),
    );
  const failover = failoverRows(runs);
  if (failover.length > 0)
    await chart(
      'failover',
      'Election runs, one panel per scenario and mode: the longest failover and the time without any leader.',
      failoverChart(failover),
    );

  const groups = unsafeGroups(runs);
  const shown: (RenderedChart & { run: LoadedRun })[] = [];
  for (const group of groups.slice(0, MAX_TIMELINES)) {
    const { run } = group;
    const t = timeline(run, group);
    if (t === null) continue;
    const { svg, png } = await renderChart(timelineChart(t), { compactMarks: true });
    const caption = `${t.title}: ${run.metrics?.lostUpdates ?? 0} lost update(s), ${run.metrics?.staleWritesAccepted ?? 0} stale write(s) accepted in seed ${run.seed}.`;
    shown.push({ name: `timeline-${shown.length + 1}`, caption, svg, png, run });
  }
  return {
    loaded,
    matrix: verdictMatrix(runs),
    columns: matrixColumns(runs),
    comparison: comparison(runs),
    scopes,
    charts,
    timelines: { shown, omitted: groups.length - shown.length },
    campaigns: loaded.campaigns.map((c) => campaignView(c.file)),
    references: referenceViews(loaded),
  };
}

/** The file every report leaves in its directory: the next report may replace what is beside it. */
export const REPORT_MARKER = '.lockstep-report';

/**
 * Refuses, before anything is written, a directory a report must not write into: one holding files
 * that are neither a run (results.json) nor an earlier report (REPORT_MARKER). Writing a report
 * deletes charts/ and replaces index.html and report.md, which may be someone else's.
 */
export function checkReportDir(outDir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(outDir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new ReportError(
      `${outDir}: cannot write a report there (${code === 'ENOTDIR' ? 'not a directory' : (code ?? String(error))})`,
    );
  }
  if (entries.length === 0 || entries.includes(REPORT_MARKER) || entries.includes('results.json')) return;
  throw new ReportError(
    `${outDir}: not empty, and neither a lockstep report (no ${REPORT_MARKER}) nor a run directory (no results.json); refusing to replace its files: name a new or empty directory`,
  );
}

/** Build the report of `dirs` and write it into `outDir`; returns the paths written. */
export async function writeReport(
  dirs: readonly string[],
  outDir: string,
): Promise<{ html: string; markdown: string }> {
  checkReportDir(outDir);
  const report = await buildReport(dirs);
  mkdirSync(outDir, { recursive: true });
  // The marker goes first, so that a report that fails half-way leaves a directory the next one may use.
  writeFileSync(
    join(outDir, REPORT_MARKER),
    'written by lockstep report: index.html, report.md and charts/ here are replaced by the next report\n',
  );
  const staging = join(outDir, '.report-partial');
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'charts'), { recursive: true });
  for (const c of [...report.charts, ...report.timelines.shown]) {
    writeFileSync(join(staging, 'charts', `${c.name}.svg`), c.svg);
    writeFileSync(join(staging, 'charts', `${c.name}.png`), c.png);
  }
  writeFileSync(join(staging, 'index.html'), renderHtml(report));
  writeFileSync(join(staging, 'report.md'), renderMarkdown(report));
  rmSync(join(outDir, 'charts'), { recursive: true, force: true });
  renameSync(join(staging, 'charts'), join(outDir, 'charts'));
  renameSync(join(staging, 'index.html'), join(outDir, 'index.html'));
  renameSync(join(staging, 'report.md'), join(outDir, 'report.md'));
  rmSync(staging, { recursive: true, force: true });
  return { html: join(outDir, 'index.html'), markdown: join(outDir, 'report.md') };
}
