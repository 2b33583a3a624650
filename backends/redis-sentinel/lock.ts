/**
 * The lock on a replicated Redis under Sentinel: single Redis's recipe (SET NX PX with a random
 * value, compare-and-delete release, INCR token beside the key), sent to whichever node Sentinel
 * names the primary. With `waitReplicas` set, a grant (and its token) must then reach that many
 * replicas within `waitTimeoutMs` (WAIT); a grant that does not is released and tried again.
 * WAIT narrows the window in which a failover loses the grant; it cannot close it: Sentinel may
 * promote a replica WAIT did not count, and the token is a counter on one node, which a failover
 * rolls back as it rolls back the key.
 */
import type { Runtime } from '../runtime.ts';
import { checkRecipeOptions, positive, RecipeConfigError, type Grant, type LockRecipe } from '../recipe.ts';
import { leaseDeadline } from '../lease.ts';
import { attempt, isTransient, type RedisGrant, type RedisLockOptions } from '../redis/lock.ts';
import type { SentinelPort } from './port.ts';

export interface SentinelLockOptions extends RedisLockOptions {
  /** Replicas WAIT must count after a grant (0: no WAIT). */
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
}

export class SentinelLock implements LockRecipe {
  constructor(
    private readonly runtime: Runtime,
    private readonly port: SentinelPort,
    private readonly options: SentinelLockOptions,
  ) {
    checkRecipeOptions(options);
    positive('retryDelayMs', options.retryDelayMs);
    positive('waitTimeoutMs', options.waitTimeoutMs);
    if (!Number.isInteger(options.waitReplicas) || options.waitReplicas < 0)
      throw new RecipeConfigError(`waitReplicas must be a whole number >= 0, got ${options.waitReplicas}`);
  }

  async acquire(): Promise<RedisGrant | null> {
    const { clock, rng } = this.runtime;
    const { name, ttlMs, fencing, acquireTimeoutMs, retryDelayMs } = this.options;
    const startedMs = clock.monotonic();
    while (clock.monotonic() - startedMs < acquireTimeoutMs) {
      const value = rng.hex(16);
      const sentAtMs = clock.monotonic();
      if (await written(() => this.port.setNxPx(name, value, ttlMs))) {
        const token = fencing ? await this.port.incr(`${name}:fence`) : null;
        if (await this.replicated()) return { token, validUntilMs: leaseDeadline(sentAtMs, ttlMs), value };
        await written(() => this.port.deleteIfEqual(name, value));
      }
      await clock.sleep(retryDelayMs);
    }
    return null;
  }

  async release(grant: Grant): Promise<void> {
    await this.port.deleteIfEqual(this.options.name, (grant as RedisGrant).value);
  }

  /** Whether WAIT counted enough replicas (always, without WAIT); an unknown outcome counts as no. */
  private async replicated(): Promise<boolean> {
    const { waitReplicas, waitTimeoutMs } = this.options;
    if (waitReplicas === 0) return true;
    try {
      return (await this.port.waitReplicas(waitReplicas, waitTimeoutMs)) >= waitReplicas;
    } catch (error) {
      if (isTransient(error) || isRefused(error)) return false;
      throw error;
    }
  }
}

/** A write's outcome: refused (READONLY, NOREPLICAS) counts as not done, like a timeout. */
export async function written(operation: () => PromiseLike<boolean>): Promise<boolean> {
  try {
    return await attempt(operation);
  } catch (error) {
    if (isRefused(error)) return false;
    throw error;
  }
}

function isRefused(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'WriteRefused';
}
