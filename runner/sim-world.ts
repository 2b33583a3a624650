/**
 * The simulator's World: servers, the register and clients c1..cN as nodes of one Sim, each
 * client running the mutex or election workload over simulated ports. Faults are kernel verbs;
 * true time is kernel time.
 */
import type { DurationSpec } from './durations.ts';
import { Sim } from '../sim/sim.ts';
import type { Host } from '../sim/node.ts';
import type { Latency } from '../sim/network.ts';
import type { TraceOptions } from '../sim/trace.ts';
import { ClientEndpoint } from '../backends/shared/endpoint/endpoint.ts';
import {
  sentinelIds,
  serverIds,
  type EtcdMutex,
  type SentinelOptions,
  type SystemConfig,
  type SystemModule,
} from '../backends/system.ts';
import type { ElectionRecipe, LockRecipe } from '../backends/recipe.ts';
import { electionClient } from './election.ts';
import type { FaultTarget } from '../faults/kind.ts';
import { History, isAttempt, isGrant } from './history.ts';
import { round } from './loop.ts';
import { mutexClient, type RegisterClient } from './mutex.ts';
import { Register, REGISTER_NODE, registerServer, type RegisterReply } from './register.ts';
import { onNth, type Measured, type World } from './world.ts';
import { installAmbient, onUnhandled, realSetImmediate } from '../subjects/ambient.ts';
import { SubjectCrash, SubjectError, type SubjectDefinition } from '../subjects/define.ts';
import { simSubjectRecipes, whyNotSim } from '../subjects/sim.ts';

export interface SimWorldOptions {
  readonly system: SystemModule;
  /** mutex (default): acquire/hold/release; election: campaign and do leader work every holdMs. */
  readonly workload?: 'mutex' | 'election';
  readonly seed: number;
  readonly clients: number;
  readonly ttlMs: number;
  readonly holdMs: DurationSpec;
  readonly thinkMs: DurationSpec;
  readonly fencing: boolean;
  /** The mutex client checks what its recipe knows before it writes (see runner/mutex.ts). */
  readonly careful?: boolean;
  /** etcd only: whose Mutex the recipe follows (SystemConfig.etcdMutex). */
  readonly etcdMutex?: EtcdMutex;
  /** redis-sentinel only (SystemConfig.sentinel). */
  readonly sentinel?: SentinelOptions;
  readonly latency?: Latency;
  readonly trace?: TraceOptions;
  readonly acquireTimeoutMs?: number;
  /** Most kernel events the whole run may fire, grace included (the loop's eventBudget). */
  readonly eventBudget: number;
  /** A third-party lock instead of the system's own recipe, run on the system's servers. */
  readonly subject?: SubjectDefinition;
  /** The subject's file, when it came from one (results' subjectFile). */
  readonly subjectFile?: string;
}

const REGISTER_TIMEOUT_MS = 1000;

export class SimWorld implements World {
  readonly mode = 'sim';
  readonly sim: Sim;
  readonly history: History;
  readonly register: Register;
  readonly servers: readonly string[];
  readonly clients: readonly string[];
  readonly sentinels: readonly string[];
  readonly nodes: readonly string[];
  readonly notes: string[] = [];
  readonly target: FaultTarget;
  readonly expectationsApply: boolean;
  private readonly config: SystemConfig;
  private stopping = false;
  private durationMs = 0;
  /** Told of every write a client is about to send (`writing` triggers). */
  private readonly writing: ((process: string) => void)[] = [];

  /** Stops listening for the subject's unhandled rejections. */
  private unlisten: () => void = () => {};

  constructor(private readonly options: SimWorldOptions) {
    // A subject's code is not counted by the kernel: it drains microtasks through a macrotask.
    if (options.subject !== undefined) installAmbient();
    this.sim = new Sim({
      seed: options.seed,
      network: { latency: options.latency ?? { minMs: 1, maxMs: 3 } },
      trace: options.trace,
      eventBudget: options.eventBudget,
      ...(options.subject === undefined ? {} : { yieldMacrotask: realSetImmediate }),
    });
    this.expectationsApply = options.subject === undefined;
    this.history = new History(() => this.sim.nowMs);
    this.register = new Register(options.fencing);
    this.config = {
      ttlMs: options.ttlMs,
      fencing: options.fencing,
      acquireTimeoutMs: options.acquireTimeoutMs ?? 4 * options.ttlMs,
      name: 'lockstep-lock',
      ...(options.etcdMutex === undefined ? {} : { etcdMutex: options.etcdMutex }),
      ...(options.sentinel === undefined ? {} : { sentinel: options.sentinel }),
    };
    this.servers = serverIds(options.system.serverCount(this.config));
    this.sentinels = sentinelIds(options.system.sentinels?.count(this.config) ?? 0);
    this.clients = Array.from({ length: options.clients }, (_, i) => `c${i + 1}`);
    this.nodes = [...this.servers, ...this.sentinels, REGISTER_NODE, ...this.clients];
    this.target = simTarget(this.sim);
  }

  whyNot(): string | null {
    const { subject, fencing, workload = 'mutex' } = this.options;
    return subject === undefined ? null : whyNotSim(subject, fencing, workload);
  }

  /** Adds the nodes in the order of `nodes`; each boots as a kernel event once the run starts. */
  start(): Promise<void> {
    const { sim, options, config, servers, history } = this;
    servers.forEach((id, i) => sim.addNode(id, (host) => options.system.bootServer(host, i + 1, servers, config)));
    const { sentinels } = this;
    sentinels.forEach((id, i) =>
      sim.addNode(id, (host) => options.system.sentinels?.boot(host, i + 1, servers, sentinels, config)),
    );
    sim.addNode(REGISTER_NODE, (host) => registerServer(host, this.register, () => sim.nowMs));
    const { subject } = options;
    if (subject !== undefined)
      this.unlisten = onUnhandled((error) =>
        this.sim.kernel.fail(
          new SubjectCrash(
            `subject code left a promise rejected with no handler: ${error instanceof Error ? error.message : String(error)}`,
            { cause: error },
          ),
        ),
      );
    for (const id of this.clients) {
      sim.addNode(id, (host) => {
        host.onCrash(() => history.record(id, 'info', 'crash'));
        const register = simRegister(host, id);
        if (subject === undefined) {
          const ports = options.system.simPorts(host, servers, config);
          this.startWorkload(id, host, register, {
            lock: () => options.system.lock(host, ports, config),
            election: () => options.system.election(host, ports, config),
          });
        } else {
          // The subject's code, set up on this node (its `create`) before the workload starts.
          host.spawn('subject', async () => {
            let recipes;
            try {
              recipes = await simSubjectRecipes(subject, host, sim.kernel, servers, config);
            } catch (error) {
              // A subject that cannot be set up is bad input, reported as it is, not as a crash of this node.
              if (!(error instanceof SubjectError)) throw error;
              sim.kernel.fail(error);
              return;
            }
            this.startWorkload(id, host, register, { lock: () => recipes.lock, election: () => recipes.election });
          });
        }
      });
    }
    return Promise.resolve();
  }

  /** The client's workload thread, over the recipe it needs. */
  private startWorkload(
    id: string,
    host: Host,
    register: RegisterClient,
    recipes: { lock(): LockRecipe; election(): ElectionRecipe },
  ): void {
    const { options, history } = this;
    const { holdMs, thinkMs, fencing, careful } = options;
    if (options.workload === 'election') {
      host.spawn('election', () =>
        electionClient(
          id,
          host,
          recipes.election(),
          register,
          history,
          { workMs: holdMs, thinkMs, fencing },
          () => this.stopping,
        ),
      );
    } else {
      host.spawn('mutex', () =>
        mutexClient(
          id,
          host,
          recipes.lock(),
          register,
          history,
          { holdMs, thinkMs, fencing, careful, beforeWrite: () => this.beforeWrite(id, host) },
          () => this.stopping,
        ),
      );
    }
  }

  leader(): string | null | undefined {
    const { system } = this.options;
    if (system.leader !== undefined) return system.leader(this.servers, (id) => this.sim.host(id));
    if (this.servers.length !== 1) return undefined;
    const [only] = this.servers;
    return only;
  }

  afterGrant(nth: number, who: (process: string) => boolean, fire: (client: string) => void): void {
    this.history.observe(
      onNth(
        nth,
        (op) => isGrant(op) && who(op.process),
        (op) => this.sim.after(0, 'fault', () => fire(op.process)),
      ),
    );
  }

  afterAttempt(nth: number, who: (process: string) => boolean, fire: (client: string) => void): void {
    this.history.observe(
      onNth(
        nth,
        (op) => isAttempt(op) && who(op.process),
        (op) => this.sim.after(0, 'fault', () => fire(op.process)),
      ),
    );
  }

  afterWriting(nth: number, who: (process: string) => boolean, fire: (client: string) => void): void {
    this.writing.push(onNth(nth, who, fire));
  }

  /**
   * A client is about to send a write. The faults waiting for it fire now, so what they schedule
   * for this instant is queued ahead of the client, which then yields once: a pause stops it
   * before the write leaves. Without a `writing` trigger the client goes on with no extra event.
   */
  private beforeWrite(process: string, host: Host): PromiseLike<void> | undefined {
    if (this.writing.length === 0) return undefined;
    for (const watch of this.writing) watch(process);
    return host.sleep(0);
  }

  /** The same, counting every grant. */
  afterAcquired(nth: number, fire: (client: string) => void): void {
    this.afterGrant(nth, () => true, fire);
  }

  async run(durationMs: number): Promise<void> {
    this.durationMs = durationMs;
    await this.sim.run({ untilMs: durationMs });
  }

  /** Links, paused nodes, and crashed servers (from their disks); clients stop after their round. */
  healAll(): Promise<void> {
    this.stopping = true;
    this.sim.healAll();
    for (const id of [...this.servers, ...this.sentinels])
      if (this.sim.node(id).crashed) this.sim.restart(id, { persist: true });
    return Promise.resolve();
  }

  async grace(graceMs: number): Promise<void> {
    await this.sim.run({ untilMs: this.durationMs + graceMs });
  }

  whyUnknown(): readonly string[] {
    return [];
  }

  measured(): Measured {
    const summary = this.sim.summary();
    return { simulatedMs: round(summary.nowMs), events: summary.events, traceHash: summary.traceHash };
  }

  resultFields(): object {
    const { subject, subjectFile } = this.options;
    if (subject === undefined) return {};
    return { subject: subject.name, ...(subjectFile === undefined ? {} : { subjectFile }) };
  }

  close(): Promise<void> {
    this.unlisten();
    return Promise.resolve();
  }
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
