/**
 * A MySQL server (8.x; MariaDB 10.0.2+ behaves alike here), as far as user-level locks and a
 * fencing counter need one.
 *
 * Fault model. One node; sessions, their locks and how they end are shared/dbsession/server.ts: a session
 * is a connection, and it ends (releasing its locks) when the connection is reset or TCP keepalive
 * gives up on a silent client, so a partitioned holder loses its lock after about one keepalive
 * timeout and a paused one keeps it. mysqld turns SO_KEEPALIVE on for client sockets and the
 * kernel's net.ipv4.tcp_keepalive_* settings time it; wait_timeout is left at its default of
 * 8 hours, far beyond any run, so an idle holder is never killed for idling.
 *   - GET_LOCK(name, timeout) waits, first come first served, until the holder releases the name
 *     or its session ends, or until `timeout` seconds of the server's clock pass (then it returns
 *     0; a negative timeout waits for ever). The timeout counts whole seconds: a fraction is
 *     rounded. Names are case-insensitive, 1..64 characters.
 *   - A session may hold several names, each reentrant: as many RELEASE_LOCKs as GET_LOCKs.
 *     RELEASE_LOCK returns 1 when it let go of one hold, 0 when another session holds the name,
 *     NULL when nobody does.
 *   - A crash ends every session and frees every lock: they live in memory.
 *   - The counter row is InnoDB with innodb_flush_log_at_trx_commit = 1: a committed increment is
 *     on disk, so a restart that keeps the disk continues exactly where it stopped; one without
 *     the disk has lost the table, and the counter starts again at 1, tokens going backwards.
 * Left out: deadlock detection among user locks (ER_USER_LOCK_DEADLOCK), KILL (GET_LOCK returning
 * NULL), IS_FREE_LOCK and IS_USED_LOCK, RELEASE_ALL_LOCKS, whether a real server's timed wait
 * reads the wall clock (here a wall-clock jump on the server does not shorten it), replication.
 */
import type { Host } from '../../sim/node.ts';
import type { KeepaliveConfig } from '../shared/endpoint/endpoint.ts';
import { DbServer, durableMap, type Dialect, type Outcome } from '../shared/dbsession/server.ts';
import type { LockTable, SessionId } from '../shared/dbsession/lock-table.ts';

/** The longest user-level lock name MySQL accepts. */
export const MAX_LOCK_NAME = 64;
/** MySQL's default max_connections. */
const MAX_CONNECTIONS = 151;
const COUNTERS = 'mysql.counters';

export function mysqlDialect(counters: Map<string, number>): Dialect {
  return {
    maxConnections: MAX_CONNECTIONS,
    tooManyConnections: 'ERROR 1040 (08004): Too many connections',
    execute(op: string, body: Readonly<Record<string, unknown>>, session: SessionId, locks: LockTable): Outcome {
      const name = body['name'];
      if (op === 'increment-counter') {
        if (typeof name !== 'string' || name.length === 0)
          return { kind: 'error', message: 'increment-counter: a counter name is required' };
        const next = (counters.get(name) ?? 0) + 1;
        counters.set(name, next);
        return { kind: 'reply', value: next };
      }
      if (typeof name !== 'string' || name.length === 0 || name.length > MAX_LOCK_NAME) {
        return { kind: 'error', message: `ERROR 3057 (42000): Incorrect user-level lock name '${String(name)}'` };
      }
      const key = name.toLowerCase();
      switch (op) {
        case 'get-lock': {
          const seconds = body['timeoutSeconds'];
          if (typeof seconds !== 'number' || !Number.isFinite(seconds))
            return { kind: 'error', message: `GET_LOCK: the timeout must be a number, got ${String(seconds)}` };
          const timeoutMs = seconds < 0 ? null : Math.round(seconds) * 1000;
          return { kind: 'lock', key, timeoutMs, granted: 1, timedOut: 0 };
        }
        case 'release-lock': {
          const result = locks.release(session, key);
          return { kind: 'reply', value: result === 'released' ? 1 : result === 'held-by-another' ? 0 : null };
        }
        default:
          return { kind: 'error', message: `unknown statement '${op}'` };
      }
    },
  };
}

/** Boot a MySQL server on `host`; its counter table lives on the host's disk, see the fault model. */
export function mysqlServer(host: Host, keepalive: KeepaliveConfig): DbServer {
  return new DbServer(host, mysqlDialect(durableMap(host, COUNTERS)), keepalive);
}
