/**
 * The lock recipe PostgreSQL and MySQL share: hold a session-level lock on a dedicated session.
 * The lock lasts as long as the session, so there is no lease to renew and no validity to watch:
 * it ends when the holder releases it or when the session ends (the server's keepalive gave up on
 * the client, or either side crashed). Fencing token: the dialect's counter, taken once the lock
 * is won. Each dialect supplies its statements; see postgres/lock.ts and mysql/lock.ts.
 *
 * Whenever a statement's outcome is unknown (a timeout), the recipe ends the session: it cannot
 * tell whether the lock was granted, and these locks are reentrant, so carrying on would either
 * leave a lock behind or take it twice. Ending the session settles it: the server lets go of
 * whatever the session held, or of its place in the queue.
 */
import type { Runtime } from '../../runtime.ts';
import { checkRecipeOptions, positive, type Grant, type LockRecipe, type RecipeOptions } from '../../recipe.ts';
import { isTransient, type SessionPort } from './port.ts';

export interface SessionLockOptions extends RecipeOptions {
  /** Wait between attempts after a failed one. */
  readonly retryDelayMs: number;
}

/** The dialect's statements for one lock, on the port's current session. */
export interface SessionLockStatements {
  /**
   * Wait up to `waitMs` for the lock: true once granted, false if the server's own wait ran out.
   * Rejects (TimeoutError, ConnectionLost) when the outcome is unknown or the session is gone.
   */
  lock(waitMs: number): PromiseLike<boolean>;
  /** Release one hold; false if the session did not hold the lock. */
  unlock(): PromiseLike<boolean>;
  /** The next fencing token. */
  token(): PromiseLike<number>;
}

export interface SessionGrant extends Grant {
  /** The session that holds the lock: it is held until released or until this session ends. */
  readonly session: string;
}

export class SessionLock implements LockRecipe {
  /** The session known to be open: a new one gets an opening round trip first. */
  private opened: string | null = null;

  constructor(
    private readonly runtime: Runtime,
    private readonly port: SessionPort,
    private readonly statements: SessionLockStatements,
    private readonly options: SessionLockOptions,
  ) {
    checkRecipeOptions(options);
    positive('retryDelayMs', options.retryDelayMs);
  }

  acquire(): Promise<SessionGrant | null> {
    return this.acquireWithin(this.options.acquireTimeoutMs);
  }

  /** Acquire, giving up after `timeoutMs` of local time. */
  async acquireWithin(timeoutMs: number): Promise<SessionGrant | null> {
    const clock = this.runtime.clock;
    const startedMs = clock.monotonic();
    const leftMs = () => timeoutMs - (clock.monotonic() - startedMs);
    // Bounded by time: every pass that does not return waits retryDelayMs or more.
    while (leftMs() > 0) {
      const session = this.port.session();
      try {
        // A real client connects before its first statement. A request to a server that is down is
        // lost, not refused, so this round trip finds that out within one query timeout instead of
        // the lock statement waiting out the whole acquire timeout.
        if (session !== this.opened) {
          await this.port.ping();
          this.opened = session;
        }
        if (leftMs() > 0 && (await this.statements.lock(leftMs()))) {
          const token = this.options.fencing ? await this.statements.token() : null;
          return { token, validUntilMs: null, session };
        }
      } catch (error) {
        if (!isTransient(error)) throw error;
        this.endSession(session);
      }
      if (leftMs() > 0) await clock.sleep(this.options.retryDelayMs);
    }
    return null;
  }

  async release(grant: Grant): Promise<void> {
    const { session } = grant as SessionGrant;
    // The session is over, and the lock went with it.
    if (this.port.session() !== session) return;
    let held: boolean;
    try {
      held = await this.statements.unlock();
    } catch (error) {
      if (!isTransient(error)) throw error;
      // Whatever the unlock did, ending the session lets go of the lock for certain.
      this.endSession(session);
      if ((error as Error).name === 'ConnectionLost') return;
      throw error;
    }
    if (!held) throw new Error(`session ${session} no longer held lock '${this.options.name}' when it released it`);
  }

  /** End `session` from this side if it is still the port's current one; the server frees what it held. */
  endSession(session: string): void {
    if (this.port.session() === session) this.port.disconnect();
  }
}
