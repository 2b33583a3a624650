/**
 * `lockstep compare`'s engine: run one fault campaign against every system, fenced and unfenced,
 * and reduce it to one cell per system and fencing: how often it was unsafe (with a 95% Wilson
 * interval), how much damage per 1,000 acknowledged writes, how long the lock was unavailable,
 * how fast a crashed holder was replaced, and the smallest counterexample.
 *
 * Every run of the campaign uses the campaign's seed, so that schedule i is the same experiment on
 * every system. The counterexample of a cell is its first unsafe schedule in campaign order,
 * shrunk by fast-check from that schedule's place in the stream (as `check` shrinks), within a
 * fixed number of tries so that the answer depends on the seed and nothing else.
 */
import fc from 'fast-check';
import { systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import { SENTINEL_DEFAULTS } from '../backends/system.ts';
import type { Op } from './history.ts';
import { percentiles, type Percentiles } from '../checkers/performance.ts';
import type { Scenario } from '../scenarios/schema.ts';
import { fitSchedule, scheduleArbitrary, wilson, type CampaignWorkload } from './campaign.ts';
import { candidates } from './check.ts';
import { runScenario, type Verdict } from './run.ts';
import type { RunRequest, RunSummary } from './run-summary.ts';

export interface CompareOptions {
  readonly schedules: number;
  readonly seed: number;
  readonly systems: readonly SystemId[];
  readonly workload: CampaignWorkload;
  /** Run a batch; the pool's, or one by one on this thread. */
  readonly summaries: (requests: readonly RunRequest[]) => Promise<RunSummary[]>;
  /** Most runs a cell's shrink may try. */
  readonly shrinkBudget?: number;
  readonly onProgress?: (runsDone: number, runsPlanned: number) => void;
}

export interface CompareCell {
  readonly system: SystemId;
  readonly fencing: 'off' | 'on';
  /** Whether the system's fencing token is sound; RedLock's is not, whatever its runs show. */
  readonly fencingSound: boolean;
  /** Schedules this cell ran and judged (safe or unsafe). */
  readonly runs: number;
  readonly notApplicable: number;
  readonly notApplicableReasons: readonly { readonly reason: string; readonly schedules: number }[];
  /** Runs that ran but have no verdict (they spun or could not settle): neither safe nor unsafe. */
  readonly unknown: number;
  readonly unsafe: number;
  /** unsafe / runs; null when no run was judged. */
  readonly unsafeFraction: number | null;
  readonly interval: readonly [number, number];
  readonly ackedWrites: number;
  readonly lostUpdates: number;
  readonly staleWritesAccepted: number;
  readonly lostPer1000: number | null;
  readonly stalePer1000: number | null;
  /** Of the judged runs' time, the share in which some client wanted the lock and nobody held it. */
  readonly unavailableFraction: number | null;
  /** After a holder crashed, until another client was granted. */
  readonly takeoverMs: { readonly p50: number; readonly p99: number; readonly samples: number } | null;
  /** 0-based index of the first unsafe schedule, or null. */
  readonly firstUnsafe: number | null;
}

export interface CompareCounterexample {
  readonly system: SystemId;
  readonly fencing: 'off' | 'on';
  readonly schedule: number;
  readonly shrinks: number;
  /** The shrunk schedule, fitted to the system: a scenario file that replays it. */
  readonly scenario: Scenario;
  readonly summary: RunSummary;
}

export interface SpeedRow {
  readonly system: SystemId;
  readonly source: 'sim';
  /** One client, no faults: acquire invoke to ok plus release invoke to ok, per round. */
  readonly uncontendedMs: Percentiles | null;
  readonly uncontendedRounds: number;
  /** The campaign's clients, no faults: grants per second. */
  readonly contendedClients: number;
  readonly contendedAcquisitionsPerSec: number;
}

export interface CompareOutcome {
  readonly schedules: readonly Scenario[];
  /** Each run's verdict, by `${system}/${off|on}`, in schedule order; null where the schedule did not apply. */
  readonly verdicts: ReadonlyMap<string, readonly (Verdict | null)[]>;
  readonly cells: readonly CompareCell[];
  readonly counterexamples: readonly CompareCounterexample[];
  readonly speed: readonly SpeedRow[];
}

const SCHEDULES_PER_BATCH = 25;
const DEFAULT_SHRINK_BUDGET = 120;

interface Tally {
  runs: number;
  unknown: number;
  unsafe: number;
  ackedWrites: number;
  lostUpdates: number;
  staleWritesAccepted: number;
  unavailableMs: number;
  simulatedMs: number;
  takeoverMs: number[];
  firstUnsafe: number | null;
  notApplicable: Map<string, number>;
}

export async function compare(options: CompareOptions): Promise<CompareOutcome> {
  const { workload, seed, systems } = options;
  const arbitrary = scheduleArbitrary(workload);
  const schedules = [...candidates(arbitrary, seed, options.schedules)];
  const variants = systems.flatMap((system) => [false, true].map((fencing) => ({ system, fencing })));
  const tallies = new Map(variants.map((v) => [key(v.system, v.fencing), emptyTally()]));
  const verdicts = new Map(
    variants.map((v) => [key(v.system, v.fencing), new Array<Verdict | null>(schedules.length).fill(null)]),
  );
  const planned = schedules.length * variants.length;
  let done = 0;
  for (let start = 0; start < schedules.length; start += SCHEDULES_PER_BATCH) {
    const requests: RunRequest[] = [];
    const indices: number[] = [];
    schedules.slice(start, start + SCHEDULES_PER_BATCH).forEach((schedule, offset) => {
      for (const { system, fencing } of variants) {
        const fitted = fitSchedule(schedule, system, fencing);
        if (fitted.scenario === null) {
          const reasons = tallyOf(tallies, system, fencing).notApplicable;
          reasons.set(fitted.notApplicable, (reasons.get(fitted.notApplicable) ?? 0) + 1);
          done++;
        } else {
          requests.push({ scenario: fitted.scenario, seed, system, fencing });
          indices.push(start + offset);
        }
      }
    });
    const summaries = await options.summaries(requests);
    requests.forEach((request, i) => {
      const summary = summaries[i];
      const schedule = indices[i];
      if (summary === undefined || schedule === undefined)
        throw new Error('compare: a run came back without its summary');
      add(tallyOf(tallies, request.system, request.fencing), summary, schedule);
      const column = verdicts.get(key(request.system, request.fencing));
      if (column !== undefined) column[schedule] = summary.verdict;
    });
    done += requests.length;
    options.onProgress?.(done, planned);
  }
  const cells = variants.map(({ system, fencing }) => cellOf(system, fencing, tallyOf(tallies, system, fencing)));
  const counterexamples = await Promise.all(
    cells.flatMap((cell) => (cell.firstUnsafe === null ? [] : [shrink(cell, cell.firstUnsafe, options)])),
  );
  const speed = await Promise.all(systems.map((system) => speedOf(system, workload, seed)));
  return { schedules, verdicts, cells, counterexamples, speed };
}

/** The unsafe fraction of `runs` and its 95% Wilson interval, as compare.json holds them (four decimals). */
export function fractionOf(
  unsafe: number,
  runs: number,
): { unsafeFraction: number | null; interval: [number, number] } {
  const [low, high] = wilson(unsafe, runs);
  return { unsafeFraction: runs === 0 ? null : round(unsafe / runs, 4), interval: [round(low, 4), round(high, 4)] };
}

export function key(system: SystemId, fencing: boolean): string {
  return `${system}/${fencing ? 'on' : 'off'}`;
}

function emptyTally(): Tally {
  return {
    runs: 0,
    unknown: 0,
    unsafe: 0,
    ackedWrites: 0,
    lostUpdates: 0,
    staleWritesAccepted: 0,
    unavailableMs: 0,
    simulatedMs: 0,
    takeoverMs: [],
    firstUnsafe: null,
    notApplicable: new Map(),
  };
}

function tallyOf(tallies: Map<string, Tally>, system: SystemId, fencing: boolean): Tally {
  const tally = tallies.get(key(system, fencing));
  if (tally === undefined) throw new Error(`compare: no tally for ${key(system, fencing)}`);
  return tally;
}

function add(tally: Tally, summary: RunSummary, schedule: number): void {
  if (summary.verdict === 'unknown' || summary.verdict === 'skipped') {
    tally.unknown++;
    return;
  }
  tally.runs++;
  if (summary.verdict === 'unsafe') {
    tally.unsafe++;
    if (tally.firstUnsafe === null || schedule < tally.firstUnsafe) tally.firstUnsafe = schedule;
  }
  tally.ackedWrites += summary.ackedWrites;
  tally.lostUpdates += summary.lostUpdates;
  tally.staleWritesAccepted += summary.staleWritesAccepted;
  tally.unavailableMs += summary.unavailableMs;
  tally.simulatedMs += summary.simulatedMs;
  tally.takeoverMs.push(...summary.takeoverMs);
}

function cellOf(system: SystemId, fencing: boolean, t: Tally): CompareCell {
  const per1000 = (n: number) => (t.ackedWrites === 0 ? null : round((n * 1000) / t.ackedWrites, 2));
  const takeover = percentiles(t.takeoverMs);
  return {
    system,
    fencing: fencing ? 'on' : 'off',
    fencingSound: systemModule(system).fencing === 'sound',
    runs: t.runs,
    notApplicable: [...t.notApplicable.values()].reduce((a, b) => a + b, 0),
    notApplicableReasons: [...t.notApplicable].map(([reason, schedules]) => ({ reason, schedules })),
    unknown: t.unknown,
    unsafe: t.unsafe,
    ...fractionOf(t.unsafe, t.runs),
    ackedWrites: t.ackedWrites,
    lostUpdates: t.lostUpdates,
    staleWritesAccepted: t.staleWritesAccepted,
    lostPer1000: per1000(t.lostUpdates),
    stalePer1000: per1000(t.staleWritesAccepted),
    unavailableFraction: t.simulatedMs === 0 ? null : round(t.unavailableMs / t.simulatedMs, 4),
    takeoverMs: takeover === null ? null : { p50: takeover.p50, p99: takeover.p99, samples: t.takeoverMs.length },
    firstUnsafe: t.firstUnsafe,
  };
}

/** Shrink a cell's first unsafe schedule, replayed from its place in the campaign's stream. */
async function shrink(cell: CompareCell, index: number, options: CompareOptions): Promise<CompareCounterexample> {
  const { system } = cell;
  const fencing = cell.fencing === 'on';
  let budget = options.shrinkBudget ?? DEFAULT_SHRINK_BUDGET;
  // Once the budget is spent every further candidate passes, so fast-check stops where it got to.
  const property = fc.asyncProperty(scheduleArbitrary(options.workload), async (schedule) => {
    const fitted = fitSchedule(schedule, system, fencing);
    if (fitted.scenario === null || budget-- <= 0) return true;
    const [summary] = await options.summaries([{ scenario: fitted.scenario, seed: options.seed, system, fencing }]);
    return summary?.verdict !== 'unsafe';
  });
  const details = await fc.check(property, { seed: options.seed, path: String(index), numRuns: options.schedules });
  const schedule = details.counterexample?.[0];
  const fitted = schedule === undefined ? null : fitSchedule(schedule, system, fencing).scenario;
  if (!details.failed || fitted == null)
    throw new Error(
      `compare: schedule ${index + 1} was unsafe on ${system} (fencing ${cell.fencing}) in the campaign but not when replayed: the campaign is not deterministic`,
    );
  const [summary] = await options.summaries([{ scenario: fitted, seed: options.seed, system, fencing }]);
  if (summary === undefined) throw new Error('compare: the counterexample came back without its summary');
  return { system, fencing: cell.fencing, schedule: index, shrinks: details.numShrinks, scenario: fitted, summary };
}

/** Speed as speed: one client alone (latency), then the campaign's clients contending (throughput), no faults. */
async function speedOf(system: SystemId, workload: CampaignWorkload, seed: number): Promise<SpeedRow> {
  const quiet = (clients: number): Scenario => ({
    name: 'speed',
    description: 'no faults',
    workload: 'mutex',
    systems: [system],
    fencing: 'off',
    clients,
    durationMs: workload.durationMs,
    lock: {
      ttlMs: workload.ttlMs,
      holdMs: workload.holdMs,
      thinkMs: workload.thinkMs,
      careful: false,
      etcdMutex: '3.5',
      sentinel: SENTINEL_DEFAULTS,
    },
    network: { latencyMs: workload.latencyMs },
    faults: [],
    expect: [],
  });
  const alone = await runScenario({ scenario: quiet(1), system, fencing: false, seed });
  const rounds = roundTrips(alone.history);
  const contended = await runScenario({ scenario: quiet(workload.clients), system, fencing: false, seed });
  const grants = contended.result.metrics?.acquisitions ?? 0;
  return {
    system,
    source: 'sim',
    uncontendedMs: percentiles(rounds),
    uncontendedRounds: rounds.length,
    contendedClients: workload.clients,
    contendedAcquisitionsPerSec: round((grants * 1000) / workload.durationMs, 1),
  };
}

/** Per round of one client: acquire invoke to ok, plus release invoke to ok. */
function roundTrips(ops: readonly Op[]): number[] {
  const out: number[] = [];
  let acquireStart: number | null = null;
  let acquireMs: number | null = null;
  let releaseStart: number | null = null;
  for (const op of ops) {
    if (op.f === 'acquire' && op.type === 'invoke') acquireStart = op.timeMs;
    else if (op.f === 'acquire' && op.type === 'ok' && acquireStart !== null) acquireMs = op.timeMs - acquireStart;
    else if (op.f === 'release' && op.type === 'invoke') releaseStart = op.timeMs;
    else if (op.f === 'release' && op.type === 'ok' && releaseStart !== null && acquireMs !== null) {
      out.push(acquireMs + op.timeMs - releaseStart);
      acquireMs = null;
    }
  }
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
