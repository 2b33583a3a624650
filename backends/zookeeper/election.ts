/**
 * Leader election as Curator's LeaderLatch runs it: every candidate queues an ephemeral sequential
 * node under the election path, and the lowest sequence leads for as long as its session lasts.
 * It is the lock recipe, held until resigning. The token is the leader's czxid.
 * The leader believes it leads while its session hold (client/hold.ts) is trusted: not while the client
 * is disconnected, and never again once the session expired or stayed disconnected for a whole
 * timeout. Unlike LeaderLatch, it does not requeue after a reconnect: a leader that stopped
 * believing resigns, and campaigns again.
 */
import type { Runtime } from '../runtime.ts';
import type { ElectionRecipe, Leadership } from '../recipe.ts';
import type { ZooKeeperPort } from './port.ts';
import { ZooKeeperLock, type ZooKeeperLockOptions } from './lock.ts';

export class ZooKeeperElection implements ElectionRecipe {
  private readonly lock: ZooKeeperLock;

  constructor(runtime: Runtime, port: ZooKeeperPort, options: ZooKeeperLockOptions) {
    this.lock = new ZooKeeperLock(runtime, port, options);
  }

  async campaign(): Promise<Leadership | null> {
    const grant = await this.lock.acquire();
    if (grant === null) return null;
    return {
      token: grant.token,
      isLeader: () => grant.hold.held(),
      resign: () => this.lock.release(grant),
    };
  }
}
