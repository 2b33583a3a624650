/**
 * Leader election on a replicated Redis under Sentinel: the leader holds the lock's key and
 * renews it every ttl/3 with compare-and-extend on the primary, as on single Redis; a failover
 * that loses the key lets a second leader in while the first still renews on its own clock.
 */
import type { Runtime } from '../runtime.ts';
import type { ElectionRecipe, Leadership } from '../recipe.ts';
import { leaseCampaign } from '../lease.ts';
import type { RedisGrant } from '../redis/lock.ts';
import type { SentinelPort } from './port.ts';
import { SentinelLock, type SentinelLockOptions } from './lock.ts';

export class SentinelElection implements ElectionRecipe {
  private readonly lock: SentinelLock;

  constructor(
    private readonly runtime: Runtime,
    private readonly port: SentinelPort,
    private readonly options: SentinelLockOptions,
  ) {
    this.lock = new SentinelLock(runtime, port, options);
  }

  campaign(): Promise<Leadership | null> {
    const { name, ttlMs } = this.options;
    return leaseCampaign(this.runtime, ttlMs, this.lock, (grant: RedisGrant) =>
      this.port.extendIfEqual(name, grant.value, ttlMs),
    );
  }
}
