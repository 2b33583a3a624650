import type { Host } from '../../sim/node.ts';
import { soleServer, type SystemConfig, type SystemModule } from '../system.ts';
import { recipeOptions, requestTimeoutMs } from '../timing.ts';
import type { RedisPort } from './port.ts';
import { RedisElection } from './election.ts';
import { RedisLock, type RedisLockOptions } from './lock.ts';
import { redisServer } from './server.ts';
import { SimRedisPort } from './sim-port.ts';

export function redisLockOptions(config: SystemConfig): RedisLockOptions {
  return recipeOptions(config);
}

export const redis: SystemModule<RedisPort> = {
  id: 'redis',
  fencing: 'sound',
  mechanism: 'SET NX PX with a random value, compare-and-delete release; INCR token',
  serverCount: () => 1,
  diskless: true,
  bootServer: (host: Host) => redisServer(host),
  simPorts: (host, servers, config) =>
    new SimRedisPort(host, soleServer('redis', servers), requestTimeoutMs(config.ttlMs)),
  lock: (runtime, port, config) => new RedisLock(runtime, port, redisLockOptions(config)),
  election: (runtime, port, config) => new RedisElection(runtime, port, redisLockOptions(config)),
};
