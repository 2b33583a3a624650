/**
 * What a recipe may use of the world it runs in. The simulator's Host provides it; the live
 * harness provides the same with real time. Recipes see nothing else: no ambient clock, no
 * ambient randomness, no bare timers, so one recipe runs unchanged in both worlds.
 */
import type { Clock } from '../sim/clock.ts';

export interface RandomSource {
  /** `bytes` random bytes as lowercase hex. */
  hex(bytes: number): string;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
}

export interface Runtime {
  readonly id: string;
  readonly clock: Clock;
  readonly rng: RandomSource;
  /** Run tasks concurrently; all results, or the first error. */
  all<T>(tasks: ReadonlyArray<() => PromiseLike<T>>): PromiseLike<T[]>;
  /**
   * Run tasks concurrently; resolve as soon as `needed` of them resolved to a value `counts`
   * accepts, or once every task has settled: the results so far, undefined where a task has not
   * finished (it goes on). A task that rejects rejects the whole.
   */
  quorum<T>(
    tasks: ReadonlyArray<() => PromiseLike<T>>,
    needed: number,
    counts: (value: T) => boolean,
  ): PromiseLike<(T | undefined)[]>;
  /** Run `task`; reject with a TimeoutError if it has not settled after `ms` of local time. */
  deadline<T>(task: () => PromiseLike<T>, ms: number): PromiseLike<T>;
  /** Run `body` in the background (a renewal loop, a watch). Its failure fails the run. */
  spawn(name: string, body: () => Promise<void>): void;
}
