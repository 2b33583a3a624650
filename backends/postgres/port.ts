/**
 * The few PostgreSQL statements the lock and election recipes need, on one session. The
 * simulated port and a live (node-postgres) port both implement it; the conformance suite checks
 * that they agree.
 */
import type { SessionPort } from '../shared/dbsession/port.ts';

export interface PostgresPort extends SessionPort {
  /** SELECT pg_advisory_lock(key): waits until this session holds the lock. */
  advisoryLock(key: number): PromiseLike<void>;
  /** SELECT pg_try_advisory_lock(key): true if this session now holds it, without waiting. */
  advisoryTryLock(key: number): PromiseLike<boolean>;
  /** SELECT pg_advisory_unlock(key): true if this session held it (one hold let go), false if not. */
  advisoryUnlock(key: number): PromiseLike<boolean>;
  /** SELECT nextval(sequence), the sequence created on first use. */
  nextval(sequence: string): PromiseLike<number>;
}
