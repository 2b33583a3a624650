/**
 * Future: the one thing simulated code awaits.
 *
 * A Future is a thenable that the kernel settles from inside an event. It also does the
 * bookkeeping that lets the run loop advance virtual time without a macrotask per event: every
 * `await` on a pending Future counts one thread as blocked, every settlement counts each waiter
 * as runnable again, and the loop lets microtasks run until no thread is runnable. That works
 * as long as each await resumes exactly one thread, which holds for `await future` and for kernel
 * combinators (host.all, host.deadline). `Promise.all` or `Promise.race` over Futures breaks it;
 * the kernel notices (its count goes negative, or a woken thread never blocks again) and stops the
 * run with a SchedulingError that says so.
 */
import type { EventOwner } from './events.ts';
import type { Kernel } from './kernel.ts';

const PENDING = 0;
const FULFILLED = 1;
const REJECTED = 2;
type State = typeof PENDING | typeof FULFILLED | typeof REJECTED;

type Listener = (state: State, value: unknown) => void;
type OnFulfilled = ((value: never) => unknown) | null | undefined;
type OnRejected = ((reason: unknown) => unknown) | null | undefined;

export class Future<T> implements PromiseLike<T> {
  private state: State = PENDING;
  private value: unknown = undefined;
  // Who awaits: the Futures that `then` returned, each carrying the callbacks it was given.
  // The first is kept apart from the rest because one awaiter is by far the common case.
  private firstWaiter: Future<unknown> | null = null;
  private moreWaiters: Future<unknown>[] | null = null;
  private listeners: Listener[] | null = null;
  private onFulfilled: OnFulfilled = null;
  private onRejected: OnRejected = null;

  /**
   * @param owner the node incarnation whose code this Future wakes, or null for the harness.
   *   A Future of a dead incarnation never settles; one of a paused node settles on resume.
   * @param counted false for Futures derived by `then`, whose waiting is already counted.
   */
  constructor(
    private readonly kernel: Kernel,
    private readonly owner: EventOwner | null,
    private readonly incarnation: number,
    private readonly counted: boolean = true,
  ) {}

  get settled(): boolean {
    return this.state !== PENDING;
  }

  resolve(value: T): void {
    this.settle(FULFILLED, value);
  }

  reject(error: unknown): void {
    this.settle(REJECTED, error);
  }

  /** Kernel-internal: run `fn` when this settles, without counting anyone as blocked. */
  onSettle(fn: (ok: boolean, value: unknown) => void): void {
    if (this.state !== PENDING) fn(this.state === FULFILLED, this.value);
    else (this.listeners ??= []).push((state, value) => fn(state === FULFILLED, value));
  }

  then<R1 = T, R2 = never>(
    onFulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Future<R1 | R2> {
    const derived = new Future<R1 | R2>(this.kernel, null, 0, false);
    derived.onFulfilled = onFulfilled as OnFulfilled;
    derived.onRejected = onRejected;
    const waiter = derived as Future<unknown>;
    if (this.state === PENDING) {
      if (this.counted) this.kernel.block();
      if (this.firstWaiter === null) this.firstWaiter = waiter;
      else (this.moreWaiters ??= []).push(waiter);
    } else {
      const { state, value } = this;
      queueMicrotask(() => waiter.wake(state, value));
    }
    return derived;
  }

  /** Run the callbacks this derived Future was made with, and settle it with their outcome. */
  private wake(state: State, value: unknown): void {
    try {
      if (state === FULFILLED) {
        if (this.onFulfilled) this.adopt(this.onFulfilled(value as never));
        else this.settleNow(FULFILLED, value);
      } else if (this.onRejected) {
        this.adopt(this.onRejected(value));
      } else {
        this.settleNow(REJECTED, value);
      }
    } catch (error) {
      this.settleNow(REJECTED, error);
    }
  }

  private adopt(result: unknown): void {
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(
        (value) => this.settleNow(FULFILLED, value),
        (error: unknown) => this.settleNow(REJECTED, error),
      );
    } else {
      this.settleNow(FULFILLED, result);
    }
  }

  private settle(state: State, value: unknown): void {
    const owner = this.owner;
    if (owner !== null) {
      if (owner.incarnation !== this.incarnation) return;
      if (owner.paused) {
        this.kernel.deferTo(owner, 'settle', () => this.settle(state, value));
        return;
      }
    }
    this.settleNow(state, value);
  }

  private settleNow(state: State, value: unknown): void {
    if (this.state !== PENDING) return;
    this.state = state;
    this.value = value;
    const listeners = this.listeners;
    if (listeners !== null) {
      this.listeners = null;
      for (const listener of listeners) listener(state, value);
    }
    const first = this.firstWaiter;
    if (first !== null) {
      this.firstWaiter = null;
      if (this.counted) this.kernel.runnable++;
      first.wake(state, value);
      const more = this.moreWaiters;
      if (more !== null) {
        this.moreWaiters = null;
        for (const waiter of more) {
          if (this.counted) this.kernel.runnable++;
          waiter.wake(state, value);
        }
      }
    }
  }
}
