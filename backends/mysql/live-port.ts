/**
 * MySqlPort on a real MySQL or MariaDB through mysql2: one dedicated connection per session, with
 * the session semantics of shared/dbsession/live-session.ts, which are the sim port's.
 *
 * Keepalive: neither server lets a session choose it. mysqld turns SO_KEEPALIVE on for client
 * sockets, timed by the kernel's net.ipv4.tcp_keepalive_* (2 hours by default) or, on MariaDB
 * 10.3.6+, by the GLOBAL tcp_keepalive_time/interval/probes (whole seconds, read when a connection
 * is accepted). So the port cannot set it; the harness sets it on its private server
 * (MariaDbServer.setKeepalive). Through a proxy (Toxiproxy) the proxy answers the probes anyway,
 * and a session ends only when the proxy closes the connection.
 */
import mysql from 'mysql2';
import { RemoteError } from '../errors.ts';
import { sessionTimeouts } from '../shared/dbsession/settings.ts';
import { LiveSessionPort, type DriverConnection } from '../shared/dbsession/live-session.ts';
import type { SessionTimeouts } from '../shared/dbsession/sim-port.ts';
import type { SystemConfig } from '../system.ts';
import type { MySqlPort } from './port.ts';

/** The fencing counters: one row per lock name. */
export const COUNTER_TABLE = 'lockstep_counter';

type Connection = mysql.Connection;

const ER_SERVER_SHUTDOWN = 1053;
const ER_CONNECTION_KILLED = 1927;

export class LiveMySqlPort extends LiveSessionPort<Connection> implements MySqlPort {
  private readonly timeouts: SessionTimeouts;
  /** Whether this port has made sure the counter table exists. */
  private counterTable = false;

  /** `url`: mysql://user[:password]@host:port/database; timeouts from `config`. */
  constructor(
    private readonly url: string,
    config: SystemConfig,
  ) {
    const timeouts = sessionTimeouts(config);
    super(`mysql ${new URL(url).host}`, timeouts.queryTimeoutMs);
    this.timeouts = timeouts;
  }

  /** The client deadline is the sim port's: GET_LOCK's own timeout plus one plain query timeout. */
  getLock(name: string, timeoutSeconds: number): Promise<0 | 1> {
    const { queryTimeoutMs, blockingTimeoutMs } = this.timeouts;
    const deadlineMs = timeoutSeconds < 0 ? blockingTimeoutMs : timeoutSeconds * 1000 + queryTimeoutMs;
    return this.call(deadlineMs, async (connection) => {
      const got = await value(connection, 'SELECT GET_LOCK(?, ?) AS value', [name, timeoutSeconds]);
      // NULL: the wait was killed or failed on the server.
      if (got !== 0 && got !== 1)
        throw new RemoteError(`GET_LOCK('${name}', ${timeoutSeconds}) returned ${String(got)}`);
      return got;
    });
  }

  releaseLock(name: string): Promise<0 | 1 | null> {
    return this.call(
      this.timeouts.queryTimeoutMs,
      async (connection) => (await value(connection, 'SELECT RELEASE_LOCK(?) AS value', [name])) as 0 | 1 | null,
    );
  }

  /** The counter row's atomic increment; the OK packet's insert id is the LAST_INSERT_ID(expr) it set. */
  incrementCounter(name: string): Promise<number> {
    const create = !this.counterTable;
    return this.call(this.timeouts.queryTimeoutMs, async (connection) => {
      // Both statements go out at once, in order: one session runs them one after the other.
      const created = create
        ? run(
            connection,
            `CREATE TABLE IF NOT EXISTS ${COUNTER_TABLE} (name VARCHAR(64) PRIMARY KEY, n BIGINT NOT NULL) ENGINE=InnoDB`,
            [],
          )
        : null;
      const inserted = run(
        connection,
        `INSERT INTO ${COUNTER_TABLE} (name, n) VALUES (?, LAST_INSERT_ID(1)) ON DUPLICATE KEY UPDATE n = LAST_INSERT_ID(n + 1)`,
        [name],
      );
      await created;
      this.counterTable = true;
      return ((await inserted) as mysql.ResultSetHeader).insertId;
    });
  }

  protected open(lost: (error: unknown) => void): DriverConnection<Connection> {
    const connection = mysql.createConnection({ uri: this.url });
    const ready = new Promise<Connection>((resolve, reject) => {
      connection.once('connect', () => resolve(connection));
      connection.once('error', reject);
    });
    connection.on('error', lost);
    connection.on('end', () => lost(new Error('the server closed the connection')));
    return { ready, destroy: () => connection.destroy() };
  }

  protected async selectOne(connection: Connection): Promise<void> {
    await run(connection, 'SELECT 1', []);
  }

  /**
   * The server's answers carry an SQLSTATE (a refused login too); socket errors do not. Class 08
   * (connection exception), a shutdown and a killed connection are the session's end.
   */
  protected isServerError(error: unknown): boolean {
    const { sqlState, errno } = error as { sqlState?: unknown; errno?: unknown };
    return (
      typeof sqlState === 'string' &&
      !sqlState.startsWith('08') &&
      errno !== ER_SERVER_SHUTDOWN &&
      errno !== ER_CONNECTION_KILLED
    );
  }
}

function run(connection: Connection, sql: string, values: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) =>
    connection.query(sql, values, (error, result) => (error === null ? resolve(result) : reject(error))),
  );
}

async function value(connection: Connection, sql: string, values: unknown[]): Promise<unknown> {
  const rows = (await run(connection, sql, values)) as mysql.RowDataPacket[];
  return rows[0]?.['value'] ?? null;
}
