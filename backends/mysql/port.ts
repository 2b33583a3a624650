/**
 * The few MySQL statements the lock and election recipes need, on one session. The simulated
 * port and a live (mysql2) port both implement it; the conformance suite checks that they agree.
 */
import type { SessionPort } from '../shared/dbsession/port.ts';

export interface MySqlPort extends SessionPort {
  /**
   * SELECT GET_LOCK(name, timeoutSeconds): 1 once this session holds the name, 0 if
   * `timeoutSeconds` (whole seconds; negative: for ever) passed first.
   */
  getLock(name: string, timeoutSeconds: number): PromiseLike<0 | 1>;
  /** SELECT RELEASE_LOCK(name): 1 if one hold was let go, 0 if another session holds it, null if nobody does. */
  releaseLock(name: string): PromiseLike<0 | 1 | null>;
  /**
   * INSERT INTO counter (name, n) VALUES (?, LAST_INSERT_ID(1))
   *   ON DUPLICATE KEY UPDATE n = LAST_INSERT_ID(n + 1); SELECT LAST_INSERT_ID():
   * an atomic increment of the counter row, returning the new value.
   */
  incrementCounter(name: string): PromiseLike<number>;
}
