/**
 * Leader election on one Redis: the leader holds a key with a TTL and renews it every ttl/3 with
 * compare-and-extend. Token: INCR on a counter, taken on winning.
 */
import type { Runtime } from '../runtime.ts';
import type { ElectionRecipe, Leadership } from '../recipe.ts';
import { leaseCampaign } from '../lease.ts';
import type { RedisPort } from './port.ts';
import { RedisLock, type GrantSteps, type RedisGrant, type RedisLockOptions } from './lock.ts';

export class RedisElection implements ElectionRecipe {
  private readonly lock: RedisLock;

  constructor(
    private readonly runtime: Runtime,
    private readonly port: RedisPort,
    private readonly options: RedisLockOptions,
    steps: GrantSteps = {},
  ) {
    this.lock = new RedisLock(runtime, port, options, steps);
  }

  campaign(): Promise<Leadership | null> {
    const { name, ttlMs } = this.options;
    return leaseCampaign(this.runtime, ttlMs, this.lock, (grant: RedisGrant) =>
      this.port.extendIfEqual(name, grant.value, ttlMs),
    );
  }
}
