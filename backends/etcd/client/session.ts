/**
 * A client's session, after clientv3's concurrency.Session: one lease, kept alive from the client.
 *
 * As clientv3 does, the next keepalive goes out a third of the TTL after the last answer, and the
 * client counts the lease alive until a full TTL after that answer arrived. So the client's view
 * trails the leader's by the answer's trip back: the leader started its TTL when it renewed. When
 * the client's clock passes the deadline, or a keepalive says the lease is gone, the session is
 * over for good, whatever the server may still think; a new session takes a new lease.
 */
import type { Runtime } from '../../runtime.ts';
import type { EtcdPort } from '../port.ts';

/**
 * Errors after which trying again (maybe elsewhere) is right: the call's outcome is unknown, or
 * (Compacted) a watch started too far back and the caller should read afresh.
 */
export function isTransient(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'TimeoutError' || name === 'ConnectionLost' || name === 'Unavailable' || name === 'Compacted';
}

export class Session {
  private ended = false;

  /** Grant a lease and start keeping it alive; null if none could be granted before `untilMs` (local monotonic). */
  static async open(
    runtime: Runtime,
    port: EtcdPort,
    ttlMs: number,
    retryDelayMs: number,
    untilMs: number,
  ): Promise<Session | null> {
    const clock = runtime.clock;
    while (clock.monotonic() < untilMs) {
      try {
        const lease = await port.grantLease(ttlMs);
        return new Session(runtime, port, lease.id, lease.ttlMs, retryDelayMs, clock.monotonic() + lease.ttlMs);
      } catch (error) {
        if (!isTransient(error)) throw error;
        await clock.sleep(retryDelayMs);
      }
    }
    return null;
  }

  private constructor(
    private readonly runtime: Runtime,
    private readonly port: EtcdPort,
    readonly lease: number,
    /** The TTL the server granted, which may exceed the one asked for. */
    readonly ttlMs: number,
    private readonly retryDelayMs: number,
    /** Local monotonic time until which the client counts the lease alive. */
    private deadlineMs: number,
  ) {
    runtime.spawn('etcd-session-keepalive', () => this.keepAliveLoop());
  }

  /** Whether the client still counts on its lease: not closed, not refused, and inside its own deadline. */
  alive(): boolean {
    return !this.ended && this.runtime.clock.monotonic() < this.deadlineMs;
  }

  /** Stop keeping the lease alive; the server lets it run out a TTL later and deletes its keys then. */
  abandon(): void {
    this.ended = true;
  }

  private async keepAliveLoop(): Promise<void> {
    const clock = this.runtime.clock;
    let waitMs = this.ttlMs / 3;
    while (this.alive()) {
      await clock.sleep(waitMs);
      if (!this.alive()) break;
      let ttlMs: number | null;
      try {
        ttlMs = await this.port.keepAlive(this.lease);
      } catch (error) {
        if (!isTransient(error)) throw error;
        waitMs = this.retryDelayMs;
        continue;
      }
      // An answer that comes after the deadline revives nothing: the client already gave up on it.
      if (ttlMs === null || !this.alive()) break;
      this.deadlineMs = clock.monotonic() + ttlMs;
      waitMs = ttlMs / 3;
    }
    this.ended = true;
  }
}
