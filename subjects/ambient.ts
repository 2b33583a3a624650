/**
 * Time and randomness for code lockstep did not write: a lock library, or a user's own lock, run
 * unmodified inside the simulator. Such code calls `setTimeout`, `Date.now()`, `Math.random()` and
 * `crypto.randomBytes()` as it would anywhere; while it runs on a simulated node, each of those
 * answers from that node: its timers are kernel events on its (skewed) clock and wait while it is
 * paused, its dates come from its wall clock, its randomness from its own seeded stream.
 *
 * How the node is known: an AsyncLocalStorage holds it. Entering subject code (`runOn`) sets it;
 * every promise continuation and every routed timer callback inherits it, so a reply that resumes a
 * library's `await` three calls deep still runs as that node. The globals are replaced once, by
 * `installAmbient`, with functions that look the node up and, when there is none (the CLI, the live
 * harness, anything outside a simulated subject), call the real ones unchanged.
 *
 * Why not a `vm` context per subject: a library's module graph would have to be loaded again in
 * every context (one per simulated client), CommonJS packages do not load into a bare context
 * without re-implementing `require`, ESM in `vm` needs an experimental flag, and errors and
 * promises from another realm fail `instanceof` checks in the library's callers. One copy of the
 * library, routed by async context, keeps the code exactly as deployed.
 *
 * This file is the one place in the deterministic folders that touches the real clock and real
 * randomness: it keeps them to hand back to code that runs outside a simulation. The determinism
 * guard names it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import timers from 'node:timers';
import timersPromises from 'node:timers/promises';
import type { Host, Timer } from '../sim/node.ts';
import type { Rng } from '../sim/rng.ts';

/** What a simulated node offers the foreign code running on it. */
export interface Ambient {
  readonly host: Host;
  /** The subject's own stream, forked from the node's: its draws do not shift the workload's. */
  readonly rng: Rng;
  /** Tell the kernel that code it does not count was woken (Kernel.wokeUncounted). */
  wake(): void;
  /** Stop the run: the foreign code threw where Node would crash the process. */
  fail(error: unknown): void;
}

const context = new AsyncLocalStorage<Ambient>();

const real = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  setInterval: globalThis.setInterval,
  clearInterval: globalThis.clearInterval,
  setImmediate: globalThis.setImmediate,
  clearImmediate: globalThis.clearImmediate,
  Date: globalThis.Date,
  random: Math.random,
  performanceNow: performance.now.bind(performance),
  randomBytes: crypto.randomBytes,
  randomUUID: crypto.randomUUID,
  randomInt: crypto.randomInt,
  getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto),
  promisesSetTimeout: timersPromises.setTimeout,
  promisesSetImmediate: timersPromises.setImmediate,
};

/** Run `body` as code of the node `ambient` describes; what it starts stays on that node. */
export function runOn<T>(ambient: Ambient, body: () => T): T {
  return context.run(ambient, body);
}

/** A macrotask, for the kernel's drain (KernelOptions.yieldMacrotask): always the real one. */
export function realSetImmediate(resume: () => void): void {
  real.setImmediate(resume);
}

/** Node's rule: a delay that is not a number in [1, 2^31 - 1] ms is 1 ms. */
const TIMEOUT_MAX = 2 ** 31 - 1;
function delayOf(ms: unknown): number {
  const n = Number(ms);
  return n >= 1 && n <= TIMEOUT_MAX ? n : 1;
}

let nextTimerId = 1;

/**
 * A simulated timer, shaped like Node's Timeout (ref, unref, hasRef, refresh, close, a numeric
 * primitive) so that libraries holding one work unchanged. The node's Host schedules it; if the
 * node has died, it never fires, as nothing of a dead process runs.
 */
class SimTimeout {
  private timer: Timer | null = null;
  private cleared = false;
  private referenced = true;
  private readonly id = nextTimerId++;

  constructor(
    private readonly ambient: Ambient,
    private readonly callback: (...args: unknown[]) => void,
    private readonly delayMs: number,
    private readonly args: unknown[],
    private readonly repeat: boolean,
  ) {
    this.arm();
  }

  private arm(): void {
    const host = this.ambient.host;
    if (this.cleared || !host.alive) return;
    this.timer = host.timer(this.delayMs, 'subject-timer', () => this.fire());
  }

  private fire(): void {
    this.timer = null;
    if (this.cleared) return;
    const { ambient } = this;
    ambient.wake();
    try {
      runOn(ambient, () => this.callback(...this.args));
    } catch (error) {
      ambient.fail(error);
    }
    if (this.repeat) this.arm();
  }

  clear(): void {
    this.cleared = true;
    this.timer?.cancel();
    this.timer = null;
  }

  refresh(): this {
    if (this.cleared) return this;
    this.timer?.cancel();
    this.arm();
    return this;
  }

  ref(): this {
    this.referenced = true;
    return this;
  }

  unref(): this {
    this.referenced = false;
    return this;
  }

  hasRef(): boolean {
    return this.referenced;
  }

  close(): this {
    this.clear();
    return this;
  }

  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

function clearAny(handle: unknown, clearReal: (handle: never) => void): void {
  if (handle instanceof SimTimeout) handle.clear();
  else if (handle !== undefined && handle !== null) clearReal(handle as never);
}

function schedule(
  realSchedule: (...args: never[]) => unknown,
  repeat: boolean,
  immediate: boolean,
): (callback: (...args: unknown[]) => void, ms?: unknown, ...args: unknown[]) => unknown {
  return function routed(callback, ms, ...args) {
    const ambient = context.getStore();
    if (ambient === undefined) return (realSchedule as (...a: unknown[]) => unknown)(callback, ms, ...args);
    if (typeof callback !== 'function')
      throw new TypeError('The "callback" argument must be of type function. Received ' + typeof callback);
    // setImmediate(callback, ...args): there is no delay argument.
    if (immediate) return new SimTimeout(ambient, callback, 0, ms === undefined ? args : [ms, ...args], false);
    return new SimTimeout(ambient, callback, delayOf(ms), args, repeat);
  };
}

const routedSetTimeout = schedule(real.setTimeout as never, false, false);
const routedSetInterval = schedule(real.setInterval as never, true, false);
const routedSetImmediate = schedule(real.setImmediate as never, false, true);
const routedClear = (handle: unknown): void => clearAny(handle, real.clearTimeout as never);
const routedClearInterval = (handle: unknown): void => clearAny(handle, real.clearInterval as never);
const routedClearImmediate = (handle: unknown): void => clearAny(handle, real.clearImmediate as never);

/** The node's wall clock, in whole ms as Date.now() gives. */
function wallNow(ambient: Ambient): number {
  return Math.floor(ambient.host.clock.now());
}

const routedDateNow = (): number => {
  const ambient = context.getStore();
  return ambient === undefined ? real.Date.now() : wallNow(ambient);
};

/** Date, with `new Date()`, `Date()` and `Date.now()` on the node's wall clock; everything else is Date's. */
const RoutedDate = new Proxy(real.Date, {
  construct(target, args: unknown[], newTarget) {
    const ambient = context.getStore();
    if (ambient !== undefined && args.length === 0)
      return Reflect.construct(target, [wallNow(ambient)], newTarget) as object;
    return Reflect.construct(target, args, newTarget) as object;
  },
  apply(target, self, args: unknown[]) {
    const ambient = context.getStore();
    if (ambient === undefined) return Reflect.apply(target, self, args) as string;
    return new target(wallNow(ambient)).toString();
  },
  get(target, key, receiver) {
    if (key === 'now') return routedDateNow;
    return Reflect.get(target, key, receiver) as unknown;
  },
});

function randomBuffer(ambient: Ambient, size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(ambient.rng.next() * 256);
  return out;
}

function routedRandomBytes(size: number, callback?: (error: Error | null, buf: Buffer) => void): Buffer | undefined {
  const ambient = context.getStore();
  if (ambient === undefined) return (real.randomBytes as (...a: unknown[]) => Buffer | undefined)(size, callback);
  const bytes = randomBuffer(ambient, size);
  if (callback === undefined) return bytes;
  routedSetImmediate(() => callback(null, bytes));
  return undefined;
}

function uuidOf(bytes: Buffer): string {
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function routedRandomUUID(options?: crypto.RandomUUIDOptions): string {
  const ambient = context.getStore();
  return ambient === undefined ? real.randomUUID(options) : uuidOf(randomBuffer(ambient, 16));
}

function routedRandomInt(min: number, max?: number | ((e: Error | null, n: number) => void), cb?: unknown): unknown {
  const ambient = context.getStore();
  if (ambient === undefined) return (real.randomInt as (...a: unknown[]) => unknown)(min, max, cb);
  const [low, high] = typeof max === 'number' ? [min, max] : [0, min];
  const value = low + Math.floor(ambient.rng.next() * (high - low));
  const callback = typeof max === 'function' ? max : (cb as ((e: Error | null, n: number) => void) | undefined);
  if (callback === undefined) return value;
  routedSetImmediate(() => callback(null, value));
  return undefined;
}

function routedGetRandomValues<T extends ArrayBufferView | null>(array: T): T {
  const ambient = context.getStore();
  if (ambient === undefined || array === null) return real.getRandomValues(array as never) as T;
  const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  view.set(randomBuffer(ambient, view.length));
  return array;
}

function routedPromisesSetTimeout<T>(ms?: number, value?: T, options?: { signal?: AbortSignal }): Promise<T> {
  const ambient = context.getStore();
  if (ambient === undefined) return real.promisesSetTimeout(ms, value, options);
  return delayed(ambient, delayOf(ms), value as T, options?.signal);
}

function routedPromisesSetImmediate<T>(value?: T, options?: { signal?: AbortSignal }): Promise<T> {
  const ambient = context.getStore();
  if (ambient === undefined) return real.promisesSetImmediate(value, options);
  return delayed(ambient, 0, value as T, options?.signal);
}

/** timers/promises on the node: resolves with `value` when the timer fires, rejects on abort. */
function delayed<T>(ambient: Ambient, delayMs: number, value: T, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const aborted = () => new DOMException('The operation was aborted', 'AbortError');
    if (signal?.aborted === true) {
      reject(aborted());
      return;
    }
    const onAbort = (): void => {
      timer.clear();
      reject(aborted());
    };
    const timer = new SimTimeout(
      ambient,
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      delayMs,
      [],
      false,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

let installed = false;

/**
 * Replace the globals (and the same functions of `timers`, `timers/promises` and `crypto`) with
 * their routed forms. Idempotent; outside a simulated subject they behave exactly as before.
 * Must run before a library that captures a global at load time (bluebird keeps `setImmediate`).
 */
export function installAmbient(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as Record<string, unknown>;
  g.setTimeout = routedSetTimeout;
  g.setInterval = routedSetInterval;
  g.setImmediate = routedSetImmediate;
  g.clearTimeout = routedClear;
  g.clearInterval = routedClearInterval;
  g.clearImmediate = routedClearImmediate;
  g.Date = RoutedDate;
  Math.random = () => {
    const ambient = context.getStore();
    return ambient === undefined ? real.random() : ambient.rng.next();
  };
  performance.now = () => {
    const ambient = context.getStore();
    return ambient === undefined ? real.performanceNow() : ambient.host.clock.monotonic();
  };
  const t = timers as unknown as Record<string, unknown>;
  Object.assign(t, {
    setTimeout: routedSetTimeout,
    setInterval: routedSetInterval,
    setImmediate: routedSetImmediate,
    clearTimeout: routedClear,
    clearInterval: routedClearInterval,
    clearImmediate: routedClearImmediate,
  });
  const tp = timersPromises as unknown as Record<string, unknown>;
  tp.setTimeout = routedPromisesSetTimeout;
  tp.setImmediate = routedPromisesSetImmediate;
  // crypto.getRandomValues of the module is a fixed getter onto the Web Crypto object, which is
  // the one replaced here (globalThis.crypto).
  const replace = (target: object, name: string, value: unknown): void => {
    Object.defineProperty(target, name, { value, writable: true, configurable: true, enumerable: true });
  };
  replace(crypto, 'randomBytes', routedRandomBytes);
  replace(crypto, 'randomUUID', routedRandomUUID);
  replace(crypto, 'randomInt', routedRandomInt);
  replace(globalThis.crypto, 'getRandomValues', routedGetRandomValues);
  replace(globalThis.crypto, 'randomUUID', routedRandomUUID);
  // ESM named imports of built-in modules see the new functions only after this.
  syncBuiltinESMExports();
}

/**
 * A native promise rejected with no handler crashes a Node process (Node's default); in a
 * simulated run, the run stops instead, with the rejection as its error. A library's own promises
 * (bluebird's) report theirs through the same event, and Node's default for them is bluebird's: a
 * warning, nothing more; so they are let pass. The listener is there only while a run is.
 */
const runs = new Set<(error: unknown) => void>();

/** While `fail` is registered, an unhandled rejection stops that run (SimWorld registers per run). */
export function onUnhandled(fail: (error: unknown) => void): () => void {
  if (runs.size === 0) process.on('unhandledRejection', onUnhandledRejection);
  runs.add(fail);
  return () => {
    runs.delete(fail);
    if (runs.size === 0) process.off('unhandledRejection', onUnhandledRejection);
  };
}

function onUnhandledRejection(reason: unknown, promise: unknown): void {
  if (!(promise instanceof Promise)) return;
  for (const fail of runs) fail(reason);
}
