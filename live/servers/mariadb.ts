/**
 * A private MariaDB server for the live harness (the MySQL system): a fresh data directory
 * (mariadb-install-db) in a directory of its own, listening on 127.0.0.1 only, on a port of its
 * own, its socket in that directory, no option files read (--no-defaults). The harness's user
 * (lockstep, no password, from any host) and database are created by root over the socket once
 * the server answers. Run as the
 * mysql account when the harness is root, as the server is installed to run.
 *
 * innodb_flush_log_at_trx_commit = 2: every commit is written to the OS before it is acknowledged,
 * and synced once a second. A crash here is a process crash, not a power cut, so a committed
 * counter survives it, as the model's (flush at every commit) does.
 *
 * Or a server someone else runs (--mysql URL): the harness only connects to it.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { sessionKeepalive } from '../../backends/shared/dbsession/settings.ts';
import { EnvironmentError, freePort, ManagedServer } from '../process.ts';
import {
  databaseTarget,
  ownedSubdirectory,
  startFresh,
  serverDirectory,
  serviceAccount,
  type DatabaseTarget,
  type RunAs,
} from './database.ts';

export const MYSQL_USER = 'lockstep';
export const MYSQL_DATABASE = 'lockstep';
const DEFAULT_PORT = 3306;
const CONNECT_TIMEOUT_MS = 1000;

/** Run as root over the server's socket once it answers: idempotent, so a restart runs it again. */
const SETUP = [
  `CREATE DATABASE IF NOT EXISTS ${MYSQL_DATABASE}`,
  `CREATE USER IF NOT EXISTS '${MYSQL_USER}'@'%'`,
  `GRANT ALL PRIVILEGES ON *.* TO '${MYSQL_USER}'@'%'`,
];

/** Whether `url` answers SELECT 1 within a second. */
export async function mysqlAnswers(url: string): Promise<boolean> {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: CONNECT_TIMEOUT_MS });
  connection.on('error', () => {});
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT 1 AS one');
    return rows[0]?.['one'] === 1;
  } finally {
    connection.destroy();
  }
}

/** Whether root, over the server's own socket, gets an answer to SELECT 1. */
async function rootAnswers(socketPath: string): Promise<boolean> {
  const connection = await mysql.createConnection({ socketPath, user: 'root', connectTimeout: CONNECT_TIMEOUT_MS });
  connection.on('error', () => {});
  try {
    await connection.query('SELECT 1');
    return true;
  } finally {
    connection.destroy();
  }
}

export class MariaDbServer extends ManagedServer {
  private keepalive: readonly string[] = [];

  private constructor(
    name: string,
    readonly dir: string,
    readonly port: number,
    private readonly removeDir: () => void,
    runAs: RunAs,
  ) {
    const settings = {
      datadir: join(dir, 'data'),
      port: String(port),
      'bind-address': '127.0.0.1',
      socket: join(dir, 'mysqld.sock'),
      'pid-file': join(dir, 'mysqld.pid'),
      tmpdir: join(dir, 'tmp'),
      'skip-name-resolve': 'ON',
      'innodb-buffer-pool-size': '16M',
      'innodb-log-file-size': '16M',
      'innodb-flush-log-at-trx-commit': '2',
      'innodb-use-native-aio': 'OFF',
      'skip-log-bin': 'ON',
      'max-connections': '200',
      'performance-schema': 'OFF',
      ...(runAs.uid === undefined ? {} : { user: 'mysql' }),
    };
    super({
      name,
      command: mariadbd(),
      // --no-defaults must come first: nothing of the machine's own my.cnf applies.
      args: ['--no-defaults', ...Object.entries(settings).map(([key, value]) => `--${key}=${value}`)],
      logFile: join(dir, `${name}.log`),
      ready: () => rootAnswers(join(dir, 'mysqld.sock')),
      timeoutMs: 30_000,
      ...runAs,
    });
  }

  /** Install a fresh data directory in a directory of its own; call start() to run it. */
  static async create(name: string): Promise<MariaDbServer> {
    const runAs = serviceAccount('mysql');
    const { dir, remove } = serverDirectory(name, runAs);
    const data = ownedSubdirectory(dir, 'data', runAs, 0o750);
    const tmp = ownedSubdirectory(dir, 'tmp', runAs);
    const args = [
      '--no-defaults',
      `--datadir=${data}`,
      '--skip-test-db',
      '--auth-root-authentication-method=normal',
      ...(runAs.uid === undefined ? [] : ['--user=mysql']),
    ];
    // Its bootstrap server runs as the mysql account and writes temporary files under TMPDIR: give it its own.
    const install = spawnSync('mariadb-install-db', args, {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TMPDIR: tmp },
    });
    if (install.status !== 0) {
      remove();
      const why =
        (install.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
          ? 'mariadb-install-db is not installed'
          : (install.error?.message ?? `exit ${install.status}`);
      throw new EnvironmentError(`${name}: mariadb-install-db failed (${why}): ${install.stdout}${install.stderr}`);
    }
    return new MariaDbServer(name, dir, await freePort(), remove, runAs);
  }

  /** Start (or restart with the same data) and make sure the harness's user and database exist. */
  override async start(): Promise<void> {
    await super.start();
    await this.asRoot([...SETUP, ...this.keepalive]);
  }

  /**
   * The server's TCP keepalive for connections it accepts from now on, and after restarts:
   * sessionKeepalive(ttl) in MariaDB's GLOBAL tcp_keepalive_* variables, whole seconds.
   */
  async setKeepalive(ttlMs: number): Promise<void> {
    const keepalive = sessionKeepalive(ttlMs);
    const seconds = (ms: number) => Math.max(1, Math.round(ms / 1000));
    this.keepalive = [
      `SET GLOBAL tcp_keepalive_time = ${seconds(keepalive.idleMs)}`,
      `SET GLOBAL tcp_keepalive_interval = ${seconds(keepalive.intervalMs)}`,
      `SET GLOBAL tcp_keepalive_probes = ${keepalive.count}`,
    ];
    if (this.isRunning) await this.asRoot(this.keepalive);
  }

  private async asRoot(statements: readonly string[]): Promise<void> {
    const root = await mysql.createConnection({
      socketPath: join(this.dir, 'mysqld.sock'),
      user: 'root',
      connectTimeout: CONNECT_TIMEOUT_MS,
    });
    try {
      for (const statement of statements) await root.query(statement);
    } finally {
      root.destroy();
    }
  }

  /** The URL of the harness's database on this server, directly (not through a proxy). */
  get url(): string {
    return urlOf(this.port);
  }

  /** Kill the server and remove its directory. */
  async destroy(): Promise<void> {
    await this.kill();
    this.removeDir();
  }
}

function mariadbd(): string {
  const found = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((path) => spawnSync(path, ['--version']).status === 0);
  if (found === undefined)
    throw new EnvironmentError('mariadb: no mariadbd in /usr/sbin; run scripts/install-servers.sh');
  return found;
}

function urlOf(port: number): string {
  return `mysql://${MYSQL_USER}@127.0.0.1:${port}/${MYSQL_DATABASE}`;
}

/** A MariaDB (or MySQL) the harness reaches: its own private server, or one given by URL that it only uses. */
export type MySqlTarget = DatabaseTarget<MariaDbServer>;

/** A private server named `name`, started; or, given `url`, that server, once it answers. */
export function mysqlTarget(name: string, url?: string): Promise<MySqlTarget> {
  return databaseTarget(
    { system: 'mysql', defaultPort: DEFAULT_PORT, answers: mysqlAnswers, start: startMariaDb },
    name,
    url,
  );
}

/** A fresh private server on a free port, started. */
export function startMariaDb(name: string): Promise<MariaDbServer> {
  return startFresh(() => MariaDbServer.create(name));
}
