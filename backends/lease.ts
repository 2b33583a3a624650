/**
 * Leases held by the client's own clock: what RedLock calls validity, and what every lease-based
 * leader uses to decide when to stop acting as leader.
 */
import type { Runtime } from './runtime.ts';
import type { Grant, Leadership } from './recipe.ts';

/** RedLock's clock-drift allowance: 1% of the TTL plus 2 ms. */
export function driftAllowanceMs(ttlMs: number): number {
  return ttlMs * 0.01 + 2;
}

/**
 * The local monotonic time until which a lease granted for `ttlMs` can be trusted, given that the
 * request that won it was sent at `sentAtMs`: the server started counting no earlier than that.
 */
export function leaseDeadline(sentAtMs: number, ttlMs: number): number {
  return sentAtMs + ttlMs - driftAllowanceMs(ttlMs);
}

/**
 * A leadership kept alive by renewing a lease every ttl/3. The leader steps down the moment its
 * own clock says the lease may have lapsed, whether or not a renewal is still in flight, and for
 * good once a renewal is refused.
 */
export class LeaseLeadership implements Leadership {
  private lost = false;

  constructor(
    private readonly runtime: Runtime,
    readonly token: number | null,
    /** Local monotonic time until which the winning grant is trusted (leaseDeadline of its request). */
    private deadlineMs: number,
    private readonly ttlMs: number,
    /** Renew the lease; resolves true if it was extended. May throw (timeout: outcome unknown). */
    private readonly renew: () => PromiseLike<boolean>,
    private readonly giveUp: () => Promise<void>,
  ) {
    runtime.spawn('lease-renewal', () => this.renewLoop());
  }

  isLeader(): boolean {
    return !this.lost && this.runtime.clock.monotonic() < this.deadlineMs;
  }

  async resign(): Promise<void> {
    if (this.lost) return;
    this.lost = true;
    await this.giveUp();
  }

  private async renewLoop(): Promise<void> {
    const clock = this.runtime.clock;
    while (this.isLeader()) {
      await clock.sleep(this.ttlMs / 3);
      if (!this.isLeader()) break;
      const sentAtMs = clock.monotonic();
      let renewed: boolean;
      try {
        renewed = await this.renew();
      } catch {
        continue;
      }
      if (!renewed) break;
      this.deadlineMs = leaseDeadline(sentAtMs, this.ttlMs);
    }
    this.lost = true;
  }
}

/**
 * Campaign by winning a lease-based lock, then lead for as long as the lease is renewed in time:
 * the election every lease-based system builds on its lock. `renew` extends the lease of `grant`.
 */
export async function leaseCampaign<G extends Grant & { readonly validUntilMs: number }>(
  runtime: Runtime,
  ttlMs: number,
  lock: { acquire(): Promise<G | null>; release(grant: G): Promise<void> },
  renew: (grant: G) => PromiseLike<boolean>,
): Promise<Leadership | null> {
  const grant: G | null = await lock.acquire();
  if (grant === null) return null;
  const deadlineMs: number = grant.validUntilMs;
  return new LeaseLeadership(
    runtime,
    grant.token,
    deadlineMs,
    ttlMs,
    () => renew(grant),
    () => lock.release(grant),
  );
}
