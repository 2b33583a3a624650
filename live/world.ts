/**
 * The live World: a system's servers in a live cluster, one Toxiproxy proxy per client link, the
 * register served over TCP, and clients c1..cN as child processes running the simulator's
 * workloads. True time is the machine's monotonic clock from the run's epoch. Faults are signals
 * and toxics (target.ts).
 */
import { resolve } from 'node:path';
import { minMs } from '../runner/durations.ts';
import type { SystemId } from '../backends/recipe.ts';
import { sentinelIds, type SystemConfig } from '../backends/system.ts';
import { History, isAttempt, isGrant, type Op } from '../runner/history.ts';
import { round } from '../runner/loop.ts';
import { Register, REGISTER_NODE } from '../runner/register.ts';
import type { RunMetrics } from '../runner/run.ts';
import { onNth, type Measured, type World } from '../runner/world.ts';
import { ActionChain } from './actions.ts';
import type { ClientSpec } from './client-protocol.ts';
import { ClientProcesses } from './clients.ts';
import { machineMonotonicMs } from './clock.ts';
import type { Cluster } from './cluster.ts';
import { ClientLinks } from './links.ts';
import { EnvironmentError, sleep } from './process.ts';
import { serveRegister } from './register.ts';
import type { LiveRunSpec } from './run.ts';
import { LiveTarget, type LiveRun } from './target.ts';

import type { SubjectDefinition } from '../subjects/define.ts';
import { isSubjectFile, subjectFileOf } from '../subjects/index.ts';

const REGISTER_TIMEOUT_MS = 1000;
/** How often the leader is asked for: a live cluster answers only asynchronously, so the leader selector reads the last answer. */
const LEADER_POLL_MS = 200;

/** What a live run adds to its result. */
export interface LiveFields {
  /** The subject's name, for a subject's run. */
  readonly subject: string | null;
  /** A subject loaded from a file: the file, as given to --subject. */
  readonly subjectFile?: string;
  readonly provider: string;
  /** Real milliseconds from the run's start to the end of its grace period. */
  readonly durationMs: number;
}

export class LiveWorld implements World<LiveFields>, LiveRun {
  readonly mode = 'live';
  readonly sim = null;
  readonly register: Register;
  readonly history: History;
  readonly notes: string[] = [];
  readonly servers: readonly string[];
  readonly clients: readonly string[];
  /** The system's Sentinels, where it has them. */
  readonly sentinels: readonly string[];
  readonly nodes: readonly string[];
  readonly target: LiveTarget;
  // A scenario's expectations are about lockstep's own recipes; a third-party library is measured,
  // not held to them (its verdict next to the recipe's is the finding).
  readonly expectationsApply: boolean;
  readonly system: SystemId;
  readonly cluster: Cluster;
  readonly actions = new ActionChain();
  readonly links: ClientLinks;
  readonly processes: ClientProcesses;
  epochMs = machineMonotonicMs();
  private served: { port: number; close(): Promise<void> } | null = null;
  private leaderIndex: number | null | undefined = undefined;
  private leaderTimer: NodeJS.Timeout | null = null;
  /** How long after its grant the latest grant-triggered fault fired. */
  private lateTriggerMs = 0;
  private durationMs = 0;
  /** Told of every write a client is about to send (`writing` triggers). */
  private readonly writing: ((process: string) => void)[] = [];

  /** `cannotRun` says why this cluster cannot run the spec (null if it can). */
  constructor(
    private readonly spec: LiveRunSpec,
    /** The subject the run drives instead of the system's recipe (spec.subject, loaded), or null. */
    private readonly subject: SubjectDefinition | null,
    private readonly cannotRun: () => string | null,
  ) {
    const { scenario, system, fencing, cluster } = spec;
    this.system = system;
    this.cluster = cluster;
    this.expectationsApply = subject === null;
    this.register = new Register(fencing);
    this.history = new History(() => this.now());
    this.servers = cluster.servers(system).map((_, i) => `server-${i + 1}`);
    this.sentinels = sentinelIds(cluster.sentinels(system).length);
    this.clients = Array.from({ length: scenario.clients }, (_, i) => `c${i + 1}`);
    this.nodes = [...this.servers, ...this.sentinels, REGISTER_NODE, ...this.clients];
    this.links = new ClientLinks(cluster, spec.runIndex);
    this.processes = new ClientProcesses({
      logDir: spec.logDir,
      logPrefix: `${scenario.name}.${this.subject?.name ?? system}.${fencing ? 'on' : 'off'}`,
      history: this.history,
      notes: this.notes,
      writing: (client) => this.beforeWrite(client),
    });
    this.target = new LiveTarget(this);
  }

  now(): number {
    return machineMonotonicMs() - this.epochMs;
  }

  whyNot(): string | null {
    return this.cannotRun();
  }

  /** Servers ready, one proxy per client link, clients connected; true time starts at the end. */
  async start(): Promise<void> {
    const { scenario } = this.spec;
    const persist = scenario.faults.some((f) => f.crash !== undefined && f.persist === true);
    await this.cluster.prepare(this.system, { persist, sentinel: scenario.lock.sentinel });
    this.epochMs = machineMonotonicMs();
    this.served = await serveRegister(this.register, () => this.now());
    const specs: ClientSpec[] = [];
    for (const client of this.clients) specs.push(await this.clientSpec(client, this.served.port));
    await this.processes.startAll(specs);
    await this.pollLeader();
    this.leaderTimer = setInterval(() => void this.pollLeader(), LEADER_POLL_MS);
    this.epochMs = machineMonotonicMs();
  }

  leader(): string | null | undefined {
    const leader = this.leaderIndex;
    // A leader index the cluster gives is 1..n, so this.servers[leader - 1] is there.
    if (leader === undefined) return this.servers.length === 1 ? this.servers[0] : undefined;
    return leader === null ? null : this.servers[leader - 1];
  }

  afterGrant(nth: number, who: (process: string) => boolean, fire: (process: string) => void): void {
    this.history.observe(
      onNth(
        nth,
        (op) => isGrant(op) && who(op.process),
        (op) => this.fireLate(op, fire),
      ),
    );
  }

  afterAttempt(nth: number, who: (process: string) => boolean, fire: (process: string) => void): void {
    this.history.observe(
      onNth(
        nth,
        (op) => isAttempt(op) && who(op.process),
        (op) => this.fireLate(op, fire),
      ),
    );
  }

  /** The op reached the harness over IPC; how late it is here is how late the fault is. */
  private fireLate(op: Op, fire: (process: string) => void): void {
    this.lateTriggerMs = Math.max(this.lateTriggerMs, this.now() - op.timeMs);
    fire(op.process);
  }

  afterWriting(nth: number, who: (process: string) => boolean, fire: (process: string) => void): void {
    this.writing.push(onNth(nth, who, fire));
  }

  /** A client holds its write until the faults waiting for it are in place (a SIGSTOP, a toxic). */
  private async beforeWrite(client: string): Promise<void> {
    for (const watch of this.writing) watch(client);
    await this.actions.settled();
  }

  async run(durationMs: number): Promise<void> {
    await this.actions.settled();
    this.processes.go(this.epochMs);
    await sleep(durationMs);
  }

  /** Every fault healed, crashed servers back from their disks, clients asked to stop after their round. */
  async healAll(): Promise<void> {
    this.stopTimers();
    this.processes.stopAll();
    this.links.clearAll((what, action) => this.actions.act(what, action));
    const processes = [
      ...this.cluster.servers(this.system).map((server, i) => ({ server, name: this.servers[i] })),
      ...this.cluster.sentinels(this.system).map((server, i) => ({ server, name: this.sentinels[i] })),
    ];
    for (const { server, name } of processes) {
      const c = server.control;
      if (c === null) continue;
      this.actions.act(`heal ${name}`, async () => {
        if (c.isPaused) c.resume();
        if (!c.isRunning) await c.restart(true);
      });
    }
    this.actions.act('heal peer links', async () => {
      const peers = this.cluster.peers(this.system);
      if (peers === null) return;
      // Servers and Sentinels alike: peer links number the Sentinels after the servers.
      const n = this.servers.length + this.sentinels.length;
      for (let a = 1; a <= n; a++) for (let b = 1; b <= n; b++) if (a !== b) await peers.heal(a, b);
    });
    await this.actions.settled();
  }

  /** Clients finish their round; a server that died or a fault that could not be applied voids the run. */
  async grace(graceMs: number): Promise<void> {
    if (!(await this.processes.finished(graceMs)))
      this.notes.push(`some clients had not finished their round ${graceMs}ms after the end; they were killed`);
    const death = this.cluster.deaths();
    if (death !== null) throw new EnvironmentError(death);
    if (this.actions.failure !== null) throw this.actions.failure;
    // Clients' operations arrive over IPC a little out of order.
    this.history.sortByTime();
    this.durationMs = round(this.now());
  }

  /**
   * A run in which no client ever got the lock tested nothing: its client could not work against
   * the servers. And a fault that fires "just after a grant" must land before the client has
   * moved on (within half its hold): otherwise the run tested something else than the scenario
   * says. That happens when the machine is too busy to forward the grant in time.
   */
  whyUnknown(metrics: RunMetrics): readonly string[] {
    const { scenario } = this.spec;
    const reasons: string[] = [];
    if (metrics.acquisitions === 0)
      reasons.push(
        `no client ever ${scenario.workload === 'election' ? 'won an election' : 'acquired the lock'}: nothing was tested (see the client errors in the history)`,
      );
    const lateLimitMs = Math.max(10, Math.min(50, minMs(scenario.lock.holdMs) / 2));
    if (this.lateTriggerMs > lateLimitMs)
      reasons.push(
        `a fault triggered by a grant fired ${round(this.lateTriggerMs)} ms after it (limit ${lateLimitMs} ms): the machine was too busy for this run to test what the scenario says`,
      );
    return reasons;
  }

  measured(): Measured {
    return { simulatedMs: this.durationMs, events: this.history.ops.length, traceHash: null };
  }

  resultFields(): LiveFields {
    const { subject } = this.spec;
    return {
      subject: this.subject?.name ?? null,
      ...(subject === null ? {} : subjectFileOf(subject)),
      provider: this.cluster.provider,
      durationMs: this.durationMs,
    };
  }

  async close(): Promise<void> {
    this.stopTimers();
    await this.processes.killAll();
    await this.served?.close();
    await this.links.remove();
  }

  private stopTimers(): void {
    this.target.cancel();
    if (this.leaderTimer !== null) clearInterval(this.leaderTimer);
  }

  private async pollLeader(): Promise<void> {
    this.leaderIndex = await this.cluster.leader(this.system).catch(() => null);
  }

  /** One proxy per server, one per Sentinel, and one to the register, for this client. */
  private async clientSpec(client: string, registerPort: number): Promise<ClientSpec> {
    const { scenario, system, subject, fencing, runIndex } = this.spec;
    const isDatabase = system === 'postgres' || system === 'mysql';
    const config: SystemConfig = {
      ttlMs: scenario.lock.ttlMs,
      fencing,
      acquireTimeoutMs: 4 * scenario.lock.ttlMs,
      name: `lockstep-${runIndex}`,
      etcdMutex: scenario.lock.etcdMutex,
      sentinel: scenario.lock.sentinel,
    };
    const servers = [];
    for (const [i, server] of this.cluster.servers(system).entries()) {
      const upstream = { ...server.upstream, ...(server.url === undefined ? {} : { url: server.url }) };
      const name = this.servers[i];
      if (name === undefined) throw new Error(`live: ${system} has more servers than the world names`);
      servers.push(await this.links.add(client, name, upstream, isDatabase ? config.ttlMs : 0));
    }
    const sentinels = [];
    for (const [i, sentinel] of this.cluster.sentinels(system).entries())
      sentinels.push(await this.links.add(client, this.sentinels[i] ?? `sentinel-${i + 1}`, sentinel.upstream, 0));
    const register = await this.links.add(client, REGISTER_NODE, { host: '127.0.0.1', port: registerPort }, 0);
    return {
      id: client,
      system,
      // A client process may start elsewhere: a subject file goes to it as an absolute path.
      subject: subject !== null && isSubjectFile(subject) ? resolve(subject) : subject,
      workload: scenario.workload,
      config,
      servers,
      sentinels,
      register,
      registerTimeoutMs: REGISTER_TIMEOUT_MS,
      params: {
        holdMs: scenario.lock.holdMs,
        thinkMs: scenario.lock.thinkMs,
        fencing,
        careful: scenario.lock.careful,
        gateWrites: scenario.faults.some((f) => f.after?.event === 'writing'),
      },
    };
  }
}
