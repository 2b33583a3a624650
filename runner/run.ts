/**
 * One run: a scenario, against one system, fenced or not, from one seed: what a run's result
 * holds, and the simulator's entry point. The steps of a run are the loop's (loop.ts).
 */
import { systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import type { Percentiles } from '../checkers/performance.ts';
import type { Scenario } from '../scenarios/schema.ts';
import type { Sim } from '../sim/sim.ts';
import type { TraceOptions } from '../sim/trace.ts';
import type { Op, RegisterWrite } from './history.ts';
import { eventBudget, graceMs, runWorld } from './loop.ts';
import { SimWorld } from './sim-world.ts';
import { loadSubject, subjectFileOf } from '../subjects/index.ts';

export type Verdict = 'safe' | 'unsafe' | 'skipped' | 'unknown';

export interface RunMetrics {
  readonly lostUpdates: number;
  readonly staleWritesAccepted: number;
  readonly staleWritesRejected: number;
  readonly overlaps: number;
  /** Writes the register acknowledged to a client: what lost updates are a fraction of (Jepsen's measure). */
  readonly acknowledgedWrites?: number;
  readonly acquisitions: number;
  readonly acquireFailures: number;
  readonly acquireLatencyMs: Percentiles | null;
  readonly unavailableMs: number;
  readonly takeoverMs?: readonly number[];
  readonly leaderOverlapMs?: number;
  readonly leaderlessMs?: number;
  readonly failoverMs?: readonly number[];
}

export interface RunResult {
  readonly scenario: string;
  readonly system: SystemId;
  readonly fencing: boolean;
  readonly seed: number;
  readonly mode: 'sim' | 'live';
  readonly verdict: Verdict;
  readonly skipped: string | null;
  readonly metrics: RunMetrics | null;
  readonly expected: 'safe' | 'unsafe' | null;
  readonly expectationMet: boolean | null;
  /** Whether this system's fencing token is sound; RedLock's is not, whatever the run shows. */
  readonly fencingSound: boolean;
  readonly simulatedMs: number;
  /** The scenario's lease length: TTL, session timeout or lease TTL, as the clients were configured. */
  readonly ttlMs: number;
  readonly events: number;
  readonly traceHash: string | null;
  readonly notes: readonly string[];
}

export interface RunOutput {
  readonly result: RunResult;
  readonly history: readonly Op[];
  readonly writes: readonly RegisterWrite[];
  readonly sim: Sim | null;
}

export interface RunSpec {
  readonly scenario: Scenario;
  readonly system: SystemId;
  readonly fencing: boolean;
  readonly seed: number;
  readonly trace?: TraceOptions;
  /**
   * A subject (a built-in name or a subject file) run instead of the system's own recipe; its
   * system is spec.system.
   */
  readonly subject?: string | null;
}

/** A scenario run in the simulator: the simulator's World, through the one run loop. */
export async function runScenario(spec: RunSpec): Promise<RunOutput> {
  const { scenario } = spec;
  const subject = spec.subject == null ? undefined : await loadSubject(spec.subject);
  const world = new SimWorld({
    system: systemModule(spec.system),
    seed: spec.seed,
    fencing: spec.fencing,
    workload: scenario.workload,
    clients: scenario.clients,
    ttlMs: scenario.lock.ttlMs,
    holdMs: scenario.lock.holdMs,
    thinkMs: scenario.lock.thinkMs,
    careful: scenario.lock.careful,
    etcdMutex: scenario.lock.etcdMutex,
    sentinel: scenario.lock.sentinel,
    latency: { minMs: scenario.network.latencyMs.min, maxMs: scenario.network.latencyMs.max },
    trace: spec.trace,
    eventBudget: eventBudget(scenario.durationMs + graceMs(scenario.lock.ttlMs, scenario.lock.holdMs)),
    ...(subject === undefined ? {} : { subject }),
    ...(spec.subject == null ? {} : subjectFileOf(spec.subject)),
  });
  return runWorld(spec, world);
}
