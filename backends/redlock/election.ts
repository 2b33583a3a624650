/**
 * Leader election over RedLock: the leader wins the key on a majority and renews it there every
 * ttl/3 (compare-and-extend on every node); a renewal counts only if a majority extended it within
 * the validity left. The leader steps down by its own clock when the lease may have lapsed.
 */
import type { Runtime } from '../runtime.ts';
import type { ElectionRecipe, Leadership } from '../recipe.ts';
import { leaseCampaign } from '../lease.ts';
import { Redlock, type RedlockGrant, type RedlockOptions } from './lock.ts';
import type { RedlockNodePort } from './port.ts';

export class RedlockElection implements ElectionRecipe {
  private readonly lock: Redlock;

  constructor(
    private readonly runtime: Runtime,
    nodes: readonly RedlockNodePort[],
    private readonly options: RedlockOptions,
  ) {
    this.lock = new Redlock(runtime, nodes, options);
  }

  campaign(): Promise<Leadership | null> {
    const { name, ttlMs } = this.options;
    return leaseCampaign(this.runtime, ttlMs, this.lock, async (grant: RedlockGrant) => {
      const round = await this.lock.round((node) => node.extendIfEqual(name, grant.value, ttlMs));
      return round.won.length >= this.lock.majority && round.validityMs > 0;
    });
  }
}
