/**
 * The etcd lock, as clientv3's concurrency.Mutex takes it: under a session (a lease kept alive),
 * put `name/<lease>` if absent, then wait until every key under `name/` with a lower create
 * revision has gone; the lowest create revision holds. Token: the create revision of the key.
 *
 * Like the Mutex since etcd 3.5, the waiter finally checks that its own key is still there: if its
 * lease ran out while it waited, the key went with it and the lock is not held (Jepsen found
 * 3.4.3 granting it anyway: etcd-io/etcd#11456). With `checkOwnKey` false it is 3.4.3's Mutex:
 * Lock returns once the keys ahead are gone (waitDeletes), whether or not its own key and lease
 * are still there. Nothing stops a holder whose lease runs out *after* the grant from going on
 * believing it holds: only fencing with the token makes that safe.
 */
import type { Runtime } from '../runtime.ts';
import { checkRecipeOptions, positive, type Grant, type LockRecipe, type RecipeOptions } from '../recipe.ts';
import type { EtcdPort } from './port.ts';
import { isTransient, Session } from './client/session.ts';

export interface EtcdLockOptions extends RecipeOptions {
  /** Wait after a request whose outcome is unknown before trying again. */
  readonly retryDelayMs: number;
  /** Longest one watch is trusted before the waiter reads the queue again and checks its session. */
  readonly watchSliceMs: number;
  /** After waiting, check that the session and the own key survived (etcd >= 3.5); false: 3.4.3 (#11456). */
  readonly checkOwnKey: boolean;
}

export interface EtcdGrant extends Grant {
  readonly key: string;
  readonly session: Session;
}

type Attempt = { readonly held: number } | 'session-lost' | 'timed-out';

export class EtcdLock implements LockRecipe {
  private session: Session | null = null;

  constructor(
    private readonly runtime: Runtime,
    private readonly port: EtcdPort,
    private readonly options: EtcdLockOptions,
  ) {
    checkRecipeOptions(options);
    positive('retryDelayMs', options.retryDelayMs);
    positive('watchSliceMs', options.watchSliceMs);
  }

  async acquire(): Promise<EtcdGrant | null> {
    const clock = this.runtime.clock;
    const untilMs = clock.monotonic() + this.options.acquireTimeoutMs;
    while (clock.monotonic() < untilMs) {
      const session = await this.liveSession(untilMs);
      if (session === null) return null;
      const key = `${this.options.name}/${session.lease.toString(16)}`;
      let attempt: Attempt;
      try {
        attempt = await this.attempt(session, key, untilMs);
      } catch (error) {
        if (!isTransient(error)) throw error;
        await clock.sleep(this.options.retryDelayMs);
        continue;
      }
      if (attempt === 'timed-out') {
        await this.withdraw(session, key);
        return null;
      }
      if (attempt !== 'session-lost')
        return { token: attempt.held, validUntilMs: null, key, session, stillHeld: () => session.alive() };
      session.abandon();
    }
    return null;
  }

  /** Delete the key. If that cannot be confirmed, give the session up so the lease takes the key away. */
  async release(grant: Grant): Promise<void> {
    const { key, session } = grant as EtcdGrant;
    try {
      await this.port.delete(key);
    } catch (error) {
      session.abandon();
      throw error;
    }
  }

  /** The session to lock under: the current one while it lives, else a new one. */
  private async liveSession(untilMs: number): Promise<Session | null> {
    if (this.session?.alive() !== true) {
      this.session?.abandon();
      const { ttlMs, retryDelayMs } = this.options;
      this.session = await Session.open(this.runtime, this.port, ttlMs, retryDelayMs, untilMs);
    }
    return this.session;
  }

  /** One pass of Mutex.Lock; safe to repeat, since the put is conditional on the key being absent. */
  private async attempt(session: Session, key: string, untilMs: number): Promise<Attempt> {
    const clock = this.runtime.clock;
    let mine: number;
    try {
      mine = (await this.port.putIfAbsent(key, '', session.lease)).createRevision;
    } catch (error) {
      if ((error as Error).name === 'LeaseNotFound') return 'session-lost';
      throw error;
    }
    const checks = this.options.checkOwnKey;
    for (;;) {
      if (checks && !session.alive()) return 'session-lost';
      const leftMs = untilMs - clock.monotonic();
      if (leftMs <= 0) return 'timed-out';
      const { kvs, revision } = await this.port.range(`${this.options.name}/`, { maxCreateRevision: mine - 1 });
      const ahead = kvs.at(-1);
      if (ahead === undefined) break;
      await this.port.watchDelete(ahead.key, revision + 1, Math.min(leftMs, this.options.watchSliceMs));
    }
    // 3.4.3 stops here: the keys ahead are gone, so it says the lock is held (#11456).
    if (!checks) return { held: mine };
    const still = await this.port.get(key);
    return still?.createRevision === mine && session.alive() ? { held: mine } : 'session-lost';
  }

  /** Give up waiting, as Mutex.Lock does when its context ends: take the key out of the queue. */
  private async withdraw(session: Session, key: string): Promise<void> {
    try {
      await this.port.delete(key);
    } catch (error) {
      if (!isTransient(error)) throw error;
      session.abandon();
    }
  }
}
