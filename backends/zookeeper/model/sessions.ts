/**
 * The leader's session clocks, after ZooKeeper's SessionTrackerImpl. Only the leader times
 * sessions, on its monotonic clock: every touch (a request or ping on the leader, or one a
 * follower relays) pushes a session's expiry a full timeout ahead, and a session whose expiry
 * has passed is reported once and marked closing, so later touches no longer save it. A new
 * leader does not know when its predecessor last heard of a session, so it starts every one
 * afresh, as ZooKeeper's leader does when it loads the sessions from its database.
 */

export type SessionVerdict = 'live' | 'closing' | 'absent';

interface Tracked {
  readonly timeoutMs: number;
  expiresAtMs: number;
  closing: boolean;
}

export class SessionTracker {
  private readonly sessions = new Map<number, Tracked>();

  constructor(private readonly now: () => number) {}

  /** Forget everything, then track `sessions` ([id, timeoutMs]) with a full timeout each. */
  reset(sessions: Iterable<readonly [number, number]>): void {
    this.sessions.clear();
    for (const [id, timeoutMs] of sessions) this.add(id, timeoutMs);
  }

  add(id: number, timeoutMs: number): void {
    this.sessions.set(id, { timeoutMs, expiresAtMs: this.now() + timeoutMs, closing: false });
  }

  /** Extend a live session by its timeout; false if it is closing or unknown. */
  touch(id: number): boolean {
    const session = this.sessions.get(id);
    if (session === undefined || session.closing) return false;
    session.expiresAtMs = this.now() + session.timeoutMs;
    return true;
  }

  remove(id: number): void {
    this.sessions.delete(id);
  }

  verdict(id: number): SessionVerdict {
    const session = this.sessions.get(id);
    if (session === undefined) return 'absent';
    return session.closing ? 'closing' : 'live';
  }

  /** Sessions whose timeout has run out since the last call, in id order; each is now closing. */
  expire(): number[] {
    const now = this.now();
    const expired: number[] = [];
    for (const [id, session] of this.sessions) {
      if (session.closing || now < session.expiresAtMs) continue;
      session.closing = true;
      expired.push(id);
    }
    return expired.sort((a, b) => a - b);
  }
}
