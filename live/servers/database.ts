/**
 * What the private database servers of the live harness share: a directory of their own that the
 * server's service account may use when the harness runs as root (PostgreSQL refuses to run as
 * root; MariaDB is run as its own account too, as it is installed), the server's process tree
 * (PostgreSQL forks a process per session), a database URL pointed at another address (a
 * Toxiproxy proxy), and the choice between a private server and one given by URL.
 */
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { EnvironmentError, removeOnExit, sleep } from '../process.ts';
import { redactSecrets, redactUrl } from '../../runner/redact.ts';

/** The uid and gid to run a server as: the service account when the harness is root, else none. */
export interface RunAs {
  readonly uid?: number;
  readonly gid?: number;
}

/** `account` from /etc/passwd when running as root (a server must not run as root), else nothing. */
export function serviceAccount(account: string): RunAs {
  if (process.getuid?.() !== 0) return {};
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${account}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new EnvironmentError(`running as root, but there is no '${account}' user to run the server as`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** A fresh directory for one server, removed when the harness exits; owned by `runAs` if given. */
export function serverDirectory(name: string, runAs: RunAs): { readonly dir: string; readonly remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `lockstep-${name}-`));
  const remove = removeOnExit(dir);
  if (runAs.uid !== undefined && runAs.gid !== undefined) {
    chownSync(dir, runAs.uid, runAs.gid);
    assertTraversable(dirname(dir));
  }
  return { dir, remove };
}

/** A subdirectory of a server's directory, owned like it. */
export function ownedSubdirectory(dir: string, name: string, runAs: RunAs, mode = 0o700): string {
  const path = join(dir, name);
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
  if (runAs.uid !== undefined && runAs.gid !== undefined) chownSync(path, runAs.uid, runAs.gid);
  return path;
}

/** The service account reaches its directory only if every parent lets others through. */
function assertTraversable(dir: string): void {
  for (let at = dir; ; at = dirname(at)) {
    // The "others may search" bit: the service account is neither owner nor group of these.
    if ((statSync(at).mode & 0o001) === 0)
      throw new EnvironmentError(
        `${at} is not searchable by others, so a server run as its own account cannot reach its directory under it; set TMPDIR to another directory`,
      );
    if (at === dirname(at)) return;
  }
}

/** The pids of `pid`'s children, from /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces: state, ppid.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return children;
}

/** Whether `pid` is still a live process (a zombie counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** SIGKILL `pids` and wait (at most `timeoutMs`) until they are gone. */
export async function killAndWait(pids: readonly number[], timeoutMs: number): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (let waitedMs = 0; pids.some(alive); waitedMs += 10) {
    if (waitedMs > timeoutMs)
      throw new EnvironmentError(`processes ${pids.filter(alive).join(', ')} outlived SIGKILL by ${timeoutMs}ms`);
    await sleep(10);
  }
}

/** Send `signal` to each of `pids`, ignoring those already gone. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** `url` with its host and port replaced: the same user, password and database, through a proxy. */
export function withAddress(url: string, host: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = host;
  parsed.port = String(port);
  return parsed.toString();
}

/** Host and port of a database URL, with the scheme's default port. */
export function addressOf(url: string, defaultPort: number): { readonly host: string; readonly port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: parsed.port === '' ? defaultPort : Number(parsed.port) };
}

/** A database the harness reaches: its own private server, or one given by URL that it only uses. */
export interface DatabaseTarget<Server> {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** The private server, to crash and restart; null for a server given by URL. */
  readonly server: Server | null;
  /** Stop the private server and remove its directory; nothing for a given one. */
  close(): Promise<void>;
}

/** A fresh private server from `create`, started; destroyed again if it does not start. */
export async function startFresh<Server extends { start(): Promise<void>; destroy(): Promise<void> }>(
  create: () => Promise<Server>,
): Promise<Server> {
  const server = await create();
  try {
    await server.start();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}

/** How to reach one kind of database server, for databaseTarget. */
export interface DatabaseKind<Server> {
  /** For messages: postgres, mysql. */
  readonly system: string;
  /** The port of a URL that names none. */
  readonly defaultPort: number;
  /** Whether `url` answers SELECT 1; rejects with the driver's error when it cannot connect. */
  answers(url: string): Promise<boolean>;
  /** A fresh private server named `name`, started. */
  start(name: string): Promise<Server>;
}

/** A private server named `name`, started; or, given `url`, that server, once it answers. */
export async function databaseTarget<
  Server extends { readonly url: string; readonly port: number; destroy(): Promise<void> },
>(kind: DatabaseKind<Server>, name: string, url?: string): Promise<DatabaseTarget<Server>> {
  if (url !== undefined) {
    const answered = await kind.answers(url).catch((error: unknown) => error);
    if (answered !== true) throw new EnvironmentError(unusable(kind, url, answered));
    return { url, ...addressOf(url, kind.defaultPort), server: null, close: async () => {} };
  }
  const server = await kind.start(name);
  return { url: server.url, host: '127.0.0.1', port: server.port, server, close: () => server.destroy() };
}

/**
 * Whether a driver's error says the server refused the credentials: PostgreSQL's SQLSTATE 28P01
 * (invalid_password) or 28000 (invalid_authorization_specification, e.g. no pg_hba.conf entry),
 * MySQL's ER_ACCESS_DENIED_ERROR (1045) or its no-password variant (1698), or pg's own complaint
 * that the server wants a password the URL does not give.
 */
export function isAuthenticationFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errno, message } = error as { code?: unknown; errno?: unknown; message?: unknown };
  if (
    code === '28P01' ||
    code === '28000' ||
    code === 'ER_ACCESS_DENIED_ERROR' ||
    code === 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR'
  )
    return true;
  if (errno === 1045 || errno === 1698) return true;
  return typeof message === 'string' && /client password must be a string/.test(message);
}

/**
 * Why the database at `url` cannot be used, as it may be printed: the URL without its password,
 * the driver's words with any secret taken out, and a refused login said as one.
 */
export function unusable(
  kind: Pick<DatabaseKind<unknown>, 'system' | 'defaultPort'>,
  url: string,
  answer: unknown,
): string {
  const { host, port } = addressOf(url, kind.defaultPort);
  if (isAuthenticationFailure(answer)) {
    const user = decodeURIComponent(new URL(url).username) || '(none)';
    const why = new URL(url).password === '' ? 'the URL gives no password' : 'password rejected';
    return `${kind.system}: authentication failed for user ${user} at ${host}:${port} (${why})`;
  }
  const shown = redactUrl(url);
  if (answer === false) return `${kind.system}: ${shown} answered SELECT 1 with something else than 1`;
  return `${kind.system}: ${shown} does not answer SELECT 1 (${redactSecrets(driverReason(answer))})`;
}

/** A driver error in a few words; Node's connection errors to several addresses at once come with no message of their own. */
function driverReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const inner = error instanceof AggregateError ? error.errors.map(driverReason).join('; ') : '';
  return error.message || inner || code || error.name;
}
