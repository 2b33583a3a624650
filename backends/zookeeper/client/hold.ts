/**
 * Whether something held through a ZooKeeper session (a lock, a leadership) can still be trusted,
 * by Curator's rules for its connection states:
 *   - SUSPENDED (the client is disconnected): Curator's recipes say a lock may not be assumed
 *     held until the client is RECONNECTED in the same session, so the hold is not trusted meanwhile;
 *   - LOST: the session expired (a server said so, or the client closed it), or the client stayed
 *     disconnected for a whole session timeout, after which the ensemble has most likely expired
 *     it (Curator 3's simulated expiry). Lost is for good, even if the session turns out alive.
 * The client goes SUSPENDED after two thirds of the timeout without hearing from a server, before
 * the leader can expire the session (a full timeout after the server last heard from it), as long
 * as the client's own process runs: a paused client learns nothing until it resumes, and then it
 * is too late. That is the case fencing tokens exist for.
 */
import type { Clock } from '../../../sim/clock.ts';
import type { SessionState, ZooKeeperPort } from '../port.ts';

export class SessionHold {
  private lost = false;
  /** Local monotonic time since which the client has been without a connection, or null while connected. */
  private suspendedSinceMs: number | null;
  private readonly stopListening: () => void;

  constructor(
    private readonly clock: Clock,
    private readonly port: ZooKeeperPort,
  ) {
    // Taken while the client has no connection (opening a session, or a new one after an
    // expiry), the hold is for the session the client gets next, and is suspended until then.
    this.suspendedSinceMs = port.state() === 'connected' ? null : clock.monotonic();
    this.stopListening = port.onStateChange((state) => this.onState(state));
    if (port.state() === 'closed') this.lose();
  }

  /** Trusted now: connected, in the session the hold was taken in. */
  held(): boolean {
    this.checkSuspension();
    return !this.lost && this.suspendedSinceMs === null;
  }

  /** Lost for good: whatever was held must be taken again. */
  isLost(): boolean {
    this.checkSuspension();
    return this.lost;
  }

  /** Stop following the session. */
  release(): void {
    this.lose();
  }

  private onState(state: SessionState): void {
    if (state === 'expired' || state === 'closed') {
      this.lose();
    } else if (state === 'connected') {
      this.checkSuspension();
      this.suspendedSinceMs = null;
    } else {
      this.suspendedSinceMs ??= this.clock.monotonic();
    }
  }

  private checkSuspension(): void {
    if (this.suspendedSinceMs !== null && this.clock.monotonic() - this.suspendedSinceMs >= this.port.sessionTimeoutMs)
      this.lose();
  }

  private lose(): void {
    if (this.lost) return;
    this.lost = true;
    this.stopListening();
  }
}
