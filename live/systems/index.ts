/** Every system and third-party subject the live harness can run, by id. */
import type { SystemId } from '../../backends/recipe.ts';
import type { LiveSystem, Subject } from '../system.ts';
import { etcd3Subject } from '../subjects/etcd3.ts';
import { nodeRedlock } from '../subjects/node-redlock.ts';
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

const SUBJECTS: Record<string, Subject> = {
  [nodeRedlock.id]: nodeRedlock,
  [etcd3Subject.id]: etcd3Subject,
};

export function liveSystem(id: SystemId): LiveSystem {
  const system = SYSTEMS[id];
  if (system === undefined) throw new Error(`system '${id}' has no live adapter`);
  return system;
}

export function liveSystems(): SystemId[] {
  return Object.keys(SYSTEMS) as SystemId[];
}

export function liveSubject(id: string): Subject {
  const subject = SUBJECTS[id];
  if (subject === undefined)
    throw new Error(`unknown subject '${id}' (known: ${Object.keys(SUBJECTS).join(', ') || 'none'})`);
  return subject;
}

export function liveSubjects(): Subject[] {
  return Object.values(SUBJECTS);
}
