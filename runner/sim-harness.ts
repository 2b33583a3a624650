/**
 * Run one system's lock under the mutex workload in the simulator: servers, a register, clients
 * c1..cN, and whatever faults the caller schedules. The scenario runner builds on this; the
 * system tests use it directly.
 */
import { Sim } from '../sim/sim.ts';
import type { Host } from '../sim/node.ts';
import type { Latency } from '../sim/network.ts';
import type { TraceOptions } from '../sim/trace.ts';
import { ClientEndpoint } from '../backends/shared/endpoint/endpoint.ts';
import { serverIds, type SystemConfig, type SystemModule } from '../backends/system.ts';
import { electionClient } from './election.ts';
import { History, holderOf, isGrant } from './history.ts';
import { mutexClient, type RegisterClient } from './mutex.ts';
import { Register, REGISTER_NODE, registerServer, type RegisterReply } from './register.ts';

export interface SimMutexOptions {
  readonly system: SystemModule;
  /** mutex (default): acquire/hold/release; election: campaign and do leader work every holdMs. */
  readonly workload?: 'mutex' | 'election';
  readonly seed: number;
  readonly clients: number;
  readonly durationMs: number;
  readonly ttlMs: number;
  readonly holdMs: number;
  readonly thinkMs: number;
  readonly fencing: boolean;
  readonly latency?: Latency;
  readonly trace?: TraceOptions;
  readonly acquireTimeoutMs?: number;
  /** Schedule faults; called once everything is set up, before the run starts. */
  readonly faults?: (sim: Sim, world: SimWorld) => void;
}

export interface SimWorld {
  readonly history: History;
  readonly servers: readonly string[];
  readonly clients: readonly string[];
  /** The client that holds the lock right now by the history (last acquire ok without a release), if any. */
  holder(): string | null;
  /** Call `fire(client)` as a harness event just after the `nth` successful acquire (or election) of the run, 1-based. */
  afterAcquired(nth: number, fire: (client: string) => void): void;
  /** The same, counting only grants to processes that `who` accepts. */
  afterGrant(nth: number, who: (process: string) => boolean, fire: (client: string) => void): void;
}

export interface SimMutexResult {
  readonly history: History;
  readonly register: Register;
  readonly sim: Sim;
  readonly servers: readonly string[];
}

/** How long after the end of the run, with every fault healed, clients get to finish their round. */
export function graceMs(ttlMs: number, holdMs: number): number {
  return 3 * ttlMs + 2 * holdMs + 1000;
}

const REGISTER_TIMEOUT_MS = 1000;

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

export async function runSimMutex(options: SimMutexOptions): Promise<SimMutexResult> {
  const sim = new Sim({
    seed: options.seed,
    network: { latency: options.latency ?? { minMs: 1, maxMs: 3 } },
    trace: options.trace,
    eventBudget: eventBudget(options.durationMs + graceMs(options.ttlMs, options.holdMs)),
  });
  const history = new History(() => sim.nowMs);
  const register = new Register(options.fencing);
  const config: SystemConfig = {
    ttlMs: options.ttlMs,
    fencing: options.fencing,
    acquireTimeoutMs: options.acquireTimeoutMs ?? 4 * options.ttlMs,
    name: 'lockstep-lock',
  };
  const servers = serverIds(options.system.serverCount(config));
  const clients = Array.from({ length: options.clients }, (_, i) => `c${i + 1}`);
  let stopping = false;

  servers.forEach((id, i) => sim.addNode(id, (host) => options.system.bootServer(host, i + 1, servers, config)));
  sim.addNode(REGISTER_NODE, (host) => registerServer(host, register, () => sim.nowMs));
  for (const id of clients) {
    sim.addNode(id, (host) => {
      host.onCrash(() => history.record(id, 'info', 'crash'));
      const ports = options.system.simPorts(host, servers, config);
      const register = simRegister(host, id);
      const { holdMs, thinkMs, fencing } = options;
      if (options.workload === 'election') {
        const election = options.system.election(host, ports, config);
        host.spawn('election', () => electionClient(id, host, election, register, history, { workMs: holdMs, thinkMs, fencing }, () => stopping));
      } else {
        const lock = options.system.lock(host, ports, config);
        host.spawn('mutex', () => mutexClient(id, host, lock, register, history, { holdMs, thinkMs, fencing }, () => stopping));
      }
    });
  }
  const afterGrant = (nth: number, who: (process: string) => boolean, fire: (client: string) => void) => {
    let seen = 0;
    history.observe((op) => {
      if (isGrant(op) && who(op.process) && ++seen === nth) sim.after(0, 'fault', () => fire(op.process));
    });
  };
  const afterAcquired = (nth: number, fire: (client: string) => void) => afterGrant(nth, () => true, fire);
  options.faults?.(sim, { history, servers, clients, holder: () => holderOf(history), afterAcquired, afterGrant });
  await sim.run({ untilMs: options.durationMs });
  // The run ends by healing everything: links, paused nodes, and crashed servers (from their disks).
  stopping = true;
  sim.healAll();
  for (const id of servers) if (sim.node(id).crashed) sim.restart(id, { persist: true });
  await sim.run({ untilMs: options.durationMs + graceMs(options.ttlMs, options.holdMs) });
  return { history, register, sim, servers };
}

function simRegister(host: Host, process: string): RegisterClient {
  const endpoint = ClientEndpoint.of(host);
  const call = (op: string, body: object): Promise<RegisterReply> =>
    Promise.resolve(endpoint.request<RegisterReply>(REGISTER_NODE, op, { process, ...body }, REGISTER_TIMEOUT_MS));
  return {
    read: (token) => call('read', { token }),
    write: (value, token) => call('write', { value, token }),
    increment: (token) => call('increment', { token }),
  };
}
