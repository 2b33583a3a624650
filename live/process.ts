/**
 * Child processes of the live harness: servers and Toxiproxy, each with its own log file, started
 * and awaited until they answer, and always torn down: on stop(), and on exit, error, SIGINT and
 * SIGTERM of the harness itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';

/** A server the harness could not start; names it and its log. Exit code 3 at the command line. */
export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

const running = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
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

/** A free TCP port on 127.0.0.1, from the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

/**
 * Start `command`, logging to `logFile`, and wait until `ready()` says it answers (polled every
 * 50 ms, for at most `timeoutMs`). A process that exits or never answers is an EnvironmentError.
 */
export async function startProcess(
  name: string,
  command: string,
  args: readonly string[],
  options: { logFile: string; ready: () => Promise<boolean>; timeoutMs: number; cwd?: string },
): Promise<Started> {
  hookExit();
  const log = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { stdio: ['ignore', log, log], cwd: options.cwd });
  } catch (error) {
    throw new EnvironmentError(`${name}: cannot start ${command} (${(error as Error).message}); log: ${options.logFile}`);
  }
  running.add(child);
  let exited: string | null = null;
  child.once('error', (error) => (exited = error.message));
  child.once('exit', (code, signal) => {
    running.delete(child);
    exited ??= `exited with ${signal ?? `code ${code}`}`;
  });
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (exited !== null) throw new EnvironmentError(`${name}: ${exited} before it answered; log: ${options.logFile}`);
    if (await options.ready().catch(() => false)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new EnvironmentError(`${name}: did not answer within ${options.timeoutMs} ms; log: ${options.logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    name,
    pid: child.pid!,
    logFile: options.logFile,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}
