/**
 * RedisPort on a real Redis through ioredis. Compare-and-delete and compare-and-extend are Lua
 * scripts (sent by hash, EVALSHA), so each is one atomic step on the server, as the recipes assume. The port times out
 * its own commands (ioredis commandTimeout) and reports that as a TimeoutError, and a connection
 * that closes under a command as ConnectionLost: the outcomes the simulated port gives.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ConnectionLost, TimeoutError } from '../errors.ts';
import type { RedisPort } from './port.ts';

const DELETE_IF_EQUAL =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const EXTEND_IF_EQUAL =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const SCRIPTS = { deleteIfEqual: script(DELETE_IF_EQUAL), extendIfEqual: script(EXTEND_IF_EQUAL) };

export class LiveRedisPort implements RedisPort {
  /**
   * `redis` must be built with `commandTimeout` set to the request timeout the recipe expects.
   * `translate` turns ioredis's errors into the port's; a port over more than one Redis (Sentinel's)
   * passes its own, which falls back to translateRedisError.
   */
  constructor(
    protected readonly redis: Redis,
    private readonly translate: (error: unknown) => never = translateRedisError,
  ) {}

  setNxPx(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.timed(() => this.redis.set(key, value, 'PX', Math.ceil(ttlMs), 'NX').then((reply) => reply === 'OK'));
  }

  deleteIfEqual(key: string, value: string): Promise<boolean> {
    return this.timed(async () => (await this.run(SCRIPTS.deleteIfEqual, key, value)) === 1);
  }

  extendIfEqual(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.timed(async () => (await this.run(SCRIPTS.extendIfEqual, key, value, Math.ceil(ttlMs))) === 1);
  }

  incr(key: string): Promise<number> {
    return this.timed(() => this.redis.incr(key));
  }

  get(key: string): Promise<string | null> {
    return this.timed(() => this.redis.get(key));
  }

  pttl(key: string): Promise<number> {
    return this.timed(() => this.redis.pttl(key));
  }

  /** EVALSHA, as node-redlock and most clients do; the whole script only when the server does not have it yet. */
  private async run(script: Script, key: string, ...args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(script.sha, 1, key, ...args);
    } catch (error) {
      if (!(error instanceof Error && /NOSCRIPT/.test(error.message))) throw error;
      return await this.redis.eval(script.source, 1, key, ...args);
    }
  }

  /** The command, with ioredis's errors turned into the port's (no extra async frame: this is the hot path). */
  protected timed<T>(command: () => Promise<T>): Promise<T> {
    return command().catch(this.translate);
  }
}

/** ioredis's timeout and closed-connection errors as the port's TimeoutError and ConnectionLost; any other error as it is. */
export function translateRedisError(error: unknown): never {
  if (error instanceof Error && /timed out/i.test(error.message)) throw new TimeoutError(`redis: ${error.message}`);
  if (
    error instanceof Error &&
    (error.name === 'MaxRetriesPerRequestError' || /connection is closed/i.test(error.message))
  ) {
    throw new ConnectionLost(`redis: ${error.message}`);
  }
  throw error;
}
