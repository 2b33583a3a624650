/**
 * The fault campaign of `lockstep compare`: one seeded space of fault schedules that knows no
 * system, and the rule that fits a schedule to each system. Every system then faces the same
 * schedules, under the same workload and seed, so their unsafe fractions can stand side by side.
 *
 * A schedule names nodes only through selectors that every deployment has: clients (`holder`,
 * `clients`, `c1`, `c2`) and servers (`one`, `servers`, `majority`, `minority`, `leader`). How a
 * selector maps on each shape of system:
 *   one, servers, majority   the server, on a single-server system (a majority of one is that one);
 *   leader                   the node the system cannot do without at that moment: the Raft or Zab
 *                            leader, the server of a single-server system, and on RedLock, whose
 *                            five nodes are peers that all matter alike, one of them (as `one`);
 *   minority                 nobody, on a single-server system: the largest minority of one server
 *                            is no server, so the fault is taken out of that system's schedule (it
 *                            still runs, with the other faults, and the scenario file says so);
 *   restart without disk     only where the system has that choice (Redis runs without persistence
 *                            by default); ZooKeeper, etcd and the databases fsync before they
 *                            answer, so their restarts keep the disk.
 * Durations are drawn on a log scale (logUniform) and every crash restarts. Partitions isolate selected nodes; halves and bridges, which only multi-server systems have,
 * are not drawn. A schedule that still cannot apply is counted as not applicable, with its reason,
 * and never as safe.
 */
import fc from 'fast-check';
import { systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import { selectorsOf, type Fault } from '../faults/index.ts';
import { whyNot } from '../faults/plan.ts';
import { scenarioSchema, type Scenario } from '../scenarios/schema.ts';
import { faultArbitrary } from './search.ts';
import { topologyOf } from './topology.ts';
import { FAULT_KIND_NAMES } from '../faults/index.ts';

/** The workload every system runs in a campaign. */
export interface CampaignWorkload {
  readonly clients: number;
  readonly durationMs: number;
  readonly ttlMs: number;
  readonly holdMs: number;
  readonly thinkMs: number;
  readonly latencyMs: { readonly min: number; readonly max: number };
}

/** Short runs, so that thousands fit in a minute; three clients contend, as in the library. */
export const DEFAULT_WORKLOAD: CampaignWorkload = {
  clients: 3,
  durationMs: 5_000,
  ttlMs: 1000,
  holdMs: 250,
  thinkMs: 50,
  latencyMs: { min: 1, max: 5 },
};

export const CLIENT_SELECTORS = ['holder', 'clients', 'c1', 'c2'] as const;
export const SERVER_SELECTORS = ['one', 'servers', 'majority', 'minority', 'leader'] as const;
const MAX_FAULTS = 3;

/** The schedules: each a scenario whose faults use only the campaign's selectors. */
export function scheduleArbitrary(workload: CampaignWorkload): fc.Arbitrary<Scenario> {
  const draws = {
    who: fc.constantFrom<string>(...CLIENT_SELECTORS, ...SERVER_SELECTORS),
    ttlMs: workload.ttlMs,
    // One server: the kinds then draw no halves or bridges, which a single server cannot take.
    servers: 1,
    diskless: true,
    span: logUniform,
    restarts: true,
  };
  const fault = fc.constantFrom(...FAULT_KIND_NAMES).chain((kind) => faultArbitrary(kind, draws, workload.durationMs));
  return fc.array(fault, { minLength: 1, maxLength: MAX_FAULTS }).map((faults) =>
    scenarioSchema.parse({
      name: 'campaign-schedule',
      description: 'a fault schedule of lockstep compare',
      workload: 'mutex',
      clients: workload.clients,
      durationMs: workload.durationMs,
      lock: { ttlMs: workload.ttlMs, holdMs: workload.holdMs, thinkMs: workload.thinkMs },
      network: { latencyMs: workload.latencyMs },
      faults,
    }),
  );
}

export type Fitted =
  | { readonly scenario: Scenario; readonly notApplicable: null }
  | { readonly scenario: null; readonly notApplicable: string };

/** What a schedule becomes on `system`, fenced or not (see the header), or why it cannot apply. */
export function fitSchedule(schedule: Scenario, system: SystemId, fencing: boolean): Fitted {
  const module = systemModule(system);
  const topology = topologyOf(module, { ttlMs: schedule.lock.ttlMs, fencing, acquireTimeoutMs: 1, name: 'x' });
  const { servers } = topology;
  const diskless = module.diskless === true;
  const dropped: number[] = [];
  const faults: Fault[] = [];
  schedule.faults.forEach((fault, i) => {
    if (servers < 2 && selectorsOf(fault).includes('minority')) dropped.push(i + 1);
    else faults.push(withoutLeader(withDisk(fault, diskless), topology.hasLeader));
  });
  const reason = whyNot(faults, topology);
  if (reason !== null) return { scenario: null, notApplicable: reason };
  const note =
    dropped.length === 0
      ? ''
      : ` Fault(s) ${dropped.join(', ')} of the schedule hit a minority of the servers, which on a single server is nobody.`;
  return {
    scenario: {
      ...schedule,
      systems: [system],
      fencing: fencing ? 'on' : 'off',
      faults,
      description: schedule.description + note,
    },
    notApplicable: null,
  };
}

/**
 * Durations drawn evenly on a log scale, [min, max] in whole ms: a pause of 20 ms is as likely as
 * one of 200 ms or 2 s. Faults in the field span orders of magnitude (a supervised server is back
 * in milliseconds, a GC pause lasts tens of them, a partition seconds), and a uniform draw would
 * almost never come back quickly. Shrinks toward `min`.
 */
export function logUniform(min: number, max: number): fc.Arbitrary<number> {
  const low = Math.max(1, min);
  if (max <= low) return fc.constant(Math.max(min, max));
  return fc
    .integer({ min: 0, max: 1000 })
    .map((u) => (u === 0 ? min : Math.max(min, Math.min(max, Math.round(low * (max / low) ** (u / 1000))))));
}

/** A restart keeps its disk where the system has no choice but to (see the header). */
function withDisk(fault: Fault, diskless: boolean): Fault {
  return !diskless && fault.crash !== undefined && fault.persist !== true ? { ...fault, persist: true } : fault;
}

/** `leader` on a system of peers is any one of them (see the header). */
function withoutLeader(fault: Fault, hasLeader: boolean): Fault {
  if (hasLeader || !selectorsOf(fault).includes('leader')) return fault;
  const swap = (value: unknown): unknown =>
    value === 'leader'
      ? 'one'
      : typeof value === 'object' && value !== null && !Array.isArray(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, swap(v)]))
        : value;
  return swap(fault) as Fault;
}

/** The 95% Wilson score interval of `k` successes in `n` trials; [0, 1] when n is 0. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const center = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, center - half), Math.min(1, center + half)];
}
