/**
 * The MySQL lock: GET_LOCK on a dedicated session (the shared recipe in shared/dbsession/lock.ts), and a
 * fencing token from the counter row named after the lock.
 *
 * The acquire timeout is kept on the server: GET_LOCK waits whole seconds of what is left and
 * returns 0 when they pass, leaving no lock and no place in the queue behind, so the session is
 * kept. Only when the answer does not come back (the client deadline is the server's timeout plus
 * one query timeout) is the outcome unknown, and the recipe ends the session. Under a second
 * left, GET_LOCK(name, 0) is polled every retryDelayMs until the acquire timeout.
 */
import type { Runtime } from '../runtime.ts';
import { RecipeConfigError } from '../recipe.ts';
import { SessionLock, type SessionLockOptions } from '../shared/dbsession/lock.ts';
import type { MySqlPort } from './port.ts';
import { MAX_LOCK_NAME } from './server.ts';

export function mysqlLock(runtime: Runtime, port: MySqlPort, options: SessionLockOptions): SessionLock {
  const { name } = options;
  if (typeof name === 'string' && name.length > MAX_LOCK_NAME) {
    throw new RecipeConfigError(`name must be at most ${MAX_LOCK_NAME} characters for GET_LOCK, got ${name.length}`);
  }
  return new SessionLock(
    runtime,
    port,
    {
      lock: async (waitMs) => (await port.getLock(name, Math.floor(waitMs / 1000))) === 1,
      unlock: async () => (await port.releaseLock(name)) === 1,
      token: () => port.incrementCounter(name),
    },
    options,
  );
}
