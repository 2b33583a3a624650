/**
 * RedisPort on a real Redis through ioredis. Compare-and-delete and compare-and-extend are Lua
 * scripts, so each is one atomic step on the server, as the recipes assume. The port times out
 * its own commands (ioredis commandTimeout) and reports that as a TimeoutError, and a connection
 * that closes under a command as ConnectionLost: the outcomes the simulated port gives.
 */
import type { Redis } from 'ioredis';
import { TimeoutError } from '../../sim/errors.ts';
import { ConnectionLost } from '../sim/endpoint.ts';
import type { RedisPort } from './port.ts';

const DELETE_IF_EQUAL = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const EXTEND_IF_EQUAL = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

export class LiveRedisPort implements RedisPort {
  /** `redis` must be built with `commandTimeout` set to the request timeout the recipe expects. */
  constructor(private readonly redis: Redis) {}

  setNxPx(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.timed(async () => (await this.redis.set(key, value, 'PX', Math.ceil(ttlMs), 'NX')) === 'OK');
  }

  deleteIfEqual(key: string, value: string): Promise<boolean> {
    return this.timed(async () => (await this.redis.eval(DELETE_IF_EQUAL, 1, key, value)) === 1);
  }

  extendIfEqual(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.timed(async () => (await this.redis.eval(EXTEND_IF_EQUAL, 1, key, value, Math.ceil(ttlMs))) === 1);
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

  private async timed<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      if (error instanceof Error && /timed out/i.test(error.message)) throw new TimeoutError(`redis: ${error.message}`);
      if (error instanceof Error && (error.name === 'MaxRetriesPerRequestError' || /connection is closed/i.test(error.message))) {
        throw new ConnectionLost(`redis: ${error.message}`);
      }
      throw error;
    }
  }
}
