/**
 * The kernel: virtual time, the event queue, and the run loop.
 *
 * Determinism rests on one rule: simulated code only ever wakes up because the kernel settled a
 * Future from inside an event, and the kernel does not fire the next event until every thread it
 * woke has blocked again (or finished). Threads are counted, not polled with macrotasks: see
 * future.ts for the accounting and what breaks it.
 *
 * Everything is bounded: a run that fires more events than its budget, or whose woken code does
 * not settle within a bounded number of microtask turns, ends with an error that says why.
 */
import { BudgetExceededError, ProcessKilled, SchedulingError, SimUsageError, requireDuration } from './errors.ts';
import { EventQueue, LANE_NORMAL, LANE_URGENT, type EventOwner, type SimEvent } from './events.ts';
import { Future } from './future.ts';
import { Trace, type TraceOptions } from './trace.ts';

export interface KernelOptions {
  /** Most events one run may fire before it is stopped as runaway. */
  readonly eventBudget?: number;
  /** Most microtask turns woken code may take to block again after one event. */
  readonly settleTurnLimit?: number;
  readonly trace?: TraceOptions;
  /**
   * How to wait for every pending microtask to run: one macrotask (setImmediate). Needed only when
   * code outside the thread accounting runs in the simulation (a third-party lock library, whose
   * promises are not Futures): see `wokeUncounted`. Without it such a wake is an error.
   */
  readonly yieldMacrotask?: (resume: () => void) => void;
}

const settled = Promise.resolve();

export const DEFAULT_EVENT_BUDGET = 50_000_000;
export const DEFAULT_SETTLE_TURN_LIMIT = 100_000;

export class Kernel {
  nowMs = 0;
  /** Threads woken and not yet blocked again. Maintained by Future and startThread. */
  runnable = 0;
  firedEvents = 0;
  readonly trace: Trace;
  readonly eventBudget: number;
  private readonly settleTurnLimit: number;
  private readonly queue = new EventQueue();
  private seq = 0;
  private failure: { error: unknown } | null = null;
  private running = false;
  private lastLabel = '(start)';
  private readonly yieldMacrotask: ((resume: () => void) => void) | undefined;
  /** Uncounted code was woken; the loop drains the microtask queue before the next event. */
  private draining = false;

  constructor(options: KernelOptions = {}) {
    this.eventBudget = options.eventBudget ?? DEFAULT_EVENT_BUDGET;
    this.settleTurnLimit = options.settleTurnLimit ?? DEFAULT_SETTLE_TURN_LIMIT;
    if (!Number.isInteger(this.eventBudget) || this.eventBudget <= 0) {
      throw new SimUsageError(`eventBudget must be a positive integer, got ${String(options.eventBudget)}`);
    }
    if (!Number.isInteger(this.settleTurnLimit) || this.settleTurnLimit <= 0) {
      throw new SimUsageError(`settleTurnLimit must be a positive integer, got ${String(options.settleTurnLimit)}`);
    }
    this.trace = new Trace(options.trace);
    this.yieldMacrotask = options.yieldMacrotask;
  }

  /**
   * Code the thread count does not see was woken or started: a library's own promise chain,
   * resumed by a reply or by one of its timers. Its microtasks may run for any number of turns
   * and then wait on a kernel event again, so before the next event the loop lets the whole
   * microtask queue drain, through one macrotask (KernelOptions.yieldMacrotask).
   */
  wokeUncounted(): void {
    if (this.yieldMacrotask === undefined) {
      this.fail(new SimUsageError('code outside the thread accounting ran, but the kernel has no yieldMacrotask'));
      return;
    }
    this.draining = true;
  }

  get pendingEvents(): number {
    return this.queue.size;
  }

  /** Schedule `fire` after `delayMs` of true time. With an owner, it belongs to that incarnation. */
  schedule(
    delayMs: number,
    owner: EventOwner | null,
    label: string,
    fire: () => void,
    options: ScheduleOptions = {},
  ): SimEvent {
    return this.scheduleCall(
      delayMs,
      owner,
      label,
      fire,
      undefined,
      options.urgent === true,
      options.deferOnPause ?? true,
      options.aux ?? 0,
    );
  }

  /** schedule() for hot paths: `fire(arg)` instead of a fresh closure, and no options object. */
  scheduleCall<A>(
    delayMs: number,
    owner: EventOwner | null,
    label: string,
    fire: (arg: A) => void,
    arg: A,
    urgent: boolean,
    deferOnPause: boolean,
    aux: number,
  ): SimEvent {
    if (!(delayMs >= 0 && delayMs !== Number.POSITIVE_INFINITY)) requireDuration(`delay of event '${label}'`, delayMs);
    const event: SimEvent = {
      timeMs: this.nowMs + delayMs,
      lane: urgent ? LANE_URGENT : LANE_NORMAL,
      seq: this.seq++,
      owner,
      incarnation: owner === null ? 0 : owner.incarnation,
      deferOnPause,
      label,
      aux,
      fire: fire as (arg: never) => void,
      arg,
      cancelled: false,
    };
    this.queue.push(event);
    return event;
  }

  /** Put an event back in the queue now, ahead of ordinary events at this instant. */
  requeueUrgent(event: SimEvent): void {
    event.timeMs = this.nowMs;
    event.lane = LANE_URGENT;
    event.seq = this.seq++;
    this.queue.push(event);
  }

  /** Hand `fire` to a paused owner, to run when it resumes. */
  deferTo(owner: EventOwner, label: string, fire: () => void): void {
    owner.defer({
      timeMs: this.nowMs,
      lane: LANE_URGENT,
      seq: this.seq++,
      owner,
      incarnation: owner.incarnation,
      deferOnPause: true,
      label,
      aux: 0,
      fire,
      arg: undefined,
      cancelled: false,
    });
  }

  future<T>(owner: EventOwner | null): Future<T> {
    return new Future<T>(this, owner, owner === null ? 0 : owner.incarnation);
  }

  /** Count one thread as blocked on a Future. */
  block(): void {
    if (--this.runnable < 0) {
      this.runnable = 0;
      this.fail(
        new SchedulingError(
          `more threads blocked than were running, after event '${this.lastLabel}' at t=${this.nowMs}ms: ` +
            'a kernel Future was awaited through Promise.all/Promise.race or .then() without await; ' +
            'use host.all() or host.deadline() to combine kernel waits',
        ),
      );
    }
  }

  /**
   * Run `body` as a thread: counted runnable until the promise it returns settles.
   * `done` receives the outcome; a ProcessKilled outcome is reported as such, not as a failure.
   */
  startThread(body: () => unknown, done: (ok: boolean, value: unknown) => void): void {
    this.runnable++;
    let result: unknown;
    try {
      result = body();
    } catch (error) {
      this.runnable--;
      done(false, error);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(
        (value) => {
          this.runnable--;
          done(true, value);
        },
        (error: unknown) => {
          this.runnable--;
          done(false, error);
        },
      );
    } else {
      this.runnable--;
      done(true, result);
    }
  }

  /** Stop the run with `error` after the current event; the first failure wins. */
  fail(error: unknown): void {
    if (error instanceof ProcessKilled) return;
    if (this.failure === null) this.failure = { error };
  }

  /**
   * Fire events in (time, lane, seq) order until the queue is empty or the next event lies
   * beyond `untilMs`; then virtual time stands at `untilMs` (if given).
   */
  run(untilMs: number = Number.POSITIVE_INFINITY): Promise<void> {
    if (this.running) return Promise.reject(new SimUsageError('run() called while the simulation is already running'));
    if (Number.isNaN(untilMs) || untilMs < this.nowMs) {
      return Promise.reject(
        new SimUsageError(`run: untilMs must be >= the current time ${this.nowMs}ms, got ${String(untilMs)}`),
      );
    }
    this.running = true;
    return new Promise<void>((resolve, reject) => {
      let turns = 0;
      // The loop runs synchronously while events wake nobody. When one does, it hands itself to
      // the microtask queue, behind the woken code, and checks again on every turn until all of
      // that code has blocked: never a macrotask. (A reaction on a settled promise is much
      // cheaper than Node's queueMicrotask, which wraps every callback for async_hooks.)
      const step = (): void => {
        try {
          if (this.draining && this.yieldMacrotask !== undefined) {
            this.draining = false;
            turns = 0;
            this.yieldMacrotask(step);
            return;
          }
          if (this.runnable > 0) {
            if (++turns > this.settleTurnLimit) throw this.unsettled();
            void settled.then(step);
            return;
          }
          turns = 0;
          this.throwIfFailed();
          if (this.fireUntilSomethingWakes(untilMs)) {
            void settled.then(step);
            return;
          }
          if (untilMs !== Number.POSITIVE_INFINITY) this.nowMs = untilMs;
          this.running = false;
          resolve();
        } catch (error) {
          this.running = false;
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on whatever the simulated code threw, unchanged, as run() always has
          reject(error);
        }
      };
      step();
    });
  }

  /** Fire due events until one wakes a thread (true) or none is left before `untilMs` (false). */
  private fireUntilSomethingWakes(untilMs: number): boolean {
    const queue = this.queue;
    for (;;) {
      const next = queue.peek();
      if (next === undefined || next.timeMs > untilMs) return false;
      queue.pop();
      if (next.cancelled) continue;
      this.nowMs = next.timeMs;
      const owner = next.owner;
      if (owner !== null) {
        if (owner.incarnation !== next.incarnation) continue;
        if (owner.paused && next.deferOnPause) {
          owner.defer(next);
          continue;
        }
      }
      if (++this.firedEvents > this.eventBudget) {
        throw new BudgetExceededError(
          `event budget of ${this.eventBudget} exceeded at t=${this.nowMs}ms (next event '${next.label}'` +
            `${owner === null ? '' : ` on ${owner.id}`}); the run is stopped rather than left to spin`,
        );
      }
      this.lastLabel = next.label;
      this.trace.record(
        this.nowMs,
        owner === null ? -1 : owner.index,
        owner === null ? '-' : owner.id,
        next.label,
        next.aux,
      );
      next.fire(next.arg as never);
      if (this.runnable > 0 || this.draining) return true;
      this.throwIfFailed();
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure.error;
  }

  /** Why woken code did not settle: an earlier recorded misuse explains it best. */
  private unsettled(): unknown {
    if (this.failure !== null) return this.failure.error;
    return new SchedulingError(
      `after event '${this.lastLabel}' at t=${this.nowMs}ms, ${this.runnable} woken thread(s) did not block on a ` +
        `kernel primitive within ${this.settleTurnLimit} microtask turns: simulated code awaited something the ` +
        'kernel does not control (a bare Promise, a real timer, I/O)',
    );
  }
}

export interface ScheduleOptions {
  readonly urgent?: boolean;
  readonly deferOnPause?: boolean;
  readonly aux?: number;
}
