/**
 * Leader election on a database lock, shared by PostgreSQL and MySQL: the leader is whoever holds
 * the lock, and it leads while its session lives.
 *
 * The leader checks its session with a cheap query (SELECT 1) every ttl/3. A ping sent at local
 * time s that is answered on the same session proves the session was alive after s, and the
 * server's keepalive cannot end a session before ttl of silence, so the leader trusts its session
 * until leaseDeadline(s, ttl). `isLeader()` turns false for good when that deadline passes without
 * a newer answer, or as soon as the client learns the session is gone (a reset: the port moves to
 * a new session). The leader then ends the session itself: after a long pause the session may
 * well have survived, and with it the lock, which must pass to the next candidate instead of
 * staying with a client that no longer leads. So a partitioned leader steps down before the
 * server gives its lock away, and a paused one steps down on waking.
 */
import type { Runtime } from '../../runtime.ts';
import type { ElectionRecipe, Leadership, RecipeOptions } from '../../recipe.ts';
import { leaseDeadline } from '../../lease.ts';
import { isTransient, type SessionPort } from './port.ts';
import type { SessionGrant, SessionLock } from './lock.ts';

export class SessionElection implements ElectionRecipe {
  constructor(
    private readonly runtime: Runtime,
    private readonly port: SessionPort,
    private readonly lock: SessionLock,
    private readonly options: RecipeOptions & { readonly retryDelayMs: number },
  ) {}

  async campaign(): Promise<Leadership | null> {
    const clock = this.runtime.clock;
    const startedMs = clock.monotonic();
    const leftMs = () => this.options.acquireTimeoutMs - (clock.monotonic() - startedMs);
    // Bounded by time: a pass that does not return waits retryDelayMs or more.
    while (leftMs() > 0) {
      const grant = await this.lock.acquireWithin(leftMs());
      if (grant === null) return null;
      // The grant may have been in flight while the session died; only an answer sent after it counts.
      const sentAtMs = clock.monotonic();
      try {
        await this.port.ping();
        if (this.port.session() === grant.session) {
          return new SessionLeadership(
            this.runtime,
            this.port,
            this.lock,
            grant,
            leaseDeadline(sentAtMs, this.options.ttlMs),
            this.options.ttlMs,
          );
        }
      } catch (error) {
        if (!isTransient(error)) throw error;
        this.lock.endSession(grant.session);
      }
      await clock.sleep(this.options.retryDelayMs);
    }
    return null;
  }
}

class SessionLeadership implements Leadership {
  private state: 'leading' | 'resigned' | 'lost' = 'leading';

  constructor(
    private readonly runtime: Runtime,
    private readonly port: SessionPort,
    private readonly lock: SessionLock,
    private readonly grant: SessionGrant,
    /** Local monotonic time until which the session is trusted. */
    private deadlineMs: number,
    private readonly ttlMs: number,
  ) {
    runtime.spawn('leader-liveness', () => this.watch());
  }

  get token(): number | null {
    return this.grant.token;
  }

  isLeader(): boolean {
    return (
      this.state === 'leading' &&
      this.port.session() === this.grant.session &&
      this.runtime.clock.monotonic() < this.deadlineMs
    );
  }

  async resign(): Promise<void> {
    if (this.state !== 'leading') return;
    this.state = 'resigned';
    await this.lock.release(this.grant);
  }

  private async watch(): Promise<void> {
    const clock = this.runtime.clock;
    while (this.isLeader()) {
      await clock.sleep(this.ttlMs / 3);
      if (!this.isLeader()) break;
      const sentAtMs = clock.monotonic();
      try {
        await this.port.ping();
      } catch (error) {
        if (!isTransient(error)) throw error;
        continue;
      }
      // An answer that comes after the deadline extends nothing: leadership, once lapsed, stays lapsed.
      if (this.isLeader()) this.deadlineMs = leaseDeadline(sentAtMs, this.ttlMs);
    }
    if (this.state === 'leading') {
      this.state = 'lost';
      this.lock.endSession(this.grant.session);
    }
  }
}
