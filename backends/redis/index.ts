import type { Host } from '../../sim/node.ts';
import type { SystemConfig, SystemModule } from '../system.ts';
import type { RedisPort } from './port.ts';
import { RedisElection } from './election.ts';
import { RedisLock, type RedisLockOptions } from './lock.ts';
import { redisServer } from './server.ts';
import { SimRedisPort } from './sim-port.ts';

/** Requests time out well inside the TTL, so a client gives up on a dead server before its lease is in doubt. */
export function redisRequestTimeoutMs(ttlMs: number): number {
  return Math.max(5, Math.min(1000, ttlMs / 4));
}

export function redisLockOptions(config: SystemConfig): RedisLockOptions {
  return {
    name: config.name,
    ttlMs: config.ttlMs,
    fencing: config.fencing,
    acquireTimeoutMs: config.acquireTimeoutMs,
    retryDelayMs: Math.max(1, Math.min(50, config.ttlMs / 20)),
  };
}

export const redis: SystemModule<RedisPort> = {
  id: 'redis',
  fencing: 'sound',
  mechanism: 'SET NX PX with a random value, compare-and-delete release; INCR token',
  serverCount: () => 1,
  bootServer: (host: Host) => redisServer(host),
  simPorts: (host, servers, config) => new SimRedisPort(host, servers[0]!, redisRequestTimeoutMs(config.ttlMs)),
  lock: (runtime, port, config) => new RedisLock(runtime, port, redisLockOptions(config)),
  election: (runtime, port, config) => new RedisElection(runtime, port, redisLockOptions(config)),
};
