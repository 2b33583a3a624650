/**
 * Leader election on one Redis: the leader holds a key with a TTL and renews it every ttl/3 with
 * compare-and-extend. Token: INCR on a counter, taken on winning.
 */
import type { Runtime } from '../runtime.ts';
import type { ElectionRecipe, Leadership } from '../recipe.ts';
import { LeaseLeadership } from '../lease.ts';
import type { RedisPort } from './port.ts';
import { RedisLock, type RedisLockOptions } from './lock.ts';

export class RedisElection implements ElectionRecipe {
  private readonly lock: RedisLock;

  constructor(
    private readonly runtime: Runtime,
    private readonly port: RedisPort,
    private readonly options: RedisLockOptions,
  ) {
    this.lock = new RedisLock(runtime, port, options);
  }

  async campaign(): Promise<Leadership | null> {
    const grant = await this.lock.acquire();
    if (grant === null) return null;
    const { name, ttlMs } = this.options;
    return new LeaseLeadership(
      this.runtime,
      grant.token,
      grant.validUntilMs,
      ttlMs,
      () => this.port.extendIfEqual(name, grant.value, ttlMs),
      () => this.lock.release(grant),
    );
  }
}
