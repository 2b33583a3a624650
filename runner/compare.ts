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
 *
 * A subject (a lock library run unmodified on its system's servers, see subjects/) gets cells of
 * its own beside the systems', and faces exactly the schedules its system faces: each fitted to
 * that system, with the same seed. Where the subject cannot run at all (fenced, without a token)
 * every schedule of the cell is not applicable, with that reason, and none is counted as safe.
 */
import fc from 'fast-check';
import { systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import { SENTINEL_DEFAULTS } from '../backends/system.ts';
import type { Op } from './history.ts';
import { percentiles, type Percentiles } from '../checkers/performance.ts';
import type { Scenario } from '../scenarios/schema.ts';
import { subjectFileOf, type NamedSubject } from '../subjects/index.ts';
import { whyNotSim } from '../subjects/sim.ts';
import { fitSchedule, scheduleArbitrary, wilson, type CampaignWorkload, type Fitted } from './campaign.ts';
import { candidates } from './check.ts';
import { runScenario, type Verdict } from './run.ts';
import type { RunRequest, RunSummary } from './run-summary.ts';
import { inShard, type Shard } from './shard.ts';

export interface CompareOptions {
  readonly schedules: number;
  readonly seed: number;
  readonly systems: readonly SystemId[];
  /** Subjects run beside the systems, each on its system's fitted schedules; their systems must be among `systems`. */
  readonly subjects?: readonly NamedSubject[];
  readonly workload: CampaignWorkload;
  /** Run a batch; the pool's, or one by one on this thread. */
  readonly summaries: (requests: readonly RunRequest[]) => Promise<RunSummary[]>;
  /** Most runs a cell's shrink may try. */
  readonly shrinkBudget?: number;
  /**
   * Run only this shard's schedules (runner/shard.ts). Its cells count its share; each cell's
   * counterexample is its share's first unsafe schedule, and the merge keeps the earliest.
   */
  readonly shard?: Shard | null;
  readonly onProgress?: (runsDone: number, runsPlanned: number) => void;
}

/** Which lock a cell, counterexample or speed row measured: a system's own recipe, or a subject on its servers. */
export interface CompareTarget {
  /** The system whose servers it ran on (and whose recipe, when there is no subject). */
  readonly system: SystemId;
  /** The subject's name; absent for the system's own recipe. */
  readonly subject?: string;
  /** A subject loaded from a file: the file, as given to --subject (what a replay names). */
  readonly subjectFile?: string;
}

export interface CompareCell extends CompareTarget {
  readonly fencing: 'off' | 'on';
  /**
   * Whether the fencing token is sound; RedLock's is not, whatever its runs show. A subject's is
   * taken as no sounder than its system's, whose servers keep it, and is not sound without one.
   */
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

export interface CompareCounterexample extends CompareTarget {
  readonly fencing: 'off' | 'on';
  readonly schedule: number;
  readonly shrinks: number;
  /** The shrunk schedule, fitted to the system: a scenario file that replays it. */
  readonly scenario: Scenario;
  readonly summary: RunSummary;
}

export interface SpeedRow {
  readonly system: SystemId;
  /** The subject's name; absent for the system's own recipe. */
  readonly subject?: string;
  readonly source: 'sim';
  /** One client, no faults: acquire invoke to ok plus release invoke to ok, per round. */
  readonly uncontendedMs: Percentiles | null;
  readonly uncontendedRounds: number;
  /** The campaign's clients, no faults: grants per second. */
  readonly contendedClients: number;
  readonly contendedAcquisitionsPerSec: number;
}

/**
 * What one run of the campaign added to its cell, in the order the cell counted it: enough for a
 * merge of shards to count the cells again, exactly as one process would have.
 */
export type CellRecord =
  | { readonly cell: string; readonly schedule: number; readonly notApplicable: string }
  | {
      readonly cell: string;
      readonly schedule: number;
      readonly summary: Omit<RunSummary, 'traceHash'>;
    };

export interface CompareOutcome {
  readonly schedules: readonly Scenario[];
  /** Every run and not-applicable schedule of the campaign (of the shard's share), cell by cell in schedule order. */
  readonly records: readonly CellRecord[];
  /** Each run's verdict, by `${subject ?? system}/${off|on}` (see key), in schedule order; null where the schedule did not apply. */
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

/** One column of the campaign: a system's own recipe or a subject on its servers, fenced or not. */
interface Variant {
  readonly system: SystemId;
  readonly subject: NamedSubject | null;
  readonly fencing: boolean;
  /** Why no schedule can run in this column (a subject without a token, fenced), or null. */
  readonly whyNot: string | null;
}

export async function compare(options: CompareOptions): Promise<CompareOutcome> {
  const { workload, seed, systems } = options;
  const arbitrary = scheduleArbitrary(workload);
  const schedules = [...candidates(arbitrary, seed, options.schedules)];
  const variants = variantsOf(systems, options.subjects ?? []);
  const tallies = new Map(variants.map((v) => [variantKey(v), emptyTally()]));
  const verdicts = new Map(
    variants.map((v) => [variantKey(v), new Array<Verdict | null>(schedules.length).fill(null)]),
  );
  const share = schedules.flatMap((_, i) => (inShard(i, options.shard ?? null) ? [i] : []));
  const planned = share.length * variants.length;
  const records: CellRecord[] = [];
  let done = 0;
  for (let start = 0; start < share.length; start += SCHEDULES_PER_BATCH) {
    const requests: RunRequest[] = [];
    const ran: { variant: Variant; schedule: number }[] = [];
    for (const index of share.slice(start, start + SCHEDULES_PER_BATCH)) {
      const schedule = schedules[index];
      if (schedule === undefined) throw new Error(`compare: no schedule ${index}`);
      for (const variant of variants) {
        const fitted: Fitted =
          variant.whyNot === null
            ? fitSchedule(schedule, variant.system, variant.fencing)
            : { scenario: null, notApplicable: variant.whyNot };
        if (fitted.scenario === null) {
          const record = { cell: variantKey(variant), schedule: index, notApplicable: fitted.notApplicable };
          count(tallyOf(tallies, variant), record);
          records.push(record);
          done++;
        } else {
          requests.push(requestOf(variant, fitted.scenario, seed));
          ran.push({ variant, schedule: index });
        }
      }
    }
    const summaries = await options.summaries(requests);
    ran.forEach(({ variant, schedule }, i) => {
      const summary = summaries[i];
      if (summary === undefined) throw new Error('compare: a run came back without its summary');
      // eslint-disable-next-line @typescript-eslint/no-unused-vars -- a trace hash adds nothing to a cell
      const { traceHash: _, ...counted } = summary;
      const record = { cell: variantKey(variant), schedule, summary: counted };
      count(tallyOf(tallies, variant), record);
      records.push(record);
      const column = verdicts.get(variantKey(variant));
      if (column !== undefined) column[schedule] = summary.verdict;
    });
    done += requests.length;
    options.onProgress?.(done, planned);
  }
  const cells = variants.map((v) => cellOf(v, tallyOf(tallies, v)));
  const counterexamples = await Promise.all(
    variants.flatMap((variant, i) => {
      const firstUnsafe = cells[i]?.firstUnsafe ?? null;
      return firstUnsafe === null ? [] : [shrink(variant, firstUnsafe, options)];
    }),
  );
  const speed = await Promise.all(
    variants.filter((v) => !v.fencing && v.whyNot === null).map((v) => speedOf(v.system, v.subject, workload, seed)),
  );
  return { schedules, records, verdicts, cells, counterexamples, speed };
}

/**
 * The campaign's columns: each system, then the subjects that run on its servers, each fenced and
 * unfenced. A subject whose system the campaign leaves out would have no schedules fitted to it.
 */
function variantsOf(systems: readonly SystemId[], subjects: readonly NamedSubject[]): Variant[] {
  for (const { definition } of subjects)
    if (!systems.includes(definition.system))
      throw new Error(
        `compare: subject ${definition.name} runs on ${definition.system}, which the campaign leaves out`,
      );
  return systems.flatMap((system) =>
    [null, ...subjects.filter((s) => s.definition.system === system)].flatMap((subject) =>
      [false, true].map((fencing) => ({
        system,
        subject,
        fencing,
        whyNot: subject === null ? null : whyNotSim(subject.definition, fencing, 'mutex'),
      })),
    ),
  );
}

function requestOf(variant: Variant, scenario: Scenario, seed: number): RunRequest {
  const { system, fencing, subject } = variant;
  return { scenario, seed, system, fencing, ...(subject === null ? {} : { subject: subject.ref }) };
}

/** What a cell, counterexample or speed row names: the system, and the subject if there is one. */
function targetOf(system: SystemId, subject: NamedSubject | null): CompareTarget {
  if (subject === null) return { system };
  return { system, subject: subject.definition.name, ...subjectFileOf(subject.ref) };
}

/** The unsafe fraction of `runs` and its 95% Wilson interval, as compare.json holds them (four decimals). */
export function fractionOf(
  unsafe: number,
  runs: number,
): { unsafeFraction: number | null; interval: [number, number] } {
  const [low, high] = wilson(unsafe, runs);
  return { unsafeFraction: runs === 0 ? null : round(unsafe / runs, 4), interval: [round(low, 4), round(high, 4)] };
}

/** A column's key: `${subject ?? system}/${off|on}` (a subject's name is never a system's). */
export function key(label: string, fencing: boolean): string {
  return `${label}/${fencing ? 'on' : 'off'}`;
}

function variantKey(variant: Variant): string {
  return key(variant.subject?.definition.name ?? variant.system, variant.fencing);
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

function tallyOf(tallies: Map<string, Tally>, variant: Variant): Tally {
  const tally = tallies.get(variantKey(variant));
  if (tally === undefined) throw new Error(`compare: no tally for ${variantKey(variant)}`);
  return tally;
}

/** Count one record into its cell's tally; records of a cell must come in schedule order. */
function count(tally: Tally, record: CellRecord): void {
  if ('notApplicable' in record) {
    const reasons = tally.notApplicable;
    reasons.set(record.notApplicable, (reasons.get(record.notApplicable) ?? 0) + 1);
    return;
  }
  const { summary, schedule } = record;
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

function cellOf(variant: Variant, t: Tally): CompareCell {
  const { system, subject, fencing } = variant;
  const systemSound = systemModule(system).fencing === 'sound';
  return {
    ...targetOf(system, subject),
    fencing: fencing ? 'on' : 'off',
    fencingSound: subject === null ? systemSound : systemSound && subject.definition.tokens === true,
    ...countedFields(t),
  };
}

/** What a cell counted: every field of a cell but the lock it measured. */
export type CellCounts = Omit<CompareCell, keyof CompareTarget | 'fencing' | 'fencingSound'>;

/**
 * A cell's counts again from its records (the records of every shard of a campaign, any order):
 * the same numbers one process counting the whole campaign gives.
 */
export function countRecords(records: readonly CellRecord[]): CellCounts {
  const tally = emptyTally();
  for (const record of [...records].sort((a, b) => a.schedule - b.schedule)) count(tally, record);
  return countedFields(tally);
}

function countedFields(t: Tally): CellCounts {
  const per1000 = (n: number) => (t.ackedWrites === 0 ? null : round((n * 1000) / t.ackedWrites, 2));
  const takeover = percentiles(t.takeoverMs);
  return {
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

/** Shrink a column's first unsafe schedule, replayed from its place in the campaign's stream. */
async function shrink(variant: Variant, index: number, options: CompareOptions): Promise<CompareCounterexample> {
  const { system, subject, fencing } = variant;
  let budget = options.shrinkBudget ?? DEFAULT_SHRINK_BUDGET;
  // Once the budget is spent every further candidate passes, so fast-check stops where it got to.
  const property = fc.asyncProperty(scheduleArbitrary(options.workload), async (schedule) => {
    const fitted = fitSchedule(schedule, system, fencing);
    if (fitted.scenario === null || budget-- <= 0) return true;
    const [summary] = await options.summaries([requestOf(variant, fitted.scenario, options.seed)]);
    return summary?.verdict !== 'unsafe';
  });
  const details = await fc.check(property, { seed: options.seed, path: String(index), numRuns: options.schedules });
  const schedule = details.counterexample?.[0];
  const fitted = schedule === undefined ? null : fitSchedule(schedule, system, fencing).scenario;
  const on = fencing ? 'on' : 'off';
  if (!details.failed || fitted == null)
    throw new Error(
      `compare: schedule ${index + 1} was unsafe on ${subject?.definition.name ?? system} (fencing ${on}) in the campaign but not when replayed: the campaign is not deterministic`,
    );
  const [summary] = await options.summaries([requestOf(variant, fitted, options.seed)]);
  if (summary === undefined) throw new Error('compare: the counterexample came back without its summary');
  return {
    ...targetOf(system, subject),
    fencing: on,
    schedule: index,
    shrinks: details.numShrinks,
    scenario: fitted,
    summary,
  };
}

/**
 * Speed as speed: one client alone (latency), then the campaign's clients contending (throughput),
 * no faults. A subject's is measured the same way, on its system's servers.
 */
async function speedOf(
  system: SystemId,
  subject: NamedSubject | null,
  workload: CampaignWorkload,
  seed: number,
): Promise<SpeedRow> {
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
  const ref = subject === null ? {} : { subject: subject.ref };
  const alone = await runScenario({ scenario: quiet(1), system, fencing: false, seed, ...ref });
  const rounds = roundTrips(alone.history);
  const contended = await runScenario({ scenario: quiet(workload.clients), system, fencing: false, seed, ...ref });
  const grants = contended.result.metrics?.acquisitions ?? 0;
  return {
    system,
    ...(subject === null ? {} : { subject: subject.definition.name }),
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
