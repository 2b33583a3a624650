/**
 * Leader election as clientv3's concurrency.Election campaigns: the lock recipe, held for as long
 * as the session lives. The leader leads while its own clock says its lease is alive (the
 * session's Done channel, in clientv3), and steps down for good once it is not. Token: the create
 * revision of the leader's key.
 */
import type { Runtime } from '../runtime.ts';
import type { ElectionRecipe, Leadership } from '../recipe.ts';
import { EtcdLock, type EtcdGrant, type EtcdLockOptions } from './lock.ts';
import type { EtcdPort } from './port.ts';

export class EtcdElection implements ElectionRecipe {
  private readonly lock: EtcdLock;

  constructor(runtime: Runtime, port: EtcdPort, options: EtcdLockOptions) {
    this.lock = new EtcdLock(runtime, port, options);
  }

  async campaign(): Promise<Leadership | null> {
    const grant = await this.lock.acquire();
    return grant === null ? null : new EtcdLeadership(this.lock, grant);
  }
}

class EtcdLeadership implements Leadership {
  private resigned = false;

  constructor(
    private readonly lock: EtcdLock,
    private readonly grant: EtcdGrant,
  ) {}

  get token(): number | null {
    return this.grant.token;
  }

  isLeader(): boolean {
    return !this.resigned && this.grant.session.alive();
  }

  /** Election.Resign: delete the leader key, so the next candidate in line takes over. */
  async resign(): Promise<void> {
    if (this.resigned) return;
    this.resigned = true;
    await this.lock.release(this.grant);
  }
}
