/**
 * Property-based search for unsafe runs: `lockstep check`'s engine.
 *
 * The property: a system (fenced or not) never produces an unsafe run. Candidate scenarios come
 * from fast-check, in order, from one seed. They are judged in batches (serially, or in parallel
 * when the caller supplies a parallel judge); the first unsafe one in that order is then handed
 * back to fast-check, by its path, to shrink. Because the order, the first failure and the
 * shrinking depend only on the seed, the answer is the same however many workers judged.
 */
import fc from 'fast-check';
import { systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import type { Scenario } from '../scenarios/schema.ts';
import type { Op, RegisterWrite } from './history.ts';
import { runScenario, type RunResult } from './run.ts';
import { scenarioArbitrary, type SearchSpace } from './search.ts';
import { inShard, shareSize, type Shard } from './shard.ts';
import { topologyOf } from './topology.ts';

export interface CheckOptions {
  readonly system: SystemId;
  readonly fencing: boolean;
  /** A subject to check instead of the system's recipe, on the system's servers (a built-in name or a file). */
  readonly subject?: string | null;
  /**
   * With a subject: look only for schedules where the subject is unsafe and the system's own
   * recipe, run on the same schedule and seed, is safe: the subject's own bugs, not the ones
   * every lock of its kind has.
   */
  readonly differential?: boolean;
  readonly runs: number;
  readonly seed: number;
  readonly durationMs: number;
  readonly swarm: boolean;
  /** Judge candidates: true where the run was unsafe. Defaults to judging them one by one here. */
  readonly judge?: (
    scenarios: readonly Scenario[],
    seed: number,
    system: SystemId,
    fencing: boolean,
    subject: string | null,
  ) => Promise<boolean[]>;
  readonly batchSize?: number;
  /**
   * Judge only this shard's candidates (runner/shard.ts). The shard's answer is its first unsafe
   * candidate, shrunk; across shards the one with the lowest candidate is the unsharded answer.
   */
  readonly shard?: Shard | null;
  readonly onProgress?: (event: CheckProgress) => void;
}

export type CheckProgress =
  | { readonly phase: 'search'; readonly tried: number; readonly total: number }
  | { readonly phase: 'shrink'; readonly shrinks: number };

export interface Counterexample {
  /** Position of the first unsafe candidate in the search order. */
  readonly index: number;
  readonly shrinks: number;
  readonly scenario: Scenario;
  readonly result: RunResult;
  /** The shrunk run's history, for its run directory. */
  readonly history: readonly Op[];
  readonly writes: readonly RegisterWrite[];
}

export interface CheckOutcome {
  readonly tried: number;
  readonly counterexample: Counterexample | null;
}

export function searchSpace(
  options: Pick<CheckOptions, 'system' | 'fencing' | 'durationMs' | 'swarm' | 'subject'>,
): SearchSpace {
  const system = systemModule(options.system);
  const topology = topologyOf(system, { ttlMs: 1000, fencing: options.fencing, acquireTimeoutMs: 1, name: 'x' });
  const { subject, ...space } = options;
  return { ...space, ...topology, diskless: system.diskless === true, acquiring: subject != null };
}

/** Judge one candidate: is its run unsafe? */
export async function isUnsafe(
  scenario: Scenario,
  seed: number,
  system: SystemId,
  fencing: boolean,
  subject: string | null = null,
): Promise<boolean> {
  const { result } = await runScenario({ scenario, system, fencing, seed, subject });
  return result.verdict === 'unsafe';
}

async function judgeSerially(
  scenarios: readonly Scenario[],
  seed: number,
  system: SystemId,
  fencing: boolean,
  subject: string | null,
): Promise<boolean[]> {
  const out: boolean[] = [];
  for (const scenario of scenarios) out.push(await isUnsafe(scenario, seed, system, fencing, subject));
  return out;
}

/** Candidates drawn at a time: each draw first skips past the ones before it, so a larger chunk skips less often. */
export const CANDIDATE_CHUNK = 1000;

/**
 * The first `runs` candidates of a search, in fast-check's order, drawn a chunk at a time rather
 * than all before the first is judged: a search of a million runs holds one chunk of scenarios.
 * A draw from `path` is the same stream fc.sample draws from, skipped ahead, and the same one
 * fast-check replays the first failure from, so the values, and the answer, do not change.
 */
/** The candidates of `shard`, each with its position in the whole search. */
function* ofShard<T>(source: Iterable<T>, shard: Shard | null): Generator<{ index: number; value: T }> {
  let index = 0;
  for (const value of source) {
    if (inShard(index, shard)) yield { index, value };
    index++;
  }
}

export function* candidates<T>(
  arbitrary: fc.Arbitrary<T>,
  seed: number,
  runs: number,
  chunk = CANDIDATE_CHUNK,
): Generator<T> {
  for (let start = 0; start < runs; start += chunk) {
    yield* fc.sample(arbitrary, { seed, numRuns: Math.min(chunk, runs - start), path: String(start) });
  }
}

function take<T>(source: Iterator<T>, n: number): T[] {
  const out: T[] = [];
  for (let next = source.next(); !next.done; next = source.next()) {
    out.push(next.value);
    if (out.length === n) break;
  }
  return out;
}

export async function check(options: CheckOptions): Promise<CheckOutcome> {
  const { system, fencing, seed, runs } = options;
  const subject = options.subject ?? null;
  const arbitrary = scenarioArbitrary(searchSpace(options));
  const source = ofShard(candidates(arbitrary, seed, runs), options.shard ?? null);
  const judge = options.judge ?? judgeSerially;
  const batchSize = options.batchSize ?? 1;
  let first = -1;
  let tried = 0;
  const differential = options.differential === true && subject !== null;
  /** A subject's unsafe run counts, in a differential check, only where the recipe is safe. */
  const beyondRecipe = async (scenario: Scenario): Promise<boolean> =>
    !differential || !(await isUnsafe(scenario, seed, system, fencing));
  while (first < 0 && tried < runs) {
    const batch = take(source, batchSize);
    if (batch.length === 0) break;
    const verdicts = await judge(
      batch.map((c) => c.value),
      seed,
      system,
      fencing,
      subject,
    );
    for (let i = 0; i < batch.length; i++) {
      const scenario = batch[i]?.value;
      if (verdicts[i] === true && scenario !== undefined && !(await beyondRecipe(scenario))) verdicts[i] = false;
      if (verdicts[i] === true) break;
    }
    const hit = verdicts.indexOf(true);
    if (hit >= 0) first = batch[hit]?.index ?? -1;
    tried += hit >= 0 ? hit + 1 : batch.length;
    options.onProgress?.({ phase: 'search', tried, total: shareSize(runs, options.shard ?? null) });
  }
  if (first < 0) return { tried, counterexample: null };

  let shrinks = 0;
  const property = fc.asyncProperty(arbitrary, async (scenario) => {
    const unsafe = (await isUnsafe(scenario, seed, system, fencing, subject)) && (await beyondRecipe(scenario));
    return !unsafe;
  });
  const details = await fc.check(property, {
    seed,
    path: String(first),
    numRuns: runs,
    reporter: (run) => {
      shrinks = run.numShrinks;
      options.onProgress?.({ phase: 'shrink', shrinks });
    },
  });
  if (!details.failed || details.counterexample === null) {
    throw new Error(
      `candidate ${first} was unsafe when searched but not when fast-check replayed it: the search is not deterministic`,
    );
  }
  const scenario = details.counterexample[0];
  const { result, history, writes } = await runScenario({ scenario, system, fencing, seed, subject });
  return { tried, counterexample: { index: first, shrinks: details.numShrinks, scenario, result, history, writes } };
}
