/**
 * From loaded runs to what the report shows: the verdict matrix, the comparison table, chart data
 * and the timeline of every unsafe run. Pure functions; the files are read by load.ts.
 */
import type { Op } from '../runner/history.ts';
import { judgeConsistency, MECHANISMS, mechanism, type Level } from './claims.ts';
import type { LoadedRun } from './load.ts';
import { replayCommand } from '../runner/replay.ts';

export type Mode = 'sim' | 'live';

export const MODES: readonly Mode[] = ['sim', 'live'];

/** A run whose history was checked: safe or unsafe. Skipped and unknown runs are neither, and are never counted as safe. */
export function isJudged(run: LoadedRun): boolean {
  return run.verdict === 'safe' || run.verdict === 'unsafe';
}

export interface Cell {
  readonly runs: number;
  readonly safe: number;
  readonly unsafe: number;
  readonly skipped: number;
  readonly unknown: number;
  readonly lostUpdates: number;
  /** Why runs were skipped, each reason once. */
  readonly skipReasons: readonly string[];
  /** unsafe (any run unsafe), safe (every judged run safe, none unknown), skipped (every run skipped), or unknown. */
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

const EMPTY_CELL: Cell = {
  runs: 0,
  safe: 0,
  unsafe: 0,
  skipped: 0,
  unknown: 0,
  lostUpdates: 0,
  skipReasons: [],
  verdict: 'unknown',
};

function addRun(cell: Cell | undefined, run: LoadedRun): Cell {
  const c = cell ?? EMPTY_CELL;
  const is = (verdict: LoadedRun['verdict']) => (run.verdict === verdict ? 1 : 0);
  const reason = run.verdict === 'skipped' ? (run.skipped ?? 'no reason given') : null;
  const next = {
    runs: c.runs + 1,
    safe: c.safe + is('safe'),
    unsafe: c.unsafe + is('unsafe'),
    skipped: c.skipped + is('skipped'),
    unknown: c.unknown + is('unknown'),
    lostUpdates: c.lostUpdates + (isJudged(run) ? (run.metrics?.lostUpdates ?? 0) : 0),
    skipReasons: reason === null || c.skipReasons.includes(reason) ? c.skipReasons : [...c.skipReasons, reason],
  };
  const verdict =
    next.unsafe > 0
      ? 'unsafe'
      : next.skipped === next.runs
        ? 'skipped'
        : next.unknown > 0 || next.safe === 0
          ? 'unknown'
          : 'safe';
  return { ...next, verdict };
}

/** The systems and fencing settings present, in canonical order: the matrix's rows. */
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

/** The modes present in `runs`, sim first. */
export function modesOf(runs: readonly LoadedRun[]): Mode[] {
  return MODES.filter((mode) => runs.some((r) => r.mode === mode));
}

/** False when any run of `system` says its fencing token is not sound (RedLock's is not). */
export function tokenSound(runs: readonly LoadedRun[], system: string): boolean {
  return !runs.some((r) => r.system === system && r.fencingSound === false);
}

/**
 * The scenarios of `mode` that every system and fencing setting of that mode ran and judged (no
 * skipped or unknown run only). Figures that compare systems are taken from these alone: a
 * scenario written for one system (zk-session-expiry) would otherwise weigh on that system only.
 */
export function sharedScenarios(runs: readonly LoadedRun[], mode: Mode): string[] {
  const inMode = runs.filter((r) => r.mode === mode);
  const columns = matrixColumns(inMode);
  const judgedIn = new Set(inMode.filter(isJudged).map((r) => `${r.scenario}\0${cellKey(r.system, r.fencing)}`));
  return [...new Set(inMode.map((r) => r.scenario))]
    .sort()
    .filter((scenario) => columns.every((c) => judgedIn.has(`${scenario}\0${cellKey(c.system, c.fencing)}`)));
}

/** The runs speed is read from in one mode, and the scenarios they ran. */
export interface SpeedScope {
  readonly mode: Mode;
  readonly scenarios: readonly string[];
  readonly runs: readonly LoadedRun[];
}

/**
 * Speed is read from the no-fault runs when every system ran no-faults (faults would measure the
 * faults), from the shared scenarios otherwise; judged runs only, one mode at a time, so that a
 * live figure never stands in for a sim one or is dropped because sim ran other scenarios.
 */
export function speedScope(runs: readonly LoadedRun[], mode: Mode): SpeedScope {
  const shared = sharedScenarios(runs, mode);
  const scenarios = shared.includes('no-faults') ? ['no-faults'] : shared;
  return {
    mode,
    scenarios,
    runs: runs.filter((r) => r.mode === mode && isJudged(r) && r.metrics !== null && scenarios.includes(r.scenario)),
  };
}

/** What one system showed with one fencing setting in one mode. */
export interface ConsistencyRecord {
  readonly mode: Mode;
  readonly fencing: boolean;
  /** Of the shared scenarios (sharedScenarios), those it was unsafe in. */
  readonly sharedUnsafe: readonly string[];
  readonly shared: number;
  /** How many shared scenarios every run of which was judged safe. */
  readonly sharedSafe: number;
  /** Scenarios not every system ran: judged, and unsafe among them. */
  readonly ownJudged: readonly string[];
  readonly ownUnsafe: readonly string[];
  /** Scenarios whose runs include an unknown one and no unsafe one. */
  readonly unknown: readonly string[];
  /** Scenarios every run of which was skipped, with the reasons. */
  readonly notRun: readonly { scenario: string; reasons: readonly string[] }[];
}

export interface ComparisonRow {
  readonly system: string;
  readonly name: string;
  readonly tokenSound: boolean;
  readonly consistency: readonly ConsistencyRecord[];
  readonly p50Ms: Partial<Record<Mode, number>>;
  readonly p99Ms: Partial<Record<Mode, number>>;
  readonly acquisitionsPerSec: Partial<Record<Mode, number>>;
  /** Other systems whose simulated figures come from the same model (claims.ts simModel), when both have sim figures. */
  readonly sharesSimModel: { readonly model: string; readonly with: readonly string[] } | null;
  readonly servers: number;
  readonly roundTrips: string;
  readonly bestFor: string;
  readonly claimed?: { readonly consistency: Level; readonly speed: Level };
  /** Measurements that contradict a claim, in words. */
  readonly contradictions: readonly string[];
  /** Neutral statements (unsafe without fencing, an untested claim), in words. */
  readonly notes: readonly string[];
}

const median = (xs: readonly number[]): number | undefined => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function consistencyRecord(
  runs: readonly LoadedRun[],
  system: string,
  fencing: boolean,
  mode: Mode,
  shared: readonly string[],
): ConsistencyRecord {
  const cells = verdictMatrix(runs.filter((r) => r.system === system && r.fencing === fencing && r.mode === mode))
    .map((row) => ({ scenario: row.scenario, cell: row.cells.get(cellKey(system, fencing))?.[mode] }))
    .flatMap(({ scenario, cell }) => (cell === undefined ? [] : [{ scenario, cell }]));
  const names = (keep: (scenario: string, cell: Cell) => boolean) =>
    cells.filter(({ scenario, cell }) => keep(scenario, cell)).map(({ scenario }) => scenario);
  const isShared = (scenario: string) => shared.includes(scenario);
  const judged = (cell: Cell) => cell.safe + cell.unsafe > 0;
  return {
    mode,
    fencing,
    shared: shared.length,
    sharedUnsafe: names((s, c) => isShared(s) && c.unsafe > 0),
    sharedSafe: names((s, c) => isShared(s) && c.verdict === 'safe').length,
    ownJudged: names((s, c) => !isShared(s) && judged(c)),
    ownUnsafe: names((s, c) => !isShared(s) && c.unsafe > 0),
    unknown: names((_, c) => c.verdict === 'unknown'),
    notRun: cells
      .filter(({ cell }) => cell.verdict === 'skipped')
      .map(({ scenario, cell }) => ({ scenario, reasons: cell.skipReasons })),
  };
}

/**
 * The comparison table, regenerated from measurements. Consistency is told per mode and fencing,
 * the scenarios every system ran apart from those only some ran, skipped scenarios as not run;
 * claims are judged by claims.ts judgeConsistency. Speed is read per mode from speedScope's runs;
 * a claim of high speed is contradicted by a median p50 above the median system's in that mode,
 * of low speed by one below it.
 */
export function comparison(runs: readonly LoadedRun[]): ComparisonRow[] {
  const systems = matrixColumns(runs)
    .map((c) => c.system)
    .filter((s, i, all) => all.indexOf(s) === i);
  const modes = modesOf(runs);
  const scopes = new Map(modes.map((mode) => [mode, speedScope(runs, mode)]));
  const quantile = (system: string, mode: Mode, p: 'p50' | 'p99') =>
    median(
      (scopes.get(mode)?.runs ?? [])
        .filter((r) => r.system === system)
        .flatMap((r) => (r.metrics?.acquireLatencyMs ? [r.metrics.acquireLatencyMs[p]] : [])),
    );
  const pick = (f: (mode: Mode) => number | undefined) =>
    Object.fromEntries(
      modes.flatMap((mode) => {
        const v = f(mode);
        return v === undefined ? [] : [[mode, v]];
      }),
    ) as Partial<Record<Mode, number>>;
  const overall = pick((mode) =>
    median(systems.flatMap((s) => [quantile(s, mode, 'p50')].filter((x): x is number => x !== undefined))),
  );
  const p50BySystem = new Map(systems.map((s) => [s, pick((mode) => quantile(s, mode, 'p50'))]));
  return systems.map((system) => {
    const m = mechanism(system);
    const sound = tokenSound(runs, system);
    const fencings = [false, true].filter((f) => runs.some((r) => r.system === system && r.fencing === f));
    const consistency = modes.flatMap((mode) =>
      runs.some((r) => r.system === system && r.mode === mode)
        ? fencings.map((f) => consistencyRecord(runs, system, f, mode, sharedScenarios(runs, mode)))
        : [],
    );
    const unsafeIn = (fencing: boolean) =>
      consistency
        .filter((c) => c.fencing === fencing)
        .flatMap((c) => [...c.sharedUnsafe, ...c.ownUnsafe].sort().map((s) => `${s} (${c.mode})`));
    const judgedFenced = runs.filter((r) => r.system === system && r.fencing && isJudged(r)).map((r) => r.scenario);
    const judged = judgeConsistency({
      ...(m.claimed === undefined ? {} : { claimed: m.claimed }),
      tokenSound: sound,
      unsafeUnfenced: unsafeIn(false),
      unsafeFenced: unsafeIn(true),
      judgedFenced,
    });
    const p50Ms = p50BySystem.get(system) ?? {};
    const contradictions = [...judged.contradictions];
    for (const mode of modes) {
      const p50 = p50Ms[mode];
      const all = overall[mode];
      if (m.claimed === undefined || p50 === undefined || all === undefined) continue;
      if (m.claimed.speed === 'high' && p50 > all)
        contradictions.push(
          `claimed high speed, but its ${mode} p50 (${p50} ms) is above the median system's (${all} ms)`,
        );
      if (m.claimed.speed === 'low' && p50 < all)
        contradictions.push(
          `claimed low speed, but its ${mode} p50 (${p50} ms) is below the median system's (${all} ms)`,
        );
    }
    const twins = systems.filter(
      (other) =>
        other !== system &&
        m.simModel !== undefined &&
        mechanism(other).simModel === m.simModel &&
        p50Ms.sim !== undefined &&
        p50BySystem.get(other)?.sim !== undefined,
    );
    return {
      system,
      name: m.name,
      tokenSound: sound,
      consistency,
      p50Ms,
      p99Ms: pick((mode) => quantile(system, mode, 'p99')),
      acquisitionsPerSec: pick((mode) =>
        median(
          (scopes.get(mode)?.runs ?? [])
            .filter((r) => r.system === system && r.simulatedMs > 0)
            .map((r) => round((metricsOf(r).acquisitions / r.simulatedMs) * 1000)),
        ),
      ),
      sharesSimModel:
        m.simModel === undefined || twins.length === 0
          ? null
          : { model: m.simModel, with: twins.map((t) => mechanism(t).name) },
      servers: m.servers,
      roundTrips: `${m.roundTrips.unfenced}; fenced ${m.roundTrips.fenced}`,
      bestFor: m.bestFor,
      ...(m.claimed === undefined ? {} : { claimed: m.claimed }),
      contradictions,
      notes: judged.notes,
    };
  });
}

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

/**
 * Damage per system and fencing in one mode, summed over the shared scenarios of that mode only
 * (sharedScenarios): a scenario only one system ran would rank systems by how many were written
 * for them. Judged runs only, so a skipped run never shows as a bar of 0.
 */
export function safetyRows(
  runs: readonly LoadedRun[],
  mode: Mode,
): { system: string; fencing: 'off' | 'on'; lostUpdates: number; staleWritesAccepted: number }[] {
  const shared = sharedScenarios(runs, mode);
  const counted = runs.filter((r) => r.mode === mode && isJudged(r) && shared.includes(r.scenario));
  return matrixColumns(counted).map(({ system, fencing }) => {
    const mine = counted.filter((r) => r.system === system && r.fencing === fencing);
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

/** Election figures of judged runs, one panel per scenario and mode, so sim and live are never averaged together. */
export function failoverRows(
  runs: readonly LoadedRun[],
): { system: string; scenario: string; failoverMs: number; leaderlessMs: number }[] {
  return runs.flatMap((r) => {
    const metrics = r.metrics;
    if (!isJudged(r) || metrics?.leaderlessMs === undefined) return [];
    return [
      {
        system: r.system,
        scenario: `${r.scenario} (${r.mode})`,
        failoverMs: Math.max(0, ...(metrics.failoverMs ?? [0])),
        leaderlessMs: metrics.leaderlessMs,
      },
    ];
  });
}

export { timeline, type Timeline } from './timeline.ts';

/** Every run of one scenario, system, fencing setting and mode: one per seed. */
export interface UnsafeGroup {
  /** The first unsafe run, by seed: the one drawn. */
  readonly run: LoadedRun;
  readonly unsafe: number;
  readonly runs: number;
}

/**
 * The unsafe (scenario, system, fencing, mode) cells, each with its first unsafe seed, in the order
 * their first runs appear: a report of many seeds draws one timeline per cell, not one per seed.
 */
export function unsafeGroups(runs: readonly LoadedRun[]): UnsafeGroup[] {
  const groups = new Map<string, { run: LoadedRun | null; unsafe: number; runs: number }>();
  for (const run of runs) {
    const key = JSON.stringify([run.scenario, run.system, run.fencing, run.mode]);
    const group = groups.get(key) ?? { run: null, unsafe: 0, runs: 0 };
    groups.set(key, group);
    group.runs += 1;
    if (run.verdict !== 'unsafe') continue;
    group.unsafe += 1;
    if (group.run === null || run.seed < group.run.seed) group.run = run;
  }
  return [...groups.values()].flatMap(({ run, unsafe, runs: count }) =>
    run === null ? [] : [{ run, unsafe, runs: count }],
  );
}

/** "3 of 20 seeds". */
export function ofSeeds(count: number, runs: number): string {
  return `${count} of ${runs} seed${runs === 1 ? '' : 's'}`;
}

/** The replay command of a run; runs from before results.json named their file are assumed to be library scenarios. */
export function replayOf(run: LoadedRun): string {
  return replayCommand({
    ...run,
    system: run.runsOn ?? run.system,
    subject: run.subject == null ? null : (run.subjectFile ?? run.subject),
    file: run.file ?? `scenarios/${run.scenario}.yaml`,
  });
}

/** A run that simulated time has metrics: only a skipped run has none, and it simulates nothing. */
function metricsOf(run: LoadedRun): NonNullable<LoadedRun['metrics']> {
  if (run.metrics === null) throw new Error(`report: ${run.scenario} on ${run.system} ran but has no metrics`);
  return run.metrics;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
