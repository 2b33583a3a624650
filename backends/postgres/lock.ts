/**
 * The PostgreSQL lock: pg_advisory_lock on a dedicated session (the shared recipe in
 * shared/dbsession/lock.ts), its key a hash of the lock name, and a fencing token from nextval on a
 * sequence named after the lock.
 *
 * The acquire timeout is kept on the client. pg_advisory_lock has no timeout of its own, so the
 * recipe puts a deadline on it; when that passes, the outcome is unknown (the grant may be on its
 * way), and the recipe ends the session, which frees the lock or the place in the queue on the
 * server. Polling pg_try_advisory_lock instead would keep the session but give up the queue's
 * first-come-first-served order and cost a round trip a poll. SET lock_timeout would bound the
 * wait on the server, as MySQL's GET_LOCK does; the client deadline, and ending the session when
 * it passes, would still be needed for a server that cannot answer, so this recipe uses that one
 * path for both.
 */
import type { Runtime } from '../runtime.ts';
import { SessionLock, type SessionLockOptions } from '../shared/dbsession/lock.ts';
import type { PostgresPort } from './port.ts';

/** The advisory lock key for a lock name: 32-bit FNV-1a, stable across clients and runs. */
export function advisoryKey(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function fenceSequence(name: string): string {
  return `${name}_fence`;
}

export function postgresLock(runtime: Runtime, port: PostgresPort, options: SessionLockOptions): SessionLock {
  const key = advisoryKey(options.name);
  return new SessionLock(
    runtime,
    port,
    {
      lock: async (waitMs) => {
        await runtime.deadline(() => port.advisoryLock(key), waitMs);
        return true;
      },
      unlock: () => port.advisoryUnlock(key),
      token: () => port.nextval(fenceSequence(options.name)),
    },
    options,
  );
}
