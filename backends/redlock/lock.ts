/**
 * RedLock, as the Redis documentation specifies it (the "distlock" page):
 *   1. read the monotonic clock;
 *   2. try SET key value NX PX ttl on every node, each with a timeout small next to the TTL;
 *   3. the lock is won if a majority said yes and the validity is positive, where
 *      validity = ttl - elapsed - drift, drift = 1% of ttl + 2 ms, judged on the client's clock;
 *   4. a failed attempt releases every node, including those that seemed to say no;
 *   5. then retry after a random delay.
 * Each node's port times its requests out after the per-node timeout (it is built with it).
 * Fencing: RedLock has no sound token. With fencing on this takes the best-known attempt, the
 * largest INCR counter over the nodes of the majority it won, and leaves it to the checkers to
 * show whether that holds.
 */
import type { Runtime } from '../runtime.ts';
import {
  RecipeConfigError,
  checkRecipeOptions,
  positive,
  type Grant,
  type LockRecipe,
  type RecipeOptions,
} from '../recipe.ts';
import { driftAllowanceMs } from '../lease.ts';
import { attempt, isTransient } from '../redis/lock.ts';
import type { RedlockNodePort } from './port.ts';

export interface RedlockOptions extends RecipeOptions {
  /**
   * Per-node request timeout; must be small next to the TTL. Each node's port is built with it and
   * times its own requests out, so that a round costs no extra timer per node.
   */
  readonly requestTimeoutMs: number;
  /** Between attempts: a fixed delay plus a uniform random jitter up to the same amount. */
  readonly retryDelayMs: number;
}

export interface RedlockGrant extends Grant {
  readonly value: string;
  readonly validUntilMs: number;
  /** The nodes that said yes. */
  readonly won: readonly number[];
}

/** The outcome of one round over every node: who said yes, and how much validity is left. */
export interface RedlockRound {
  readonly won: number[];
  readonly validityMs: number;
  readonly startedMs: number;
}

export class Redlock implements LockRecipe {
  readonly majority: number;

  constructor(
    private readonly runtime: Runtime,
    private readonly nodes: readonly RedlockNodePort[],
    private readonly options: RedlockOptions,
  ) {
    checkRecipeOptions(options);
    positive('requestTimeoutMs', options.requestTimeoutMs);
    positive('retryDelayMs', options.retryDelayMs);
    if (nodes.length < 3) {
      throw new RecipeConfigError(`nodes must be at least 3 for a majority to survive a failure, got ${nodes.length}`);
    }
    if (options.requestTimeoutMs >= options.ttlMs) {
      throw new RecipeConfigError(
        `requestTimeoutMs (${options.requestTimeoutMs}) must be smaller than ttlMs (${options.ttlMs})`,
      );
    }
    this.majority = Math.floor(nodes.length / 2) + 1;
  }

  async acquire(): Promise<RedlockGrant | null> {
    const { clock, rng } = this.runtime;
    const { acquireTimeoutMs, retryDelayMs } = this.options;
    const startedMs = clock.monotonic();
    while (clock.monotonic() - startedMs < acquireTimeoutMs) {
      const value = rng.hex(16);
      const round = await this.round((node) => node.setNxPx(this.options.name, value, this.options.ttlMs));
      if (round.won.length >= this.majority && round.validityMs > 0) {
        const token = this.options.fencing ? await this.bestKnownToken(round.won) : null;
        return { token, value, won: round.won, validUntilMs: round.startedMs + round.validityMs };
      }
      await this.releaseValue(value);
      await clock.sleep(retryDelayMs + rng.int(0, retryDelayMs));
    }
    return null;
  }

  async release(grant: Grant): Promise<void> {
    await this.releaseValue((grant as RedlockGrant).value);
  }

  /**
   * Run `operation` on every node at once, each under the per-node timeout; an unknown outcome
   * counts as no. The round ends as soon as a majority said yes (as node-redlock's does; the
   * slower nodes' answers go on arriving, and release covers every node), or once every node
   * answered. Validity is what is left of the TTL after the round and the drift allowance.
   */
  async round(operation: (node: RedlockNodePort) => PromiseLike<boolean>): Promise<RedlockRound> {
    const { clock } = this.runtime;
    const startedMs = clock.monotonic();
    const answers = await this.runtime.quorum(
      this.nodes.map((node) => () => attempt(() => operation(node))),
      this.majority,
      (yes) => yes,
    );
    const won = answers.flatMap((yes, i) => (yes === true ? [i] : []));
    const elapsedMs = clock.monotonic() - startedMs;
    return { won, startedMs, validityMs: this.options.ttlMs - elapsedMs - driftAllowanceMs(this.options.ttlMs) };
  }

  /**
   * Delete the key on every node where it still holds `value`; nodes that cannot be reached are
   * skipped. Returns once a majority confirmed a delete, or every node answered; the other deletes
   * go on (node-redlock's release returns at a majority too).
   */
  async releaseValue(value: string): Promise<void> {
    await this.runtime.quorum(
      this.nodes.map((node) => () => attempt(() => node.deleteIfEqual(this.options.name, value))),
      this.majority,
      (deleted) => deleted,
    );
  }

  private async bestKnownToken(won: readonly number[]): Promise<number | null> {
    const counters = await this.runtime.all(
      won.map((i) => {
        const node = this.nodes[i];
        if (node === undefined) throw new Error(`redlock: no node at index ${i}`);
        return () => orNull(() => node.incr(`${this.options.name}:fence`));
      }),
    );
    const known = counters.filter((n): n is number => n !== null);
    return known.length === 0 ? null : Math.max(...known);
  }
}

/** A node's answer, or null when its outcome is unknown (timeout, lost connection). */
async function orNull<T>(call: () => PromiseLike<T>): Promise<T | null> {
  try {
    return await call();
  } catch (error) {
    if (isTransient(error)) return null;
    throw error;
  }
}
