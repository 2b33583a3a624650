/**
 * The client processes of one live run: each a child process running the workload
 * (client-main.ts) and reporting its operations over IPC into the run's history. Faults on a
 * client are signals: SIGSTOP/SIGCONT, SIGKILL, and a fresh process for a restart.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { History } from '../runner/history.ts';
import type { ClientSpec, FromClient, ToClient } from './client-protocol.ts';
import { EnvironmentError, forkDying, keepLog, track } from './process.ts';
import { redactSecrets } from '../runner/redact.ts';

const CLIENT_MAIN = fileURLToPath(new URL('./client-main.ts', import.meta.url));
// Resolved here, not by the client: `--import tsx` is looked up from the working directory, which need not be this project.
const TSX_LOADER = import.meta.resolve('tsx');
/** How long a client process may take to start and connect. */
const CLIENT_START_MS = 20_000;

interface ClientProcess {
  child: ChildProcess | null;
  ready: Promise<void>;
  done: Promise<void>;
  paused: boolean;
  crashed: boolean;
  /** Cuts of its links being installed: while above zero the process is held stopped (see freeze). */
  frozen: number;
}

export interface ClientRun {
  readonly logDir: string;
  /** Log files are `<logPrefix>.<client>.log`. */
  readonly logPrefix: string;
  readonly history: History;
  readonly notes: string[];
  /** A client is about to send a write and waits: resolves once the faults waiting for that have landed. */
  writing(client: string): Promise<void>;
}

export class ClientProcesses {
  private readonly processes = new Map<string, ClientProcess>();
  private readonly specs = new Map<string, ClientSpec>();

  constructor(private readonly run: ClientRun) {}

  has(node: string): boolean {
    return this.processes.has(node);
  }

  /** What faults have done to a client so far; undefined for a node that is not a client. */
  state(node: string): { readonly paused: boolean; readonly crashed: boolean } | undefined {
    return this.processes.get(node);
  }

  /** Start every client; each connects, then waits for the start of true time. */
  async startAll(specs: readonly ClientSpec[]): Promise<void> {
    for (const spec of specs) {
      this.specs.set(spec.id, spec);
      this.processes.set(spec.id, this.start(spec.id));
    }
    await withTimeout(
      Promise.all([...this.processes.values()].map((p) => p.ready)),
      CLIENT_START_MS,
      'the client processes did not connect',
    );
  }

  /** True time starts at `epochMs` on the machine's monotonic clock. */
  go(epochMs: number): void {
    for (const p of this.processes.values()) if (p.child !== null) send(p.child, { type: 'go', epochMs });
  }

  pause(node: string): void {
    const client = this.process(node);
    client.paused = true;
    client.child?.kill('SIGSTOP');
  }

  resume(node: string): void {
    const client = this.process(node);
    client.paused = false;
    if (client.frozen === 0) client.child?.kill('SIGCONT');
  }

  /**
   * Hold a client stopped while a cut of its links is installed. A Toxiproxy toxic takes one HTTP
   * call per stream, which on a busy machine lands a hundred milliseconds or more after the fault
   * fired: long enough for the client to send the very request the cut was meant to hold. Stopped,
   * it sends nothing until every cut asked for at that instant is in place (thaw), so the cut
   * starts when the scenario says. Freezes nest; a fault's own pause outlasts a thaw.
   */
  freeze(node: string): void {
    const client = this.process(node);
    if (client.crashed) return;
    if (client.frozen++ === 0 && !client.paused) client.child?.kill('SIGSTOP');
  }

  thaw(node: string): void {
    const client = this.process(node);
    if (client.frozen === 0) return;
    if (--client.frozen === 0 && !client.paused && !client.crashed) client.child?.kill('SIGCONT');
  }

  crash(node: string): void {
    const client = this.process(node);
    client.crashed = true;
    client.paused = false;
    client.child?.kill('SIGKILL');
    this.run.history.record(node, 'info', 'crash');
  }

  /** A fresh process, which joins the run at once (true time started at `epochMs`). */
  restart(node: string, epochMs: number): void {
    const restarted = this.start(node);
    this.processes.set(node, restarted);
    void restarted.ready.then(
      () => restarted.child !== null && send(restarted.child, { type: 'go', epochMs }),
      () => {},
    );
  }

  send(node: string, message: ToClient): void {
    const child = this.processes.get(node)?.child;
    if (child != null) send(child, message);
  }

  /** Ask every live client to stop after its round, waking the paused ones first. */
  stopAll(): void {
    for (const p of this.processes.values()) {
      if (p.child === null || p.crashed) continue;
      if (p.paused || p.frozen > 0) p.child.kill('SIGCONT');
      p.paused = false;
      p.frozen = 0;
      send(p.child, { type: 'stop' });
    }
  }

  /** Whether every client that was not crashed finished its round within `ms`. */
  finished(ms: number): Promise<boolean> {
    const done = [...this.processes.values()].filter((p) => !p.crashed).map((p) => p.done);
    return withTimeout(
      Promise.all(done).then(() => true),
      ms,
      '',
    ).catch(() => false);
  }

  async killAll(): Promise<void> {
    for (const p of this.processes.values()) {
      p.child?.kill('SIGKILL');
      p.child?.kill('SIGCONT');
    }
    await Promise.all([...this.processes.values()].map((p) => p.done));
  }

  /** A client fault names a client this run started. */
  private process(node: string): ClientProcess {
    const client = this.processes.get(node);
    if (client === undefined) throw new Error(`live: ${node} is not a client of this run`);
    return client;
  }

  private start(client: string): ClientProcess {
    const spec = this.specs.get(client);
    if (spec === undefined) throw new Error(`live: no client spec for ${client}`);
    const logFile = join(this.run.logDir, `${this.run.logPrefix}.${client}.log`);
    const log = openSync(logFile, 'a');
    const child = forkDying(CLIENT_MAIN, { execArgv: ['--import', TSX_LOADER], stdio: ['ignore', log, log, 'ipc'] });
    closeSync(log);
    track(child);
    let onReady: () => void = () => {};
    let onFailed: (error: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFailed = reject;
    });
    const done = new Promise<void>((resolve) => {
      child.on('message', (message: FromClient) => this.hear(client, message, onReady, onFailed));
      child.once('exit', (code, signal) => {
        onFailed(
          new EnvironmentError(
            `${client} exited (${signal ?? `code ${code}`}) before it was ready; log: ${keepLog(logFile)}`,
          ),
        );
        resolve();
      });
    });
    send(child, { type: 'start', spec });
    return { child, ready, done, paused: false, crashed: false, frozen: 0 };
  }

  private hear(client: string, message: FromClient, onReady: () => void, onFailed: (error: Error) => void): void {
    if (message.type === 'ready') onReady();
    else if (message.type === 'op') this.run.history.append(message.op);
    else if (message.type === 'writing') void this.run.writing(client).then(() => this.send(client, { type: 'write' }));
    else if (message.type === 'failed') {
      // A driver's error may quote the database URL it was given, password and all.
      const error = redactSecrets(message.error);
      this.run.notes.push(`${client} failed: ${error}`);
      onFailed(new EnvironmentError(`${client} could not start: ${error}`));
    } else {
      // 'done'
      for (const f of message.failures) this.run.notes.push(`${client}: ${f}`);
    }
  }
}

function send(child: ChildProcess, message: ToClient): void {
  if (child.connected) child.send(message);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EnvironmentError(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
