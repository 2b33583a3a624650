/**
 * Nodes and what runs on them.
 *
 * Fault model. A node is a machine running one program, built by a factory (so a restart builds a
 * fresh one). It can be
 *   - paused (SIGSTOP, a long GC): none of its timers, message handlers or threads run until it
 *     resumes; what came due meanwhile runs at resume, in order. Its OS layer keeps answering,
 *     so its connections stay up.
 *   - crashed: every volatile thing is gone (threads, timers, handlers, mailbox, packets in flight
 *     to it); only `disk` survives, and only if the restart says `persist`.
 *   - restarted: the factory runs again on a new incarnation.
 * Code of a dead incarnation never runs again: its timers and Futures are discarded, and if it is
 * mid-step when the crash lands, its next kernel call throws ProcessKilled, which ends it quietly.
 */
import type { Clock, NodeClock } from './clock.ts';
import { ProcessError, ProcessKilled, SimUsageError, TimeoutError, requireDuration } from './errors.ts';
import type { SimEvent } from './events.ts';
import type { Future } from './future.ts';
import type { Kernel } from './kernel.ts';
import type { Layer, Message, Network, NetworkNode } from './network.ts';
import type { Rng } from './rng.ts';

export type NodeState = 'up' | 'paused' | 'crashed';
export type HostFactory = (host: Host) => void;
export type MessageHandler = (message: Message) => void;
/** Runs as the node's OS when its process crashes; it may send OS-level packets (a TCP reset). */
export type CrashHandler = (os: { send(to: string, payload: unknown): void }) => void;

/** Bounds: a mailbox nobody reads, or a node paused forever, stops the run instead of eating memory. */
export const MAX_MAILBOX = 1_000_000;
export const MAX_DEFERRED = 1_000_000;

export class NodeRuntime implements NetworkNode {
  state: NodeState = 'up';
  incarnation = 0;
  /** Survives a crash when the restart persists; a model keeps its durable state here. */
  readonly disk = new Map<string, unknown>();
  /**
   * Configuration files: survive every restart, with persistence or without (a server restarted
   * without its data still has the configuration it rewrote, as Redis and Sentinel do).
   */
  readonly config = new Map<string, unknown>();
  processHandler: MessageHandler | null = null;
  osHandler: MessageHandler | null = null;
  crashHandlers: CrashHandler[] = [];
  private deferred: SimEvent[] = [];
  private mailbox: Message[] = [];
  private receivers: Future<Message>[] = [];
  private current: Host;

  constructor(
    readonly kernel: Kernel,
    readonly network: Network,
    readonly index: number,
    readonly id: string,
    readonly clock: NodeClock,
    readonly rng: Rng,
    private readonly factory: HostFactory | undefined,
  ) {
    this.current = new Host(this, this.incarnation);
  }

  get host(): Host {
    return this.current;
  }

  get paused(): boolean {
    return this.state === 'paused';
  }

  get crashed(): boolean {
    return this.state === 'crashed';
  }

  boot(): void {
    this.factory?.(this.current);
  }

  defer(event: SimEvent): void {
    if (this.deferred.length >= MAX_DEFERRED) {
      throw new SimUsageError(`node '${this.id}' has more than ${MAX_DEFERRED} events waiting for it to resume`);
    }
    this.deferred.push(event);
  }

  pause(): void {
    if (this.state !== 'up') throw new SimUsageError(`cannot pause node '${this.id}': it is ${this.state}`);
    this.state = 'paused';
  }

  resume(): void {
    if (this.state !== 'paused')
      throw new SimUsageError(`cannot resume node '${this.id}': it is ${this.state}, not paused`);
    this.state = 'up';
    const deferred = this.deferred;
    this.deferred = [];
    for (const event of deferred) this.kernel.requeueUrgent(event);
  }

  crash(): void {
    if (this.state === 'crashed') throw new SimUsageError(`cannot crash node '${this.id}': it is already crashed`);
    // The process dies, the machine does not: its OS closes the sockets and tells the peers.
    const handlers = this.crashHandlers;
    this.crashHandlers = [];
    const os = { send: (to: string, payload: unknown) => this.network.send(this, to, payload, labelOf(payload), 'os') };
    for (const handler of handlers) handler(os);
    this.state = 'crashed';
    this.incarnation++;
    this.deferred = [];
    this.mailbox = [];
    this.receivers = [];
    this.processHandler = null;
    this.osHandler = null;
  }

  restart(persist: boolean): void {
    if (this.state !== 'crashed')
      throw new SimUsageError(`cannot restart node '${this.id}': it is ${this.state}, not crashed`);
    if (!persist) this.disk.clear();
    this.state = 'up';
    this.incarnation++;
    this.current = new Host(this, this.incarnation);
    this.boot();
  }

  deliver(message: Message): void {
    if (message.layer === 'os') {
      this.osHandler?.(message);
    } else if (this.processHandler !== null) {
      this.processHandler(message);
    } else {
      const receiver = this.receivers.shift();
      if (receiver !== undefined) {
        receiver.resolve(message);
        return;
      }
      if (this.mailbox.length >= MAX_MAILBOX) {
        throw new SimUsageError(`mailbox of node '${this.id}' holds more than ${MAX_MAILBOX} unread messages`);
      }
      this.mailbox.push(message);
    }
  }

  receive(): Future<Message> {
    const future = this.kernel.future<Message>(this);
    const waiting = this.mailbox.shift();
    if (waiting !== undefined) future.resolve(waiting);
    else this.receivers.push(future);
    return future;
  }
}

export interface SendOptions {
  /** Trace label; defaults to the payload's `type` field when it has one. */
  readonly label?: string;
  /** 'os' messages reach the node's OS layer, which answers even while the node is paused. */
  readonly layer?: Layer;
}

export interface Timer {
  cancel(): void;
}

/** A class rather than a closure: timers are made on every request, and closures cost more. */
class TimerHandle implements Timer {
  constructor(private readonly event: SimEvent) {}

  cancel(): void {
    this.event.cancelled = true;
  }
}

/**
 * A node incarnation as its program sees it: its clock, randomness, disk, network and threads.
 * Once the node crashes, every call on an old Host throws ProcessKilled.
 */
export class Host {
  readonly clock: Clock;
  readonly rng: Rng;

  constructor(
    private readonly node: NodeRuntime,
    readonly incarnation: number,
  ) {
    this.rng = node.rng.fork(`incarnation-${incarnation}`);
    const kernel = node.kernel;
    const clock = node.clock;
    this.clock = {
      now: () => clock.wallAt(kernel.nowMs),
      monotonic: () => clock.monotonicAt(kernel.nowMs),
      sleep: (ms: number) => this.sleep(ms),
    };
  }

  get id(): string {
    return this.node.id;
  }

  get alive(): boolean {
    return this.node.incarnation === this.incarnation;
  }

  get disk(): Map<string, unknown> {
    return this.node.disk;
  }

  /** The node's configuration files, which every restart keeps (NodeRuntime.config). */
  get config(): Map<string, unknown> {
    return this.node.config;
  }

  /** A Future that wakes this node's code. */
  future<T>(): Future<T> {
    this.check('future');
    return this.node.kernel.future<T>(this.node);
  }

  /** Run `body` as a thread of this node. If it throws, the run stops with a ProcessError. */
  spawn(name: string, body: () => Promise<void>): void {
    this.check('spawn');
    this.node.kernel.startThread(body, (ok, value) => {
      if (ok || !this.alive || value instanceof ProcessKilled) return;
      const reason = value instanceof Error ? value.message : String(value);
      this.node.kernel.fail(
        new ProcessError(`process '${name}' on node '${this.id}' failed: ${reason}`, { cause: value }),
      );
    });
  }

  /** Wake after `ms` of this node's monotonic time. */
  sleep(ms: number): Future<void> {
    const future: Future<void> = this.future();
    requireDuration(`timer 'sleep' on node '${this.id}'`, ms);
    this.node.kernel.scheduleCall(
      this.node.clock.trueDuration(ms),
      this.node,
      'sleep',
      wakeSleeper,
      future,
      false,
      true,
      0,
    );
    return future;
  }

  /** Run `fire` after `ms` of this node's monotonic time, unless cancelled first. */
  timer(ms: number, label: string, fire: () => void): Timer {
    this.check('timer');
    requireDuration(`timer '${label}' on node '${this.id}'`, ms);
    return new TimerHandle(this.node.kernel.schedule(this.node.clock.trueDuration(ms), this.node, label, fire));
  }

  send(to: string, payload: unknown, options: SendOptions = {}): void {
    this.check('send');
    const label = options.label ?? labelOf(payload);
    this.node.network.send(this.node, to, payload, label, options.layer ?? 'process');
  }

  /** Handle process-level messages synchronously, instead of queueing them for receive(). */
  onMessage(handler: MessageHandler): void {
    this.check('onMessage');
    this.node.processHandler = handler;
  }

  /**
   * From the OS layer, something the process must see: it runs `fire` now if the process is
   * running, or as soon as it resumes if it is paused (a stopped process reads the reset its
   * kernel took, or the data that arrived, only when it runs again).
   */
  whenRunning(label: string, fire: () => void): void {
    this.check('whenRunning');
    if (this.node.paused) this.timer(0, label, fire);
    else fire();
  }

  /** Handle OS-level messages; these run even while the node is paused. */
  onOsMessage(handler: MessageHandler): void {
    this.check('onOsMessage');
    this.node.osHandler = handler;
  }

  /** Add something this node's OS does when the process crashes: typically, reset its connections. */
  onCrash(handler: CrashHandler): void {
    this.check('onCrash');
    this.node.crashHandlers.push(handler);
  }

  /** The next process-level message, in arrival order. */
  receive(): Future<Message> {
    this.check('receive');
    return this.node.receive();
  }

  /** Run every task as its own thread; fulfil with all results, or reject with the first error. */
  all<T>(tasks: ReadonlyArray<() => PromiseLike<T>>): Future<T[]> {
    const out = this.future<T[]>();
    const results = new Array<T>(tasks.length);
    let left = tasks.length;
    if (left === 0) out.resolve(results);
    tasks.forEach((task, i) => {
      this.node.kernel.startThread(task, (ok, value) => {
        if (!ok) {
          out.reject(value);
          return;
        }
        results[i] = value as T;
        if (--left === 0) out.resolve(results);
      });
    });
    return out;
  }

  /**
   * Run tasks as threads; resolve as soon as `needed` of them resolved to a value `counts` accepts,
   * or once that can no longer happen (every task settled): the results so far, undefined where a
   * task has not finished. Tasks still running go on. A task that rejects rejects the whole.
   */
  quorum<T>(
    tasks: ReadonlyArray<() => PromiseLike<T>>,
    needed: number,
    counts: (value: T) => boolean,
  ): Future<(T | undefined)[]> {
    const out = this.future<(T | undefined)[]>();
    const results = new Array<T | undefined>(tasks.length).fill(undefined);
    let left = tasks.length;
    let accepted = 0;
    if (left === 0 || needed <= 0) out.resolve(results);
    tasks.forEach((task, i) => {
      this.node.kernel.startThread(task, (ok, value) => {
        if (out.settled) return;
        if (!ok) {
          out.reject(value);
          return;
        }
        results[i] = value as T;
        if (counts(value as T)) accepted++;
        left--;
        if (accepted >= needed || left === 0) out.resolve([...results]);
      });
    });
    return out;
  }

  /** Run `task` as a thread; reject with TimeoutError if it has not settled after `ms` local time. */
  deadline<T>(task: () => PromiseLike<T>, ms: number): Future<T> {
    const out = this.future<T>();
    const timer = this.timer(ms, 'deadline', () =>
      out.reject(new TimeoutError(`deadline of ${ms}ms passed on node '${this.id}'`)),
    );
    out.onSettle(() => timer.cancel());
    this.node.kernel.startThread(task, (ok, value) => (ok ? out.resolve(value as T) : out.reject(value)));
    return out;
  }

  private check(operation: string): void {
    if (!this.alive)
      throw new ProcessKilled(`node '${this.id}' incarnation ${this.incarnation} is dead (${operation})`);
  }
}

function wakeSleeper(future: Future<void>): void {
  future.resolve();
}

function labelOf(payload: unknown): string {
  if (payload !== null && typeof payload === 'object') {
    const type = (payload as { type?: unknown }).type;
    if (typeof type === 'string') return type;
  }
  return 'msg';
}
