/**
 * PostgresPort on a real PostgreSQL (14 or later) through node-postgres: one dedicated connection
 * per session, with the session semantics of shared/dbsession/live-session.ts, which are the sim port's.
 *
 * Each session asks the server, in its startup packet, to treat the client as the model does:
 *   - TCP keepalive on the server's socket (tcp_keepalives_idle/interval/count, whole seconds,
 *     from sessionKeepalive(ttl)), and tcp_user_timeout = ttl, which bounds the time unanswered
 *     probes or unacknowledged data may last: a silent client's session ends within about
 *     max(ttl, 2 s). Whole seconds make short TTLs coarser than the model's ttl exactly.
 *   - client_connection_check_interval: a backend waiting in pg_advisory_lock otherwise never
 *     looks at its socket, so a client that hung up (the recipe ending a session whose wait timed
 *     out) would stay in the lock's queue until granted. With it the server notices the hang-up
 *     within the interval and leaves the queue, as the model's server does at once.
 * The keepalive only helps when the server's TCP peer is the client: through a proxy (Toxiproxy)
 * the proxy answers the probes, and the session ends only when the proxy closes the connection.
 */
import { Socket } from 'node:net';
import pg from 'pg';
import { sessionKeepalive, sessionTimeouts } from '../shared/dbsession/settings.ts';
import { LiveSessionPort, type DriverConnection } from '../shared/dbsession/live-session.ts';
import type { SessionTimeouts } from '../shared/dbsession/sim-port.ts';
import type { SystemConfig } from '../system.ts';
import type { PostgresPort } from './port.ts';

/** Errors of these classes end the connection: 08 connection exception, 57P operator intervention. */
const CONNECTION_ERROR = /^(08|57P)/;

export class LivePostgresPort extends LiveSessionPort<pg.Client> implements PostgresPort {
  private readonly timeouts: SessionTimeouts;
  private readonly startupOptions: string;
  /** Sequences this port has created or found, so nextval is one statement after the first. */
  private readonly sequences = new Set<string>();

  /** `url`: postgres://user[:password]@host:port/database; timeouts and keepalive from `config`. */
  constructor(
    private readonly url: string,
    config: SystemConfig,
  ) {
    const address = new URL(url);
    const timeouts = sessionTimeouts(config);
    super(`postgres ${address.host}`, timeouts.queryTimeoutMs);
    this.timeouts = timeouts;
    this.startupOptions = sessionSettings(config.ttlMs);
  }

  advisoryLock(key: number): Promise<void> {
    return this.call(this.timeouts.blockingTimeoutMs, async (client) => {
      await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    });
  }

  advisoryTryLock(key: number): Promise<boolean> {
    return this.call(
      this.timeouts.queryTimeoutMs,
      async (client) =>
        onlyRow(await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [key]))
          .locked,
    );
  }

  advisoryUnlock(key: number): Promise<boolean> {
    return this.call(
      this.timeouts.queryTimeoutMs,
      async (client) =>
        onlyRow(await client.query<{ unlocked: boolean }>('SELECT pg_advisory_unlock($1::bigint) AS unlocked', [key]))
          .unlocked,
    );
  }

  /** nextval on the sequence, creating it in the same round trip the first time this port uses it. */
  nextval(sequence: string): Promise<number> {
    const known = this.sequences.has(sequence);
    return this.call(this.timeouts.queryTimeoutMs, async (client) => {
      const regclass = client.escapeLiteral(client.escapeIdentifier(sequence));
      // Two statements in one simple query: one round trip, one implicit transaction.
      const create = known ? '' : `CREATE SEQUENCE IF NOT EXISTS ${client.escapeIdentifier(sequence)}; `;
      const results = (await client.query(`${create}SELECT nextval(${regclass}) AS value`)) as unknown as
        | pg.QueryResult
        | pg.QueryResult[];
      const last = Array.isArray(results) ? results.at(-1) : results;
      if (last === undefined) throw new Error('postgres: nextval returned no result');
      this.sequences.add(sequence);
      return Number((last.rows[0] as { value: string }).value);
    });
  }

  protected open(lost: (error: unknown) => void): DriverConnection<pg.Client> {
    const socket = new Socket();
    const client = new pg.Client({ connectionString: this.url, options: this.startupOptions, stream: () => socket });
    client.on('error', lost);
    client.on('end', () => lost(new Error('the connection closed')));
    return {
      ready: client.connect().then(() => client),
      destroy: () => socket.destroy(),
    };
  }

  protected async selectOne(client: pg.Client): Promise<void> {
    await client.query('SELECT 1');
  }

  protected isServerError(error: unknown): boolean {
    return error instanceof pg.DatabaseError && !CONNECTION_ERROR.test(error.code ?? '');
  }
}

/** The per-session settings of the header comment, as a startup `options` string. */
export function sessionSettings(ttlMs: number): string {
  const keepalive = sessionKeepalive(ttlMs);
  const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));
  const settings = {
    tcp_keepalives_idle: seconds(keepalive.idleMs),
    tcp_keepalives_interval: seconds(keepalive.intervalMs),
    tcp_keepalives_count: keepalive.count,
    tcp_user_timeout: Math.ceil(ttlMs),
    client_connection_check_interval: Math.max(10, Math.min(100, Math.round(ttlMs / 20))),
  };
  return Object.entries(settings)
    .map(([key, value]) => `-c ${key}=${value}`)
    .join(' ');
}

/** The one row a `SELECT f(...)` returns. */
function onlyRow<R extends pg.QueryResultRow>(result: pg.QueryResult<R>): R {
  const row = result.rows[0];
  if (row === undefined) throw new Error('postgres: a single-row SELECT returned no row');
  return row;
}
