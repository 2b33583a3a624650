/**
 * A PostgreSQL server, as far as advisory locks and a fencing sequence need one.
 *
 * Fault model. One node; sessions, their advisory locks and how they end are shared/dbsession/server.ts:
 * a session is a connection, and it ends (releasing its locks) when the connection is reset or
 * the server's TCP keepalive (tcp_keepalives_idle/interval/count) gives up on a silent client, so
 * a partitioned holder loses its lock after about one keepalive timeout and a paused one keeps it.
 *   - Session-level advisory locks: pg_advisory_lock waits, first come first served, until the
 *     holder unlocks or its session ends; pg_try_advisory_lock never waits; both are reentrant, so
 *     a session unlocks as many times as it locked. pg_advisory_unlock of a lock the session does
 *     not hold returns false (PostgreSQL also warns).
 *   - A crash ends every session and frees every lock: they live in shared memory.
 *   - The fencing sequence is WAL-logged: nextval logs 32 values ahead (SEQ_LOG_VALS), so after a
 *     crash whose restart keeps the disk, nextval resumes past every value it returned, skipping
 *     up to 32. A restart without the disk has lost the data directory: the sequence starts again
 *     at 1, and tokens go backwards.
 * Left out: transaction-level and shared advisory locks, lock_timeout and statement_timeout (the
 * recipe times out on the client), deadlock detection, idle_session_timeout (off by default),
 * replication and failover.
 */
import type { Host } from '../../sim/node.ts';
import type { KeepaliveConfig } from '../shared/endpoint/endpoint.ts';
import { DbServer, durableMap, type Dialect, type Outcome } from '../shared/dbsession/server.ts';
import type { LockTable, SessionId } from '../shared/dbsession/lock-table.ts';

/** Values nextval logs ahead of the one it returns (src/backend/commands/sequence.c). */
export const SEQ_LOG_VALS = 32;
/** PostgreSQL's default max_connections. */
const MAX_CONNECTIONS = 100;
const SEQUENCES = 'postgres.sequences';

/**
 * Sequences: what was last returned lives in memory, what was last WAL-logged on the disk. A
 * sequence is created on first use (the live port runs CREATE SEQUENCE IF NOT EXISTS).
 */
export class Sequences {
  private readonly returned = new Map<string, number>();

  constructor(private readonly logged: Map<string, number>) {}

  nextval(name: string): number {
    const logged = this.logged.get(name) ?? 0;
    const value = (this.returned.get(name) ?? logged) + 1;
    if (value > logged) this.logged.set(name, value + SEQ_LOG_VALS);
    this.returned.set(name, value);
    return value;
  }
}

export function postgresDialect(sequences: Sequences): Dialect {
  return {
    maxConnections: MAX_CONNECTIONS,
    tooManyConnections: 'FATAL: sorry, too many clients already',
    execute(op: string, body: Readonly<Record<string, unknown>>, session: SessionId, locks: LockTable): Outcome {
      if (op === 'nextval') {
        const name = body['sequence'];
        if (typeof name !== 'string' || name.length === 0)
          return { kind: 'error', message: 'nextval: a sequence name is required' };
        return { kind: 'reply', value: sequences.nextval(name) };
      }
      const key = body['key'];
      if (!Number.isSafeInteger(key))
        return { kind: 'error', message: `${op}: the key must be an integer, got ${String(key)}` };
      const lockKey = String(key);
      switch (op) {
        case 'advisory-lock':
          return { kind: 'lock', key: lockKey, timeoutMs: null, granted: null, timedOut: null };
        case 'advisory-try-lock':
          return { kind: 'reply', value: locks.tryAcquire(session, lockKey) };
        case 'advisory-unlock':
          return { kind: 'reply', value: locks.release(session, lockKey) === 'released' };
        default:
          return { kind: 'error', message: `unknown statement '${op}'` };
      }
    },
  };
}

/** Boot a PostgreSQL server on `host`; its sequences live on the host's disk, see the fault model. */
export function postgresServer(host: Host, keepalive: KeepaliveConfig): DbServer {
  return new DbServer(host, postgresDialect(new Sequences(durableMap(host, SEQUENCES))), keepalive);
}
