/**
 * One run: a scenario, against one system, fenced or not, from one seed, in the simulator.
 * Builds the world, schedules the scenario's faults, runs the workload, heals everything, and
 * judges the history. The result has the shape of a `runs[]` entry of results.json, less the wall
 * time, which only the command line may read.
 */
import { checkMutex } from '../checkers/mutex.ts';
import { electionTiming } from '../checkers/election.ts';
import { performance, type Percentiles } from '../checkers/performance.ts';
import { systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import type { SystemModule } from '../backends/system.ts';
import type { Scenario } from '../scenarios/schema.ts';
import { BudgetExceededError, SchedulingError } from '../sim/errors.ts';
import { Rng } from '../sim/rng.ts';
import type { Sim } from '../sim/sim.ts';
import type { TraceOptions } from '../sim/trace.ts';
import { planFaults, whyNot, type Cast, type FaultTarget } from './faults.ts';
import { NEMESIS, type Op, type RegisterWrite } from './history.ts';
import { runSimMutex, type SimWorld } from './sim-harness.ts';

export type Verdict = 'safe' | 'unsafe' | 'skipped' | 'unknown';

export interface RunMetrics {
  readonly lostUpdates: number;
  readonly staleWritesAccepted: number;
  readonly staleWritesRejected: number;
  readonly overlaps: number;
  readonly acquisitions: number;
  readonly acquireFailures: number;
  readonly acquireLatencyMs: Percentiles | null;
  readonly unavailableMs: number;
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
}

export async function runScenario(spec: RunSpec): Promise<RunOutput> {
  const { scenario, fencing, seed } = spec;
  const system = systemModule(spec.system);
  const expected = expectationOf(scenario, spec.system, fencing);
  const base = { scenario: scenario.name, system: spec.system, fencing, seed, mode: 'sim' as const, expected, fencingSound: system.fencing === 'sound' };
  const servers = system.serverCount({ ttlMs: scenario.lock.ttlMs, fencing, acquireTimeoutMs: 1, name: 'x' });
  const skipped = whyNot(scenario.faults, { servers, hasLeader: system.leader !== undefined || servers === 1 });
  if (skipped !== null) {
    return unjudged({ ...base, verdict: 'skipped', skipped, notes: [] });
  }
  const notes: string[] = [];
  let output;
  try {
    output = await runSimMutex({
    system,
    seed,
    fencing,
    workload: scenario.workload,
    clients: scenario.clients,
    durationMs: scenario.durationMs,
    ttlMs: scenario.lock.ttlMs,
    holdMs: scenario.lock.holdMs,
    thinkMs: scenario.lock.thinkMs,
    latency: { minMs: scenario.network.latencyMs.min, maxMs: scenario.network.latencyMs.max },
    trace: spec.trace,
    faults: (sim, world) =>
      planFaults(scenario.faults, simTarget(sim), cast(sim, world, system, seed), notes, (phase, index, what) =>
        world.history.record(NEMESIS, 'info', phase === 'start' ? 'fault-start' : 'fault-end', { value: index, detail: what }),
      ),
    });
  } catch (error) {
    // A run that spins or cannot settle has no verdict; it says why rather than failing the whole invocation.
    if (!(error instanceof BudgetExceededError || error instanceof SchedulingError)) throw error;
    return unjudged({ ...base, verdict: 'unknown', skipped: null, notes: [...notes, error.message] });
  }
  const ops = output.history.ops;
  const { verdict, metrics } = judge(scenario, ops, output.register);
  const summary = output.sim.summary();
  const result: RunResult = {
    ...base,
    verdict,
    skipped: null,
    metrics,
    expectationMet: expected === null ? null : expected === verdict,
    simulatedMs: round(summary.nowMs),
    events: summary.events,
    traceHash: summary.traceHash,
    notes,
  };
  return { result, history: ops, writes: output.register.writes, sim: output.sim };
}

/** The checkers' verdict on a history, and the metrics results.json carries: the same for sim and live runs. */
export function judge(scenario: Scenario, ops: readonly Op[], register: { readonly writes: readonly RegisterWrite[]; readonly value: number }): { verdict: 'safe' | 'unsafe'; metrics: RunMetrics } {
  const safety = checkMutex(ops, register.writes, register.value);
  const timing = scenario.workload === 'election' ? electionTiming(ops, scenario.durationMs) : null;
  const metrics: RunMetrics = {
    lostUpdates: safety.lostUpdates,
    staleWritesAccepted: safety.staleWritesAccepted,
    staleWritesRejected: safety.staleWritesRejected,
    overlaps: safety.overlaps,
    ...performance(ops, scenario.durationMs),
    ...(timing === null ? {} : { leaderOverlapMs: round(timing.leaderOverlapMs), leaderlessMs: round(timing.leaderlessMs), failoverMs: timing.failoverMs.map(round) }),
  };
  return { verdict: safety.verdict, metrics };
}

/** The expectation a scenario sets for this system, fenced or not; null when it sets none. */
export function expectationOf(scenario: Scenario, system: SystemId, fencing: boolean): 'safe' | 'unsafe' | null {
  return scenario.expect.find((e) => e.system === system && (e.fencing === 'on') === fencing)?.verdict ?? null;
}

/** A run that has no verdict (skipped, or unknown): nothing measured, and an expectation of it is not met. */
export function unjudged(result: Pick<RunResult, 'scenario' | 'system' | 'fencing' | 'seed' | 'mode' | 'expected' | 'fencingSound' | 'verdict' | 'skipped' | 'notes'>): RunOutput {
  return {
    result: { ...result, metrics: null, expectationMet: result.expected === null ? null : false, simulatedMs: 0, events: 0, traceHash: null },
    history: [],
    writes: [],
    sim: null,
  };
}

function simTarget(sim: Sim): FaultTarget {
  return {
    get nowMs() {
      return sim.nowMs;
    },
    pause: (node) => sim.pause(node),
    resume: (node) => sim.resume(node),
    crash: (node) => sim.crash(node),
    restart: (node, persist) => sim.restart(node, { persist }),
    isCrashed: (node) => sim.node(node).crashed,
    isPaused: (node) => sim.node(node).paused,
    partition: (from, to, mode) => sim.network.partition(from, to, mode),
    heal: (from, to) => sim.network.heal(from, to),
    delay: (from, to, extraMs) => sim.network.configure(from, to, { extraDelayMs: extraMs }),
    loss: (from, to, probability) => sim.network.configure(from, to, { lossProbability: probability }),
    jumpClock: (node, deltaMs) => sim.jumpClock(node, deltaMs),
    setDrift: (node, driftPpm) => sim.setDrift(node, driftPpm),
    at: (atMs, fire) => void sim.at(Math.max(atMs, sim.nowMs), 'fault', fire),
  };
}

function cast(sim: Sim, world: SimWorld, system: SystemModule, seed: number): Cast {
  const rng = Rng.root(seed).fork('faults');
  return {
    servers: world.servers,
    clients: world.clients,
    nodes: sim.nodeIds,
    holder: () => world.holder(),
    leader: () => {
      if (system.leader !== undefined) return system.leader(world.servers, (id) => sim.host(id));
      return world.servers.length === 1 ? world.servers[0]! : undefined;
    },
    pick: (items) => rng.pick(items),
    afterGrant: (nth, who, fire) => world.afterGrant(nth, who, () => fire()),
  };
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
