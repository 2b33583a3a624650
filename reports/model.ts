/**
 * From loaded runs to what the report shows: the verdict matrix, the comparison table, chart data
 * and the timeline of every unsafe run. Pure functions; the files are read by load.ts.
 */
import type { Op } from '../runner/history.ts';
import { MECHANISMS, mechanism, type Level } from './claims.ts';
import type { LoadedRun } from './load.ts';
import { replayCommand } from '../runner/replay.ts';

export type Mode = 'sim' | 'live';

export interface Cell {
  readonly runs: number;
  readonly unsafe: number;
  readonly skipped: number;
  readonly unknown: number;
  readonly lostUpdates: number;
  /** safe, unsafe (any run unsafe), skipped or unknown (no run judged). */
  readonly verdict: 'safe' | 'unsafe' | 'skipped' | 'unknown';
}

export interface MatrixRow {
  readonly scenario: string;
  /** Keyed by `${system}/${fencing}` then mode. */
  readonly cells: ReadonlyMap<string, Partial<Record<Mode, Cell>>>;
}

export function cellKey(system: string, fencing: boolean): string {
  return `${system}/${fencing ? 'on' : 'off'}`;
}

export function verdictMatrix(runs: readonly LoadedRun[]): MatrixRow[] {
  const scenarios = [...new Set(runs.map((r) => r.scenario))].sort();
  return scenarios.map((scenario) => {
    const cells = new Map<string, Partial<Record<Mode, Cell>>>();
    for (const run of runs.filter((r) => r.scenario === scenario)) {
      const key = cellKey(run.system, run.fencing);
      const byMode = cells.get(key) ?? {};
      byMode[run.mode] = addRun(byMode[run.mode], run);
      cells.set(key, byMode);
    }
    return { scenario, cells };
  });
}

function addRun(cell: Cell | undefined, run: LoadedRun): Cell {
  const c = cell ?? { runs: 0, unsafe: 0, skipped: 0, unknown: 0, lostUpdates: 0, verdict: 'unknown' as const };
  const next = {
    runs: c.runs + 1,
    unsafe: c.unsafe + (run.verdict === 'unsafe' ? 1 : 0),
    skipped: c.skipped + (run.verdict === 'skipped' ? 1 : 0),
    unknown: c.unknown + (run.verdict === 'unknown' ? 1 : 0),
    lostUpdates: c.lostUpdates + (run.metrics?.lostUpdates ?? 0),
  };
  const verdict =
    next.unsafe > 0
      ? 'unsafe'
      : next.runs === next.skipped
        ? 'skipped'
        : next.unknown + next.skipped === next.runs
          ? 'unknown'
          : 'safe';
  return { ...next, verdict };
}

/** The systems and fencing settings present, in canonical order, as matrix columns. */
export function matrixColumns(runs: readonly LoadedRun[]): { system: string; fencing: boolean }[] {
  const order = MECHANISMS.map((m) => m.system);
  const systems = [...new Set(runs.map((r) => r.system))].sort((a, b) => rank(order, a) - rank(order, b));
  return systems.flatMap((system) =>
    [false, true]
      .filter((f) => runs.some((r) => r.system === system && r.fencing === f))
      .map((fencing) => ({ system, fencing })),
  );
}

function rank(order: readonly string[], system: string): number {
  const i = order.indexOf(system);
  return i < 0 ? order.length : i;
}

export interface ComparisonRow {
  readonly system: string;
  readonly name: string;
  readonly unsafeUnfenced: readonly string[];
  readonly unsafeFenced: readonly string[];
  readonly p50Ms: Partial<Record<Mode, number>>;
  readonly p99Ms: Partial<Record<Mode, number>>;
  readonly acquisitionsPerSec: Partial<Record<Mode, number>>;
  readonly servers: number;
  readonly roundTrips: string;
  readonly bestFor: string;
  readonly claimed?: { readonly consistency: Level; readonly speed: Level };
  /** Measurements that contradict a claim, in words. */
  readonly contradictions: readonly string[];
}

const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

/**
 * The comparison table, regenerated from measurements. Speed is read from the no-fault runs when
 * there are any (faults would measure the faults), from every judged run otherwise. A claim of
 * strong consistency is contradicted by any unsafe unfenced run (the usual table says nothing of
 * fencing); a claim of high speed by a median p50 above the median of all systems, of low speed
 * by one below it.
 */
export function comparison(runs: readonly LoadedRun[]): ComparisonRow[] {
  const systems = matrixColumns(runs)
    .map((c) => c.system)
    .filter((s, i, all) => all.indexOf(s) === i);
  const judged = runs.filter((r) => r.metrics !== null && r.verdict !== 'skipped');
  const quiet = judged.some((r) => r.scenario === 'no-faults')
    ? judged.filter((r) => r.scenario === 'no-faults')
    : judged;
  const p50Of = (system: string, mode: Mode) =>
    median(
      quiet
        .filter((r) => r.system === system && r.mode === mode)
        .flatMap((r) => (r.metrics?.acquireLatencyMs ? [r.metrics.acquireLatencyMs.p50] : [])),
    );
  const p50s = systems.flatMap((s) => [p50Of(s, 'sim')].filter((x): x is number => x !== undefined));
  const overall = median(p50s);
  return systems.map((system) => {
    const m = mechanism(system);
    const unsafeIn = (fencing: boolean) =>
      [
        ...new Set(
          runs
            .filter((r) => r.system === system && r.fencing === fencing && r.verdict === 'unsafe')
            .map((r) => r.scenario),
        ),
      ].sort();
    const modes: Mode[] = ['sim', 'live'];
    const pick = (f: (mode: Mode) => number | undefined) =>
      Object.fromEntries(
        modes.flatMap((mode) => {
          const v = f(mode);
          return v === undefined ? [] : [[mode, v]];
        }),
      ) as Partial<Record<Mode, number>>;
    const p50Ms = pick((mode) => p50Of(system, mode));
    const p99Ms = pick((mode) =>
      median(
        quiet
          .filter((r) => r.system === system && r.mode === mode)
          .flatMap((r) => (r.metrics?.acquireLatencyMs ? [r.metrics.acquireLatencyMs.p99] : [])),
      ),
    );
    const acquisitionsPerSec = pick((mode) =>
      median(
        quiet
          .filter((r) => r.system === system && r.mode === mode && r.simulatedMs > 0)
          .map((r) => round((metricsOf(r).acquisitions / r.simulatedMs) * 1000)),
      ),
    );
    const contradictions: string[] = [];
    const unsafeUnfenced = unsafeIn(false);
    if (m.claimed?.consistency === 'strong' && unsafeUnfenced.length > 0)
      contradictions.push(`claimed strong, but unsafe unfenced in ${unsafeUnfenced.join(', ')}`);
    const p50 = p50Ms.sim;
    if (m.claimed !== undefined && p50 !== undefined && overall !== undefined) {
      if (m.claimed.speed === 'high' && p50 > overall)
        contradictions.push(`claimed high speed, but its p50 (${p50} ms) is above the median system's (${overall} ms)`);
      if (m.claimed.speed === 'low' && p50 < overall)
        contradictions.push(`claimed low speed, but its p50 (${p50} ms) is below the median system's (${overall} ms)`);
    }
    return {
      system,
      name: m.name,
      unsafeUnfenced,
      unsafeFenced: unsafeIn(true),
      p50Ms,
      p99Ms,
      acquisitionsPerSec,
      servers: m.servers,
      roundTrips: `${m.roundTrips.unfenced}; fenced ${m.roundTrips.fenced}`,
      bestFor: m.bestFor,
      ...(m.claimed === undefined ? {} : { claimed: m.claimed }),
      contradictions,
    };
  });
}

/** Acquire latencies (invoke to ok) of every judged run, from the histories. */
/**
 * Acquire latencies (waiting included) per system and mode, reduced to the five values a min-max
 * box plot is drawn from: min, q1, median, q3, max. Vega's quartiles interpolate (d3's R-7), so
 * these five points give it exactly the box all the samples would, while a report of thousands
 * of runs hands it five points a group instead of millions. Histories are read one at a time.
 */
export function latencySamples(
  runs: readonly LoadedRun[],
  histories: (run: LoadedRun) => { ops: Op[] } | null,
): { system: string; mode: Mode; latencyMs: number }[] {
  const groups = new Map<string, { system: string; mode: Mode; values: number[] }>();
  for (const run of runs) {
    const history = histories(run);
    if (history === null) continue;
    const key = `${run.mode} ${run.system}`;
    const group = groups.get(key) ?? { system: run.system, mode: run.mode, values: [] };
    groups.set(key, group);
    const started = new Map<string, number>();
    for (const op of history.ops) {
      if (op.f !== 'acquire' && op.f !== 'campaign') continue;
      const since = started.get(op.process);
      if (op.type === 'invoke') started.set(op.process, op.timeMs);
      else if (op.type === 'ok' && since !== undefined) group.values.push(Math.max(0.01, round(op.timeMs - since)));
    }
  }
  return [...groups.values()].flatMap((g) =>
    boxPoints(g.values).map((latencyMs) => ({ system: g.system, mode: g.mode, latencyMs })),
  );
}

/** min, q1, median, q3 and max of `values`, quantiles interpolated as d3 (and so Vega) does. */
export function boxPoints(values: number[]): number[] {
  if (values.length === 0) return [];
  const sorted = Float64Array.from(values).sort();
  const quantile = (p: number) => {
    const h = (sorted.length - 1) * p;
    const low = Math.floor(h);
    const below = sorted[low] ?? 0;
    return below + ((sorted[Math.min(low + 1, sorted.length - 1)] ?? below) - below) * (h - low);
  };
  return [0, 0.25, 0.5, 0.75, 1].map(quantile);
}

export function safetyRows(
  runs: readonly LoadedRun[],
): { system: string; fencing: 'off' | 'on'; lostUpdates: number; staleWritesAccepted: number }[] {
  return matrixColumns(runs).map(({ system, fencing }) => {
    const mine = runs.filter((r) => r.system === system && r.fencing === fencing);
    return {
      system,
      fencing: fencing ? 'on' : 'off',
      lostUpdates: mine.reduce((n, r) => n + (r.metrics?.lostUpdates ?? 0), 0),
      staleWritesAccepted: mine.reduce((n, r) => n + (r.metrics?.staleWritesAccepted ?? 0), 0),
    };
  });
}

export function throughputRows(
  runs: readonly LoadedRun[],
): { system: string; mode: Mode; acquisitionsPerSec: number }[] {
  return comparison(runs).flatMap((row) =>
    (['sim', 'live'] as const).flatMap((mode) =>
      row.acquisitionsPerSec[mode] === undefined
        ? []
        : [{ system: row.system, mode, acquisitionsPerSec: row.acquisitionsPerSec[mode] }],
    ),
  );
}

export function failoverRows(
  runs: readonly LoadedRun[],
): { system: string; scenario: string; failoverMs: number; leaderlessMs: number }[] {
  return runs.flatMap((r) => {
    const metrics = r.metrics;
    if (metrics?.leaderlessMs === undefined) return [];
    return [
      {
        system: r.system,
        scenario: r.scenario,
        failoverMs: Math.max(0, ...(metrics.failoverMs ?? [0])),
        leaderlessMs: metrics.leaderlessMs,
      },
    ];
  });
}

export { timeline, type Timeline } from './timeline.ts';

/** The replay command of a run; runs from before results.json named their file are assumed to be library scenarios. */
export function replayOf(run: LoadedRun): string {
  return replayCommand({ ...run, file: run.file ?? `scenarios/${run.scenario}.yaml` });
}

/** A run that simulated time has metrics: only a skipped run has none, and it simulates nothing. */
function metricsOf(run: LoadedRun): NonNullable<LoadedRun['metrics']> {
  if (run.metrics === null) throw new Error(`report: ${run.scenario} on ${run.system} ran but has no metrics`);
  return run.metrics;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
