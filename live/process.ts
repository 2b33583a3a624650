/**
 * Child processes of the live harness: servers, Toxiproxy and client processes, each with its own
 * log file, started and awaited until they answer, and always torn down: on stop(), and on exit,
 * error, SIGINT and SIGTERM of the harness itself. Temporary directories registered here go too.
 *
 * A SIGKILL of the harness runs none of that, so every child is also started with a parent-death
 * signal (SIGKILL, through util-linux's setpriv, which sets it and then execs the program in place:
 * the same pid, so signals and /proc still reach the real server), and recorded in ./leftovers.ts
 * for the next harness to remove what dies with nothing.
 */
import { fork, spawn, type ChildProcess, type ForkOptions, type SpawnOptions } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { recordDirectory, recordProcess, removeRecord } from './leftovers.ts';

/** The environment could not run the request: a server missing, a port taken, a server dead. Exit code 3. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

const running = new Set<ChildProcess>();
const directories = new Set<string>();
let hooked = false;

/** Kill every child the harness started and remove its temporary directories, at once. */
export function killAll(): void {
  for (const child of running) {
    try {
      // A stopped process does not act on SIGKILL until it is continued on some kernels' job control; continue it too.
      child.kill('SIGKILL');
      child.kill('SIGCONT');
    } catch {
      // already gone
    }
  }
  running.clear();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  directories.clear();
  removeRecord();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.kill(process.pid, signal);
    });
  }
}

/** Remove `dir` when the harness exits, however it exits, unless it was removed before. */
export function removeOnExit(dir: string): () => void {
  hookExit();
  directories.add(dir);
  recordDirectory(dir);
  return () => {
    directories.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
}

/** Track a child started elsewhere (a forked client) so that it dies with the harness. */
export function track(child: ChildProcess): void {
  hookExit();
  running.add(child);
  if (child.pid !== undefined) recordProcess(child.pid, 'client');
  child.once('exit', () => running.delete(child));
}

/** The pids of every child still running: the cleanup test reads it. */
export function runningPids(): number[] {
  return [...running].map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
}

/** util-linux's setpriv, where installed (Debian: always, in util-linux); without it only the next harness's sweep removes what a SIGKILL leaves. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path)) ?? null;
/** setpriv's exit code when the program it was to exec does not exist (util-linux's EX_EXEC_ENOENT). */
const EXEC_ENOENT = 127;

/**
 * `command args` run so that the kernel SIGKILLs it when the harness dies, however it dies:
 * PR_SET_PDEATHSIG, set by setpriv, which then execs the command in place. The setting survives
 * that exec, and `ip netns exec`'s (no set-uid, no capabilities); a uid given to spawn() is taken
 * before setpriv runs, so no later change of credentials clears it.
 */
export function dyingWithHarness(command: string, args: readonly string[]): { command: string; args: string[] } {
  if (SETPRIV === null) return { command, args: [...args] };
  return { command: SETPRIV, args: ['--pdeathsig', 'KILL', '--', command, ...args] };
}

/** `program args...` run through the command prefix `wrap` (e.g. `ip netns exec <ns>`), if there is one. */
export function wrapped(
  wrap: readonly string[],
  program: string,
  args: readonly string[],
): { command: string; args: string[] } {
  const [first, ...rest] = wrap;
  return first === undefined
    ? { command: program, args: [...args] }
    : { command: first, args: [...rest, program, ...args] };
}

/** fork() a Node module as a client process that dies with the harness, even while stopped by a pause. */
export function forkDying(modulePath: string, options: ForkOptions & { execArgv: string[] }): ChildProcess {
  // fork() runs `execPath ...execArgv modulePath`: setpriv in front of node keeps the IPC channel (an inherited fd).
  const wrapped = dyingWithHarness(process.execPath, options.execArgv);
  return fork(modulePath, [], { ...options, execPath: wrapped.command, execArgv: wrapped.args });
}

let keptLogDir: string | null = null;
let keptLogRoot: string | null = null;

/** Where logs of servers and clients that failed are kept from now on (a directory made under `root` at the first failure): the command's output directory. */
export function keepFailedLogsIn(root: string): void {
  keptLogRoot = root;
  keptLogDir = null;
}

/**
 * A copy of a failed server's (or client's) log, outside the temporary directory that teardown removes, so
 * that the path an error names still exists when the command has ended. Returns that path (the
 * original if the copy cannot be made, with why).
 */
export function keepLog(logFile: string): string {
  try {
    if (keptLogDir === null) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      keptLogDir = join(keptLogRoot ?? tmpdir(), `failed-logs-${stamp}-${process.pid}`);
      mkdirSync(keptLogDir, { recursive: true });
    }
    const kept = join(keptLogDir, basename(logFile));
    copyFileSync(logFile, kept);
    return kept;
  } catch (error) {
    return `${logFile} (not kept: ${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

/** A free TCP port on 127.0.0.1, from the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Send `line` to host:port (127.0.0.1 unless `host` says otherwise) and resolve with the answer:
 * once `complete(answer)` holds, or the server closes (ZooKeeper's four-letter words), or
 * `timeoutMs` passes.
 */
export function ask(
  port: number,
  line: string,
  options: { complete?: (answer: string) => boolean; timeoutMs?: number; host?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = createConnection({ host: options.host ?? '127.0.0.1', port }, () => socket.write(line));
    socket.setTimeout(options.timeoutMs ?? 1000, () => {
      socket.destroy();
      resolve(answer);
    });
    socket.on('data', (data) => {
      answer += data.toString();
      if (options.complete?.(answer) === true) {
        socket.destroy();
        resolve(answer);
      }
    });
    socket.once('end', () => resolve(answer));
    socket.once('error', reject);
  });
}

/**
 * Wait for every one of `work` to finish, then throw the first failure, if any. Unlike Promise.all,
 * a failure does not return while the rest are still starting: a cleanup that follows finds each
 * server either up or never started, none half-way.
 */
export async function settleAll(work: readonly Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(work);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly logFile: string;
  /** Polled every 50 ms until it resolves true. */
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs: number;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Run as this uid/gid (postgres refuses to run as root). */
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * Start `command`, logging to `logFile`, and wait until `ready()` says it answers (polled every
 * 50 ms, for at most `timeoutMs`). A process that exits or never answers is an EnvironmentError.
 */
export async function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: StartOptions,
): Promise<Started & { readonly child: ChildProcess }> {
  hookExit();
  const child = spawnLogged(name, command, args, options);
  running.add(child);
  if (child.pid !== undefined) recordProcess(child.pid, name);
  const notInstalled = `${command} is not installed (run scripts/install-servers.sh)`;
  let exited: string | null = null;
  /** Why the child is gone, once its 'error' or 'exit' handler has run (the loop below awaits in between); null before. */
  const gone = (): string | null => exited;
  child.once(
    'error',
    (error) => (exited = (error as NodeJS.ErrnoException).code === 'ENOENT' ? notInstalled : error.message),
  );
  child.once('exit', (code, signal) => {
    running.delete(child);
    exited ??= SETPRIV !== null && code === EXEC_ENOENT ? notInstalled : `exited with ${signal ?? `code ${code}`}`;
  });
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const why = gone();
    if (why !== null)
      throw new EnvironmentError(`${name}: ${why} before it answered; log: ${keepLog(options.logFile)}`);
    if (await options.ready().catch(() => false)) break;
    if (gone() !== null) continue;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new EnvironmentError(
        `${name}: did not answer within ${options.timeoutMs} ms; log: ${keepLog(options.logFile)}`,
      );
    }
    await sleep(50);
  }
  if (child.pid === undefined)
    throw new EnvironmentError(`${name}: answered, but its process has no pid (it did not start)`);
  return {
    name,
    pid: child.pid,
    logFile: options.logFile,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
        child.kill('SIGCONT');
      }),
  };
}

/** Spawn `command` with its output appended to its log, dying with the harness. */
function spawnLogged(name: string, command: string, args: readonly string[], options: StartOptions): ChildProcess {
  const log = openSync(options.logFile, 'a');
  const spawnOptions: SpawnOptions = {
    stdio: ['ignore', log, log],
    cwd: options.cwd,
    env: options.env,
    uid: options.uid,
    gid: options.gid,
  };
  const wrapped = dyingWithHarness(command, args);
  try {
    return spawn(wrapped.command, wrapped.args, spawnOptions);
  } catch (error) {
    throw new EnvironmentError(
      `${name}: cannot start ${command} (${(error as Error).message}); log: ${keepLog(options.logFile)}`,
    );
  } finally {
    closeSync(log);
  }
}

/** How to (re)start one server: the same command, ports and data directory every time. */
export interface ServerSpec {
  /** e.g. zookeeper-2: names the server in errors and logs. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** True once the server answers requests. */
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs?: number;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * One server of a live cluster, under the harness's control: started, stopped (SIGSTOP) and
 * continued, killed (SIGKILL) and started again with the same ports and data. If it dies when
 * the harness did not kill it, `died` says so, naming its log: the run is then void.
 */
export class ManagedServer {
  private current: (Started & { readonly child: ChildProcess }) | null = null;
  private killing = false;
  private paused = false;
  /** Why the server died under the harness, if it did. */
  died: string | null = null;

  constructor(protected spec: ServerSpec) {}

  get name(): string {
    return this.spec.name;
  }

  get logFile(): string {
    return this.spec.logFile;
  }

  get pid(): number | null {
    return this.current?.pid ?? null;
  }

  get isRunning(): boolean {
    return this.current !== null;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  async start(): Promise<void> {
    if (this.current !== null) return;
    const spec = this.spec;
    const started = await startProcess(spec.name, spec.command, spec.args, {
      logFile: spec.logFile,
      ready: spec.ready,
      timeoutMs: spec.timeoutMs ?? 20_000,
      cwd: spec.cwd,
      env: spec.env,
      uid: spec.uid,
      gid: spec.gid,
    });
    this.current = started;
    this.killing = false;
    started.child.once('exit', (code, signal) => {
      if (this.current === started) this.current = null;
      if (!this.killing)
        this.died ??= `${spec.name} died (${signal ?? `code ${code}`}) during the run; log: ${keepLog(spec.logFile)}`;
    });
  }

  /** SIGSTOP: the process stops; its kernel still answers TCP. */
  pause(): void {
    if (this.current === null || this.paused) return;
    this.current.child.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.current === null || !this.paused) return;
    this.current.child.kill('SIGCONT');
    this.paused = false;
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<void> {
    const current = this.current;
    if (current === null) return;
    this.killing = true;
    this.paused = false;
    await current.stop();
    this.current = null;
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}
