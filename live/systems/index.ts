/** Every system the live harness can run, by id (subjects: subjects/index.ts). */
import type { SystemId } from '../../backends/recipe.ts';
import type { LiveSystem } from '../system.ts';
import { etcdLive } from './etcd.ts';
import { mysqlLive } from './mysql.ts';
import { postgresLive } from './postgres.ts';
import { redisLive, redlockLive } from './redis.ts';
import { redisSentinelLive } from './redis-sentinel.ts';
import { zookeeperLive } from './zookeeper.ts';

const SYSTEMS: Partial<Record<SystemId, LiveSystem>> = {
  redis: redisLive as LiveSystem,
  redlock: redlockLive as LiveSystem,
  zookeeper: zookeeperLive as LiveSystem,
  etcd: etcdLive as LiveSystem,
  postgres: postgresLive as LiveSystem,
  mysql: mysqlLive as LiveSystem,
  'redis-sentinel': redisSentinelLive as LiveSystem,
};

export function liveSystem(id: SystemId): LiveSystem {
  const system = SYSTEMS[id];
  if (system === undefined) throw new Error(`system '${id}' has no live adapter`);
  return system;
}

export function liveSystems(): SystemId[] {
  return Object.keys(SYSTEMS) as SystemId[];
}
