/**
 * The lock on a replicated Redis under Sentinel: single Redis's recipe (SET NX PX with a random
 * value, compare-and-delete release, INCR token beside the key), sent to whichever node Sentinel
 * names the primary. A write the server refused (READONLY, NOREPLICAS) counts as not done. With
 * `waitReplicas` set, a grant (and its token) must then reach that many replicas within
 * `waitTimeoutMs` (WAIT); a grant that does not is released and tried again.
 * WAIT narrows the window in which a failover loses the grant; it cannot close it: Sentinel may
 * promote a replica WAIT did not count, and the token is a counter on one node, which a failover
 * rolls back as it rolls back the key.
 */
import type { Runtime } from '../runtime.ts';
import { positive, RecipeConfigError } from '../recipe.ts';
import { attempt, isTransient, RedisLock, type GrantSteps, type RedisLockOptions } from '../redis/lock.ts';
import type { SentinelPort } from './port.ts';

export interface SentinelLockOptions extends RedisLockOptions {
  /** Replicas WAIT must count after a grant (0: no WAIT). */
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
}

export function sentinelLock(runtime: Runtime, port: SentinelPort, options: SentinelLockOptions): RedisLock {
  return new RedisLock(runtime, port, options, sentinelSteps(port, options));
}

/** What the lock does differently on a replicated Redis: refused writes, and WAIT when asked for. */
export function sentinelSteps(port: SentinelPort, options: SentinelLockOptions): GrantSteps {
  const { waitReplicas, waitTimeoutMs } = options;
  positive('waitTimeoutMs', waitTimeoutMs);
  if (!Number.isInteger(waitReplicas) || waitReplicas < 0)
    throw new RecipeConfigError(`waitReplicas must be a whole number >= 0, got ${waitReplicas}`);
  if (waitReplicas === 0) return { written };
  return {
    written,
    // An unknown outcome, or a WAIT refused, counts as not replicated.
    confirm: async () => {
      try {
        return (await port.waitReplicas(waitReplicas, waitTimeoutMs)) >= waitReplicas;
      } catch (error) {
        if (isTransient(error) || isRefused(error)) return false;
        throw error;
      }
    },
  };
}

/** A write's outcome: refused (READONLY, NOREPLICAS) counts as not done, like a timeout. */
async function written(operation: () => PromiseLike<boolean>): Promise<boolean> {
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
