/**
 * The session-level lock table a database keeps for advisory (PostgreSQL) and user-level (MySQL)
 * locks: exclusive, reentrant per session, waiters served first come first served, and every lock
 * of a session let go when the session ends. A pure state machine: no time, no network. Whoever
 * drives it is told of every grant a release causes, through `onGranted`, in grant order.
 */

/** A session is named by the server: one per client connection. */
export type SessionId = string;

interface Entry {
  holder: SessionId;
  /** How many times the holder took it: it is free again only after as many releases. */
  count: number;
  /** Sessions waiting for it, first come first served. */
  readonly waiters: SessionId[];
}

/** What a release found. */
export type ReleaseResult = 'released' | 'held-by-another' | 'free';

export class LockTable {
  private readonly locks = new Map<string, Entry>();
  /** The keys each session holds, to let them all go when it ends. */
  private readonly held = new Map<SessionId, Set<string>>();
  /** The one key each waiting session waits for: a session runs one statement at a time. */
  private readonly waiting = new Map<SessionId, string>();

  constructor(private readonly onGranted: (session: SessionId, key: string) => void) {}

  holder(key: string): SessionId | null {
    return this.locks.get(key)?.holder ?? null;
  }

  waiters(key: string): readonly SessionId[] {
    return this.locks.get(key)?.waiters ?? [];
  }

  /** The keys `session` holds, in the order it took them. */
  heldBy(session: SessionId): string[] {
    return [...(this.held.get(session) ?? [])];
  }

  /** Take `key` if it is free or already this session's (once more); false if someone else has it. */
  tryAcquire(session: SessionId, key: string): boolean {
    const entry = this.locks.get(key);
    if (entry === undefined) {
      this.locks.set(key, { holder: session, count: 1, waiters: [] });
      this.hold(session, key);
      return true;
    }
    if (entry.holder !== session) return false;
    entry.count++;
    return true;
  }

  /** Queue `session` for `key`, held by someone else; `onGranted` says when it gets it. */
  wait(session: SessionId, key: string): void {
    const entry = this.locks.get(key);
    if (entry === undefined || entry.holder === session)
      throw new Error(`session ${session} waits for '${key}', which it could take`);
    if (this.waiting.has(session))
      throw new Error(`session ${session} already waits for '${this.waiting.get(session)}'`);
    entry.waiters.push(session);
    this.waiting.set(session, key);
  }

  /** Stop waiting (a server-side timeout, or the session ended). */
  cancelWait(session: SessionId): void {
    const key = this.waiting.get(session);
    if (key === undefined) return;
    this.waiting.delete(session);
    const waiters = this.locks.get(key)?.waiters;
    if (waiters === undefined) return;
    const at = waiters.indexOf(session);
    if (at >= 0) waiters.splice(at, 1);
  }

  /** Release one hold of `key` by `session`; the next waiter gets it once the count reaches zero. */
  release(session: SessionId, key: string): ReleaseResult {
    const entry = this.locks.get(key);
    if (entry === undefined) return 'free';
    if (entry.holder !== session) return 'held-by-another';
    if (--entry.count === 0) this.handOver(key, entry);
    return 'released';
  }

  /** The session ended: it stops waiting and lets go of every lock it holds, however many times taken. */
  endSession(session: SessionId): void {
    this.cancelWait(session);
    for (const key of this.heldBy(session)) {
      const entry = this.locks.get(key);
      if (entry === undefined) throw new Error(`session ${session} holds '${key}', which has no lock entry`);
      entry.count = 0;
      this.handOver(key, entry);
    }
  }

  private handOver(key: string, entry: Entry): void {
    this.unhold(entry.holder, key);
    const next = entry.waiters.shift();
    if (next === undefined) {
      this.locks.delete(key);
      return;
    }
    this.waiting.delete(next);
    entry.holder = next;
    entry.count = 1;
    this.hold(next, key);
    this.onGranted(next, key);
  }

  private hold(session: SessionId, key: string): void {
    let keys = this.held.get(session);
    if (keys === undefined) {
      keys = new Set();
      this.held.set(session, keys);
    }
    keys.add(key);
  }

  private unhold(session: SessionId, key: string): void {
    const keys = this.held.get(session);
    keys?.delete(key);
    if (keys?.size === 0) this.held.delete(session);
  }
}
