/**
 * Sim: one simulated world. Nodes, the network between them, and the verbs that break them.
 *
 *   const sim = new Sim({ seed: 7 });
 *   sim.addNode('server', (host) => host.onMessage((m) => host.send(m.from, { type: 'pong' })));
 *   sim.addNode('client', (host) => host.spawn('ping', async () => { ... }));
 *   sim.after(500, 'cut', () => sim.partition('client', 'server', { mode: 'hold' }));
 *   await sim.run({ untilMs: 10_000 });
 *
 * Every verb is immediate; schedule it with `after`/`at` to make it happen at a virtual time.
 */
import { NodeClock, type ClockConfig } from './clock.ts';
import { SimUsageError, requireDuration } from './errors.ts';
import type { SimEvent } from './events.ts';
import { Kernel, type KernelOptions } from './kernel.ts';
import { Network, type LinkConfig, type PartitionMode } from './network.ts';
import { NodeRuntime, type Host, type HostFactory } from './node.ts';
import { Rng } from './rng.ts';

export interface SimOptions extends KernelOptions {
  readonly seed: number | string;
  readonly network?: LinkConfig;
}

export interface NodeOptions extends ClockConfig {
  readonly factory?: HostFactory;
}

export interface RunSummary {
  readonly nowMs: number;
  readonly events: number;
  readonly traceHash: string;
}

export interface PartitionOptions {
  readonly mode?: PartitionMode;
  /** Cut only a -> b; by default both directions are cut. */
  readonly oneWay?: boolean;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

export class Sim {
  readonly kernel: Kernel;
  readonly rng: Rng;
  readonly network: Network;
  private readonly nodes = new Map<string, NodeRuntime>();
  private readonly nodeRng: Rng;

  constructor(options: SimOptions) {
    this.kernel = new Kernel(options);
    this.rng = Rng.root(options.seed);
    this.nodeRng = this.rng.fork('node');
    this.network = new Network(this.kernel, this.rng.fork('network'), (id) => this.node(id));
    if (options.network !== undefined) this.network.setDefaults(options.network);
  }

  get nowMs(): number {
    return this.kernel.nowMs;
  }

  get nodeIds(): string[] {
    return [...this.nodes.keys()];
  }

  /** Add a node, booted at the current time once the run starts; `factory` builds its program, again on every restart. */
  addNode(id: string, factoryOrOptions?: HostFactory | NodeOptions): Host {
    if (typeof id !== 'string' || !NODE_ID.test(id)) {
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- id may be any value from untyped callers (even a Symbol, which a template literal would throw on)
      throw new SimUsageError(`node id must match ${NODE_ID.source}, got '${String(id)}'`);
    }
    if (this.nodes.has(id)) throw new SimUsageError(`node '${id}' already exists`);
    const options: NodeOptions =
      typeof factoryOrOptions === 'function' ? { factory: factoryOrOptions } : (factoryOrOptions ?? {});
    const node = new NodeRuntime(
      this.kernel,
      this.network,
      this.nodes.size,
      id,
      new NodeClock(options),
      this.nodeRng.fork(id),
      options.factory,
    );
    this.nodes.set(id, node);
    // Boot as an event, so that every node exists before any program starts talking.
    this.kernel.schedule(0, node, 'boot', () => node.boot());
    return node.host;
  }

  node(id: string): NodeRuntime {
    const node = this.nodes.get(id);
    if (node === undefined) {
      const known = this.nodes.size === 0 ? 'none' : [...this.nodes.keys()].join(', ');
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- id may be any value from untyped callers (even a Symbol, which a template literal would throw on)
      throw new SimUsageError(`unknown node '${String(id)}' (known nodes: ${known})`);
    }
    return node;
  }

  /** The current incarnation of node `id`, as its program sees it. */
  host(id: string): Host {
    return this.node(id).host;
  }

  /** Run `fire` (harness code, not on any node) after `delayMs` of true time. */
  after(delayMs: number, label: string, fire: () => void): SimEvent {
    return this.kernel.schedule(delayMs, null, label, fire);
  }

  /** Run `fire` at true time `timeMs`, which must not lie in the past. */
  at(timeMs: number, label: string, fire: () => void): SimEvent {
    requireDuration(`time of event '${label}'`, timeMs);
    if (timeMs < this.kernel.nowMs) {
      throw new SimUsageError(`event '${label}' at ${timeMs}ms lies in the past (now ${this.kernel.nowMs}ms)`);
    }
    return this.kernel.schedule(timeMs - this.kernel.nowMs, null, label, fire);
  }

  pause(id: string): void {
    this.node(id).pause();
  }

  resume(id: string): void {
    this.node(id).resume();
  }

  crash(id: string): void {
    this.node(id).crash();
  }

  /** Bring a crashed node back; with `persist` false its disk is wiped first. */
  restart(id: string, options: { persist: boolean }): void {
    this.node(id).restart(options.persist);
  }

  /** Step node `id`'s wall clock by `deltaMs`; its monotonic clock is untouched. */
  jumpClock(id: string, deltaMs: number): void {
    this.node(id).clock.jump(deltaMs);
  }

  setDrift(id: string, driftPpm: number): void {
    this.node(id).clock.setDrift(driftPpm, this.kernel.nowMs);
  }

  partition(a: string, b: string, options: PartitionOptions = {}): void {
    const mode = options.mode ?? 'drop';
    this.network.partition(a, b, mode);
    if (options.oneWay !== true) this.network.partition(b, a, mode);
  }

  heal(a: string, b: string, options: { oneWay?: boolean } = {}): void {
    this.network.heal(a, b);
    if (options.oneWay !== true) this.network.heal(b, a);
  }

  /** Repair every link (partitions, injected delay and loss) and resume every paused node. Crashed nodes stay down. */
  healAll(): void {
    this.network.healAll();
    for (const node of this.nodes.values()) if (node.paused) node.resume();
  }

  async run(options: { untilMs?: number } = {}): Promise<RunSummary> {
    await this.kernel.run(options.untilMs);
    return this.summary();
  }

  summary(): RunSummary {
    return { nowMs: this.kernel.nowMs, events: this.kernel.firedEvents, traceHash: this.kernel.trace.hash() };
  }
}
