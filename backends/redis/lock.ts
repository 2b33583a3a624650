/**
 * The single-Redis lock: SET key value NX PX ttl with a random value, released by deleting the
 * key only if it still holds that value. Fencing token: INCR on a counter beside the lock key,
 * taken once the lock is won.
 */
import type { Runtime } from '../runtime.ts';
import { checkRecipeOptions, positive, type Grant, type LockRecipe, type RecipeOptions } from '../recipe.ts';
import { leaseDeadline } from '../lease.ts';
import type { RedisPort } from './port.ts';

export interface RedisLockOptions extends RecipeOptions {
  /** Wait between attempts while someone else holds the lock. */
  readonly retryDelayMs: number;
}

export interface RedisGrant extends Grant {
  readonly value: string;
  readonly validUntilMs: number;
}

/**
 * What a variant of the recipe changes (redis-sentinel's): how a write's outcome is read, and a
 * check after the grant and its token, whose refusal releases the grant and tries again.
 */
export interface GrantSteps {
  /** Whether the write was done; by default an unknown outcome (timeout, lost connection) is no. */
  readonly written?: (operation: () => PromiseLike<boolean>) => Promise<boolean>;
  readonly confirm?: () => Promise<boolean>;
}

export class RedisLock implements LockRecipe {
  constructor(
    private readonly runtime: Runtime,
    private readonly port: RedisPort,
    private readonly options: RedisLockOptions,
    private readonly steps: GrantSteps = {},
  ) {
    checkRecipeOptions(options);
    positive('retryDelayMs', options.retryDelayMs);
  }

  async acquire(): Promise<RedisGrant | null> {
    const { clock, rng } = this.runtime;
    const { name, ttlMs, fencing, acquireTimeoutMs, retryDelayMs } = this.options;
    const { written = attempt, confirm } = this.steps;
    const startedMs = clock.monotonic();
    while (clock.monotonic() - startedMs < acquireTimeoutMs) {
      const value = rng.hex(16);
      const sentAtMs = clock.monotonic();
      if (await written(() => this.port.setNxPx(name, value, ttlMs))) {
        const token = fencing ? await this.port.incr(`${name}:fence`) : null;
        if (confirm === undefined || (await confirm()))
          return { token, validUntilMs: leaseDeadline(sentAtMs, ttlMs), value };
        await written(() => this.port.deleteIfEqual(name, value));
      }
      await clock.sleep(retryDelayMs);
    }
    return null;
  }

  async release(grant: Grant): Promise<void> {
    await this.port.deleteIfEqual(this.options.name, (grant as RedisGrant).value);
  }
}

/** An attempt whose outcome is unknown (timeout, lost connection) counts as not won. */
export async function attempt(operation: () => PromiseLike<boolean>): Promise<boolean> {
  try {
    return await operation();
  } catch (error) {
    if (isTransient(error)) return false;
    throw error;
  }
}

export function isTransient(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'TimeoutError' || name === 'ConnectionLost';
}
