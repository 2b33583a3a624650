/**
 * A private PostgreSQL server for the live harness: a fresh cluster (initdb) in a directory of its
 * own, listening on 127.0.0.1 only, on a port of its own, its unix socket in that directory, trust
 * authentication. fsync is off: a crash here is a process crash, not a power cut, and the OS keeps
 * what was written; synchronous_commit stays on, so a commit is written before it is acknowledged.
 * Run as the postgres account when the harness is root, since PostgreSQL refuses root. A crash is
 * SIGKILL of the postmaster and of every backend it forked, at once; start() again brings the same
 * data back, after crash recovery.
 *
 * Or a server someone else runs (--postgres URL): the harness only connects to it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { recordProcess } from '../leftovers.ts';
import { EnvironmentError, freePort, ManagedServer } from '../process.ts';
import {
  childPids,
  databaseTarget,
  killAndWait,
  startFresh,
  ownedSubdirectory,
  serverDirectory,
  serviceAccount,
  signalAll,
  type DatabaseTarget,
  type RunAs,
} from './database.ts';

/** The superuser initdb creates and the database the harness uses; trust auth, so no password. */
export const POSTGRES_USER = 'lockstep';
export const POSTGRES_DATABASE = 'lockstep';
const DEFAULT_PORT = 5432;
const CONNECT_TIMEOUT_MS = 1000;

/** The newest PostgreSQL under /usr/lib/postgresql (Debian's layout), e.g. /usr/lib/postgresql/15/bin. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
    : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined)
    throw new EnvironmentError(`postgres: no server under ${root}/<version>/bin; run scripts/install-servers.sh`);
  return join(root, newest, 'bin');
}

/** Whether `url` answers SELECT 1 within a second. */
export async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one === 1;
  } finally {
    await client.end().catch(() => {});
  }
}

export class PostgresServer extends ManagedServer {
  private constructor(
    name: string,
    readonly dir: string,
    readonly port: number,
    private readonly removeDir: () => void,
    runAs: RunAs,
  ) {
    const bin = postgresBinDir();
    const data = join(dir, 'data');
    const settings = {
      listen_addresses: '127.0.0.1',
      port: String(port),
      unix_socket_directories: join(dir, 'socket'),
      fsync: 'off',
      full_page_writes: 'off',
      max_connections: '200',
      shared_buffers: '16MB',
      // A cluster of its own: nothing from the machine's own configuration applies.
      log_min_messages: 'warning',
      logging_collector: 'off',
    };
    super({
      name,
      command: join(bin, 'postgres'),
      args: ['-D', data, ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`])],
      logFile: join(dir, `${name}.log`),
      ready: () => postgresAnswers(urlOf(port, 'postgres')),
      timeoutMs: 30_000,
      ...runAs,
    });
  }

  /** initdb a fresh cluster in a directory of its own; call start() to run it. */
  static async create(name: string): Promise<PostgresServer> {
    const runAs = serviceAccount('postgres');
    const { dir, remove } = serverDirectory(name, runAs);
    ownedSubdirectory(dir, 'socket', runAs);
    const data = ownedSubdirectory(dir, 'data', runAs);
    const initdb = spawnSync(
      join(postgresBinDir(), 'initdb'),
      ['-D', data, '-U', POSTGRES_USER, '--auth=trust', '--encoding=UTF8', '--no-sync', '--no-instructions'],
      {
        ...runAs,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    if (initdb.status !== 0) {
      remove();
      throw new EnvironmentError(
        `${name}: initdb failed (${initdb.error?.message ?? `exit ${initdb.status}`}): ${initdb.stderr}`,
      );
    }
    return new PostgresServer(name, dir, await freePort(), remove, runAs);
  }

  /** The URL of the harness's database on this server, directly (not through a proxy). */
  get url(): string {
    return urlOf(this.port, POSTGRES_DATABASE);
  }

  /** Start (or restart with the same data) and wait until the lockstep database answers. */
  override async start(): Promise<void> {
    await super.start();
    const admin = new pg.Client({
      connectionString: urlOf(this.port, 'postgres'),
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    admin.on('error', () => {});
    try {
      await admin.connect();
      const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [POSTGRES_DATABASE]);
      if (found.rowCount === 0) await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(POSTGRES_DATABASE)}`);
    } finally {
      await admin.end().catch(() => {});
    }
  }

  /** SIGKILL the postmaster and its backends together, as a machine crash would end them. */
  override async kill(): Promise<void> {
    const pid = this.pid;
    if (pid === null) return;
    const backends = childPids(pid);
    signalAll(backends, 'SIGKILL');
    await super.kill();
    await killAndWait(backends, 5000);
  }

  /**
   * SIGSTOP the whole server: the postmaster and every backend. The backends are recorded first: a
   * stopped one acts on nothing but SIGKILL, and only the postmaster dies with the harness, so
   * if the harness is killed now, the next one kills them (../leftovers.ts).
   */
  override pause(): void {
    const pid = this.pid;
    if (pid === null || this.isPaused) return;
    const backends = childPids(pid);
    for (const backend of backends) recordProcess(backend, `${this.name} backend`);
    signalAll(backends, 'SIGSTOP');
    super.pause();
  }

  override resume(): void {
    const pid = this.pid;
    if (pid === null || !this.isPaused) return;
    super.resume();
    signalAll(childPids(pid), 'SIGCONT');
  }

  /** Kill the server and remove its directory. */
  async destroy(): Promise<void> {
    await this.kill();
    this.removeDir();
  }
}

function urlOf(port: number, database: string): string {
  return `postgres://${POSTGRES_USER}@127.0.0.1:${port}/${database}`;
}

/** A PostgreSQL the harness reaches: its own private server, or one given by URL that it only uses. */
export type PostgresTarget = DatabaseTarget<PostgresServer>;

/** A private server named `name`, started; or, given `url`, that server, once it answers. */
export function postgresTarget(name: string, url?: string): Promise<PostgresTarget> {
  return databaseTarget(
    { system: 'postgres', defaultPort: DEFAULT_PORT, answers: postgresAnswers, start: startPostgres },
    name,
    url,
  );
}

/** A fresh private server on a free port, started. */
export function startPostgres(name: string): Promise<PostgresServer> {
  return startFresh(() => PostgresServer.create(name));
}
