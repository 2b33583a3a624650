/**
 * The Runtime a recipe gets in the live world: real time, real randomness, plain promises. The
 * recipes are the same code the simulator runs; only this and the ports differ.
 */
import { randomBytes, randomFillSync, randomInt } from 'node:crypto';
import type { RandomSource, Runtime } from '../backends/runtime.ts';
import { TimeoutError } from '../sim/errors.ts';
import { RealClock } from './clock.ts';

/**
 * Crypto randomness, drawn from the kernel a pool at a time: a `randomBytes` call costs about
 * 4 microseconds, a fifth of the whole client-side cost of a loopback Redis acquire, and every
 * acquire draws a fresh lock value.
 */
const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

const random: RandomSource = {
  hex: (bytes) => {
    if (bytes > POOL_BYTES) return randomBytes(bytes).toString('hex');
    if (used + bytes > POOL_BYTES) {
      randomFillSync(pool);
      used = 0;
    }
    used += bytes;
    return pool.toString('hex', used - bytes, used);
  },
  int: (min, max) => randomInt(min, max + 1),
};

export class LiveRuntime implements Runtime {
  readonly clock = new RealClock();
  readonly rng = random;
  /** Failures of background tasks (renewal loops); a harness checks it is empty at the end. */
  readonly failures: unknown[] = [];

  constructor(readonly id: string) {}

  all<T>(tasks: ReadonlyArray<() => PromiseLike<T>>): Promise<T[]> {
    return Promise.all(tasks.map((task) => task()));
  }

  quorum<T>(
    tasks: ReadonlyArray<() => PromiseLike<T>>,
    needed: number,
    counts: (value: T) => boolean,
  ): Promise<(T | undefined)[]> {
    return new Promise((resolve, reject) => {
      const results = new Array<T | undefined>(tasks.length).fill(undefined);
      let left = tasks.length;
      let accepted = 0;
      let done = false;
      if (left === 0 || needed <= 0) {
        resolve(results);
        return;
      }
      tasks.forEach((task, i) => {
        Promise.resolve(task()).then(
          (value) => {
            if (done) return;
            results[i] = value;
            if (counts(value)) accepted++;
            left--;
            if (accepted >= needed || left === 0) {
              done = true;
              resolve([...results]);
            }
          },
          (error: unknown) => {
            if (done) return;
            done = true;
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes a task's rejection on unchanged, as Promise.all does
            reject(error);
          },
        );
      });
    });
  }

  deadline<T>(task: () => PromiseLike<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`deadline of ${ms}ms passed on ${this.id}`)), ms);
    });
    return Promise.race([Promise.resolve(task()), timeout]).finally(() => clearTimeout(timer));
  }

  spawn(name: string, body: () => Promise<void>): void {
    body().catch((error: unknown) =>
      this.failures.push(new Error(`${name} on ${this.id} failed: ${String(error)}`, { cause: error })),
    );
  }
}
