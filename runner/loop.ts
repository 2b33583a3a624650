/**
 * The run loop: a scenario, against one system, fenced or not, from one seed, in any World. It
 * checks that the faults can apply, casts who is who, starts the workload, plans the faults on the
 * world's verbs, runs for the scenario's duration, heals everything, gives the clients a grace
 * period, and judges the history. The result has the shape of a `runs[]` entry of results.json,
 * less the wall time, which only the command line may read.
 */
import { SubjectCrash } from '../subjects/define.ts';
import { checkMutex } from '../checkers/mutex.ts';
import { electionTiming } from '../checkers/election.ts';
import { performance } from '../checkers/performance.ts';
import { systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import type { Scenario } from '../scenarios/schema.ts';
import { BudgetExceededError, SchedulingError } from '../sim/errors.ts';
import { Rng } from '../sim/rng.ts';
import { type Cast } from '../faults/kind.ts';
import { planFaults, whyNot } from '../faults/plan.ts';
import { holderOf, NEMESIS, type Op, type RegisterWrite } from './history.ts';
import type { RunMetrics, RunOutput, RunResult, RunSpec, Verdict } from './run.ts';
import type { World } from './world.ts';
import { selectorsOf } from '../faults/index.ts';
import { maxMs, type DurationSpec } from './durations.ts';

export interface WorldOutput<Extra extends object> extends Omit<RunOutput, 'result'> {
  readonly result: RunResult & Extra;
}

/** How long after the end of the run, with every fault healed, clients get to finish their round. */
export function graceMs(ttlMs: number, holdMs: DurationSpec): number {
  return 3 * ttlMs + 2 * maxMs(holdMs) + 1000;
}

/**
 * Most events any one run may fire, however long it is. A run's memory (its history, the
 * servers' logs) and wall time grow with its events: measured at this cap, the busiest systems
 * (64 clients that never hold or think, on a near-zero-latency network) peak under 2 GB and take
 * under two minutes. A run that needs more ends `unknown`, saying so.
 */
export const MAX_RUN_EVENTS = 2_000_000;

/**
 * Runs take a few hundred events per simulated second (the busiest library run, etcd's, about
 * 400); fifty times that, plus a base, bounds a run that spins without letting time pass, and
 * MAX_RUN_EVENTS bounds a long one that does not.
 */
export function eventBudget(simulatedMs: number): number {
  return Math.min(MAX_RUN_EVENTS, 200_000 + Math.ceil(simulatedMs * 20));
}

/** Run `spec`'s scenario in `world`, and judge it. */
export async function runWorld<Extra extends object>(
  spec: Omit<RunSpec, 'trace'>,
  world: World<Extra>,
): Promise<WorldOutput<Extra>> {
  const { scenario, fencing, seed } = spec;
  const system = systemModule(spec.system);
  const expected = world.expectationsApply ? expectationOf(scenario, spec.system, fencing) : null;
  const base = {
    scenario: scenario.name,
    system: spec.system,
    fencing,
    seed,
    mode: world.mode,
    expected,
    fencingSound: system.fencing === 'sound',
    ttlMs: scenario.lock.ttlMs,
    ...world.resultFields(),
  };
  const topology = {
    servers: world.servers.length,
    hasLeader: system.leader !== undefined || world.servers.length === 1,
    sentinels: world.sentinels.length,
  };
  const skipped = whyNot(scenario.faults, topology) ?? world.whyNot();
  if (skipped !== null) return unjudged(base, 'skipped', skipped, []);
  if (scenario.workload === 'election' && scenario.faults.some((f) => selectorsOf(f).includes('leader')))
    world.notes.push(
      "selector leader names the servers' leader (a server), not the elected client: `elected` names the client",
    );
  try {
    const plan = () => planFaults(scenario.faults, world.target, castOf(world, seed), world.notes, nemesisLog(world));
    await drive(world, plan, scenario.durationMs, graceMs(scenario.lock.ttlMs, scenario.lock.holdMs));
  } catch (error) {
    // A run that spins or cannot settle, or whose subject crashed its process, has no verdict; it
    // says why rather than failing the whole invocation.
    if (!(error instanceof BudgetExceededError || error instanceof SchedulingError || error instanceof SubjectCrash))
      throw error;
    return unjudged(base, 'unknown', null, [...world.notes, error.message]);
  } finally {
    await world.close();
  }
  const ops = world.history.ops;
  const judged = judge(scenario, ops, world.register);
  const unknown = world.whyUnknown(judged.metrics);
  const verdict: Verdict = unknown.length > 0 ? 'unknown' : judged.verdict;
  world.notes.push(...unknown);
  const broken = expected === null ? [] : brokenBounds(scenario, spec.system, fencing, judged.metrics);
  world.notes.push(...broken);
  const result = {
    ...base,
    ...world.resultFields(),
    verdict,
    skipped: null,
    metrics: judged.metrics,
    expectationMet: expected === null ? null : expected === verdict && broken.length === 0,
    ...world.measured(),
    notes: world.notes,
  };
  return { result, history: ops, writes: world.register.writes, sim: world.sim };
}

/**
 * The steps of every run, in every world: start, plan the faults, run, heal everything, grace.
 * The order is part of a simulated run's schedule: change it and every trace hash changes.
 */
export async function drive(world: World, plan: () => void, durationMs: number, graceMs: number): Promise<void> {
  await world.start();
  plan();
  await world.run(durationMs);
  await world.healAll();
  await world.grace(graceMs);
}

/** The checkers' verdict on a history, and the metrics results.json carries: the same for sim and live runs. */
export function judge(
  scenario: Scenario,
  ops: readonly Op[],
  register: { readonly writes: readonly RegisterWrite[]; readonly value: number },
): { verdict: 'safe' | 'unsafe'; metrics: RunMetrics } {
  const safety = checkMutex(ops, register.writes, register.value);
  const timing = scenario.workload === 'election' ? electionTiming(ops, scenario.durationMs) : null;
  const metrics: RunMetrics = {
    lostUpdates: safety.lostUpdates,
    staleWritesAccepted: safety.staleWritesAccepted,
    staleWritesRejected: safety.staleWritesRejected,
    overlaps: safety.overlaps,
    acknowledgedWrites: ops.filter((op) => op.f === 'write' && op.type === 'ok').length,
    ...performance(ops, scenario.durationMs),
    ...(timing === null
      ? {}
      : {
          leaderOverlapMs: round(timing.leaderOverlapMs),
          leaderlessMs: round(timing.leaderlessMs),
          failoverMs: timing.failoverMs.map(round),
        }),
  };
  return { verdict: safety.verdict, metrics };
}

/** The expectation a scenario sets for this system, fenced or not; null when it sets none. */
export function expectationOf(scenario: Scenario, system: SystemId, fencing: boolean): 'safe' | 'unsafe' | null {
  return scenario.expect.find((e) => e.system === system && (e.fencing === 'on') === fencing)?.verdict ?? null;
}

/** Each bound of the scenario's expectation for this system that the run broke, in words. */
export function brokenBounds(scenario: Scenario, system: SystemId, fencing: boolean, metrics: RunMetrics): string[] {
  const bounds = scenario.expect.find((e) => e.system === system && (e.fencing === 'on') === fencing)?.bounds;
  if (bounds === undefined) return [];
  const out: string[] = [];
  const acked = metrics.acknowledgedWrites ?? 0;
  const lostFraction = acked === 0 ? 0 : metrics.lostUpdates / acked;
  if (bounds.lostFraction !== undefined && lostFraction > bounds.lostFraction)
    out.push(`bound broken: lostFraction ${round(lostFraction * 1000) / 1000} > ${bounds.lostFraction}`);
  if (bounds.unavailableMs !== undefined && metrics.unavailableMs > bounds.unavailableMs)
    out.push(`bound broken: unavailableMs ${metrics.unavailableMs} > ${bounds.unavailableMs}`);
  const worst = (xs: readonly number[] | undefined) => (xs === undefined || xs.length === 0 ? null : Math.max(...xs));
  const takeover = worst(metrics.takeoverMs);
  if (bounds.takeoverMs !== undefined && takeover !== null && takeover > bounds.takeoverMs)
    out.push(`bound broken: takeoverMs ${takeover} > ${bounds.takeoverMs}`);
  const failover = worst(metrics.failoverMs);
  if (bounds.failoverMs !== undefined && failover !== null && failover > bounds.failoverMs)
    out.push(`bound broken: failoverMs ${failover} > ${bounds.failoverMs}`);
  return out;
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

type Base = Pick<
  RunResult,
  'scenario' | 'system' | 'fencing' | 'seed' | 'mode' | 'expected' | 'fencingSound' | 'ttlMs'
>;

/** A run that has no verdict (skipped, or unknown): nothing measured, and an expectation of it is not met. */
function unjudged<Extra extends object>(
  base: Base & Extra,
  verdict: Verdict,
  skipped: string | null,
  notes: readonly string[],
): WorldOutput<Extra> {
  return {
    result: {
      ...base,
      verdict,
      skipped,
      notes,
      metrics: null,
      expectationMet: base.expected === null ? null : false,
      simulatedMs: 0,
      events: 0,
      traceHash: null,
    },
    history: [],
    writes: [],
    sim: null,
  };
}

/** Who is who, as the fault selectors see it; `pick` draws from the run's own 'faults' stream. */
function castOf(world: World, seed: number): Cast {
  const rng = Rng.root(seed).fork('faults');
  return {
    servers: world.servers,
    clients: world.clients,
    sentinels: world.sentinels,
    nodes: world.nodes,
    holder: () => holderOf(world.history),
    leader: () => world.leader(),
    pick: (items) => rng.pick(items),
    afterGrant: (nth, who, fire) => world.afterGrant(nth, who, () => fire()),
    afterAttempt: (nth, who, fire) => world.afterAttempt(nth, who, () => fire()),
    afterWriting: (nth, who, fire) => world.afterWriting(nth, who, () => fire()),
  };
}

/** Every fault's start and heal, as the nemesis's operations in the history: reports draw fault windows from them. */
function nemesisLog(world: World) {
  return (phase: 'start' | 'end', index: number, what: string) =>
    world.history.record(NEMESIS, 'info', phase === 'start' ? 'fault-start' : 'fault-end', {
      value: index,
      detail: what,
    });
}
