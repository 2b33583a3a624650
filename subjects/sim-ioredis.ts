/**
 * An ioredis client for the simulator: the part of ioredis 5's API that lock libraries use, over
 * the simulated network to a simulated Redis server, configured as lockstep's live clients are
 * (live/systems/redis.ts: commandTimeout, no retried commands).
 *
 * What a library sees, as from ioredis:
 *   - command methods (`set`, `get`, `del`, `exists`, `pexpire`, `pttl`, `incr`, `eval`,
 *     `evalsha`, `script`, ... and `call(name, ...args)` for any other), returning promises, or
 *     taking a Node-style callback as the last argument (redlock 4 does); arguments flattened one
 *     level, numbers turned into strings and null and undefined into "", as ioredis does;
 *   - replies as ioredis gives them: "OK" for a status, null for nil, numbers for integers, an
 *     error inside an array (a script can return one) as a ReplyError in its place;
 *   - errors as ioredis raises them: a server error as its ReplyError with Redis's message; a
 *     command with no reply within commandTimeout as Error("Command timed out"); a command on a
 *     connection the server reset as MaxRetriesPerRequestError (maxRetriesPerRequest is 0);
 *   - `defineCommand` (a script method: EVAL first on each connection, EVALSHA after), `status` "ready",
 *     `options`, the EventEmitter methods, `disconnect`, `quit`, `duplicate`.
 * Other commands have no method; `call` sends any command by name.
 * Every reply resumes the library's code through the kernel (Ambient.wake), on the client's node.
 * The conformance cases (ioredis-conformance.ts) send the same calls to this client and to ioredis
 * on a real server, and hold both to what Redis 7.0 answers.
 */
import { EventEmitter } from 'node:events';
import { ReplyError } from 'ioredis';
import { ConnectionLost, RemoteError } from '../backends/errors.ts';
import { ClientEndpoint } from '../backends/shared/endpoint/endpoint.ts';
import { sha1 } from '../backends/redis/commands.ts';
import { CommandError } from '../backends/redis/reply.ts';
import type { RedisCommand } from '../backends/redis/server.ts';
import { TimeoutError } from '../sim/errors.ts';
import type { Ambient } from './ambient.ts';

type Callback = (error: Error | null, reply?: unknown) => void;

/** ioredis's own error for a command cut off with maxRetriesPerRequest 0 (its name and message). */
export class MaxRetriesPerRequestError extends Error {
  override name = 'MaxRetriesPerRequestError';
  constructor() {
    super(
      'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.',
    );
  }
}

/** ioredis's argument handling: arrays flattened one level, then each argument as a string (toArg). */
function flatten(args: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (Array.isArray(arg)) for (const item of arg as unknown[]) out.push(toArg(item));
    else out.push(toArg(arg));
  }
  return out;
}

/** ioredis's toArg: null and undefined as "", a Buffer as its bytes, anything else through String. */
function toArg(arg: unknown): string {
  if (arg == null) return '';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- what ioredis sends for any other value
  return Buffer.isBuffer(arg) ? arg.toString() : String(arg);
}

/**
 * A reply as ioredis hands it over: an error inside an array as a ReplyError in its place, and an
 * integer beyond 2^53 as redis-parser reads its digits, into a double one digit at a time (which
 * rounds differently from Number()).
 */
function asIoredis(reply: unknown): unknown {
  if (Array.isArray(reply)) return reply.map(asIoredis);
  if (reply instanceof CommandError) return new (ReplyError as new (message: string) => Error)(reply.message);
  if (typeof reply !== 'bigint') return reply;
  const digits = reply < 0n ? (-reply).toString() : reply.toString();
  let n = 0;
  for (const digit of digits) n = n * 10 + Number(digit);
  return reply < 0n ? -n : n;
}

export interface SimIoredisOptions {
  /** The simulated server's node id. */
  readonly server: string;
  /** ioredis commandTimeout. */
  readonly commandTimeoutMs: number;
  /** Shown as `options` (host, port) to libraries that log it. */
  readonly port: number;
}

export class SimIoredis extends EventEmitter {
  status = 'ready';
  readonly options: { host: string; port: number; commandTimeout: number; maxRetriesPerRequest: number };
  private readonly endpoint: ClientEndpoint;

  constructor(
    private readonly ambient: Ambient,
    private readonly settings: SimIoredisOptions,
  ) {
    super();
    this.endpoint = ClientEndpoint.of(ambient.host);
    this.options = {
      host: settings.server,
      port: settings.port,
      commandTimeout: settings.commandTimeoutMs,
      maxRetriesPerRequest: 0,
    };
  }

  /** Any command: `call('SET', key, value, 'PX', 1000)`. */
  call(name: string, ...args: unknown[]): Promise<unknown> {
    const last = args[args.length - 1];
    const callback = typeof last === 'function' ? (last as Callback) : undefined;
    const reply = this.send([name, ...flatten(callback === undefined ? args : args.slice(0, -1))]);
    if (callback !== undefined) void reply.then(...this.nodeback(callback));
    return reply;
  }

  // The commands lock libraries send, as methods; any other through `call`.
  ping(...args: unknown[]): Promise<unknown> {
    return this.call('ping', ...args);
  }

  echo(...args: unknown[]): Promise<unknown> {
    return this.call('echo', ...args);
  }

  get(...args: unknown[]): Promise<unknown> {
    return this.call('get', ...args);
  }

  set(...args: unknown[]): Promise<unknown> {
    return this.call('set', ...args);
  }

  del(...args: unknown[]): Promise<unknown> {
    return this.call('del', ...args);
  }

  exists(...args: unknown[]): Promise<unknown> {
    return this.call('exists', ...args);
  }

  expire(...args: unknown[]): Promise<unknown> {
    return this.call('expire', ...args);
  }

  pexpire(...args: unknown[]): Promise<unknown> {
    return this.call('pexpire', ...args);
  }

  ttl(...args: unknown[]): Promise<unknown> {
    return this.call('ttl', ...args);
  }

  pttl(...args: unknown[]): Promise<unknown> {
    return this.call('pttl', ...args);
  }

  persist(...args: unknown[]): Promise<unknown> {
    return this.call('persist', ...args);
  }

  incr(...args: unknown[]): Promise<unknown> {
    return this.call('incr', ...args);
  }

  incrby(...args: unknown[]): Promise<unknown> {
    return this.call('incrby', ...args);
  }

  decr(...args: unknown[]): Promise<unknown> {
    return this.call('decr', ...args);
  }

  decrby(...args: unknown[]): Promise<unknown> {
    return this.call('decrby', ...args);
  }

  eval(...args: unknown[]): Promise<unknown> {
    return this.call('eval', ...args);
  }

  evalsha(...args: unknown[]): Promise<unknown> {
    return this.call('evalsha', ...args);
  }

  script(...args: unknown[]): Promise<unknown> {
    return this.call('script', ...args);
  }

  /**
   * A Node-style callback as ioredis calls it (standard-as-callback): its return value ignored,
   * and what it throws is an uncaught exception, which stops a simulated run.
   */
  private nodeback(callback: Callback): [(value: unknown) => void, (error: unknown) => void] {
    const invoke = (error: Error | null, value?: unknown): void => {
      try {
        callback(error, value);
      } catch (thrown) {
        this.ambient.fail(thrown);
      }
    };
    return [(value) => invoke(null, value), (error) => invoke(error as Error)];
  }

  /**
   * ioredis's defineCommand: a method that runs a Lua script, as ioredis 5's Script does: the whole
   * script (EVAL) the first time on each connection, its SHA1 (EVALSHA) after that, and on a
   * NOSCRIPT (a server restarted since) the whole script again. Without `numberOfKeys`, the first
   * argument of each call is the number of keys.
   */
  defineCommand(name: string, definition: { lua: string; numberOfKeys?: number }): void {
    const { lua, numberOfKeys } = definition;
    const sha = sha1(lua);
    /** The connections this script has been sent whole on. */
    const loaded = new Set<string>();
    const send = (args: unknown[]): Promise<unknown> => {
      const head = numberOfKeys === undefined ? [] : [numberOfKeys];
      const connection = this.endpoint.connection(this.settings.server);
      if (loaded.has(connection)) return this.call('evalsha', sha, ...head, ...args);
      loaded.add(connection);
      return this.call('eval', lua, ...head, ...args);
    };
    const run = async (args: unknown[]): Promise<unknown> => {
      try {
        return await send(args);
      } catch (error) {
        if (!(error instanceof Error && error.message.includes('NOSCRIPT'))) throw error;
        loaded.delete(this.endpoint.connection(this.settings.server));
        return await send(args);
      }
    };
    Object.defineProperty(this, name, {
      value: (...args: unknown[]) => {
        const last = args[args.length - 1];
        if (typeof last !== 'function') return run(args);
        const reply = run(args.slice(0, -1));
        void reply.then(...this.nodeback(last as Callback));
        return reply;
      },
      writable: true,
      configurable: true,
    });
  }

  /** ioredis's `sendCommand`-less alias kept by older callers. */
  send_command(name: string, ...args: unknown[]): Promise<unknown> {
    return this.call(name, ...args);
  }

  duplicate(): SimIoredis {
    return new SimIoredis(this.ambient, this.settings);
  }

  disconnect(): void {
    this.status = 'end';
    this.endpoint.reconnect(this.settings.server);
  }

  quit(): Promise<'OK'> {
    this.disconnect();
    return Promise.resolve('OK');
  }

  connect(): Promise<void> {
    this.status = 'ready';
    return Promise.resolve();
  }

  private send(args: string[]): Promise<unknown> {
    const { ambient, endpoint, settings } = this;
    return new Promise((resolve, reject) => {
      if (!ambient.host.alive) return; // a dead process sends nothing and hears nothing
      const command: RedisCommand = { op: 'cmd', args };
      endpoint.request(settings.server, 'cmd', command, settings.commandTimeoutMs).onSettle((ok, value) => {
        ambient.wake();
        if (ok) resolve(asIoredis(value));
        else reject(translate(value));
      });
    });
  }
}

/** The kernel's outcomes as ioredis reports them. */
function translate(error: unknown): Error {
  if (error instanceof RemoteError) return new (ReplyError as new (message: string) => Error)(error.message);
  if (error instanceof TimeoutError) return new Error('Command timed out');
  if (error instanceof ConnectionLost) return new MaxRetriesPerRequestError();
  return error instanceof Error ? error : new Error(String(error));
}
