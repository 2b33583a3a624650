/** Every system lockstep can test, by its canonical id. */
import { SYSTEM_IDS, type SystemId } from './recipe.ts';
import type { SystemModule } from './system.ts';
import { etcd } from './etcd/index.ts';
import { mysql } from './mysql/index.ts';
import { postgres } from './postgres/index.ts';
import { redis } from './redis/index.ts';
import { redlock } from './redlock/index.ts';
import { redisSentinel } from './redis-sentinel/index.ts';
import { zookeeper } from './zookeeper/index.ts';

const MODULES: Partial<Record<SystemId, SystemModule>> = {
  redis: redis as SystemModule,
  redlock: redlock as SystemModule,
  zookeeper: zookeeper as SystemModule,
  etcd: etcd as SystemModule,
  postgres: postgres as SystemModule,
  mysql: mysql as SystemModule,
  'redis-sentinel': redisSentinel as SystemModule,
};

export class UnknownSystemError extends Error {
  override name = 'UnknownSystemError';
}

export function systemModule(id: SystemId): SystemModule {
  const module = MODULES[id];
  if (module === undefined)
    throw new UnknownSystemError(
      `system '${id}' is not available in the simulator (available: ${availableSystems().join(', ')})`,
    );
  return module;
}

export function availableSystems(): SystemId[] {
  return SYSTEM_IDS.filter((id) => MODULES[id] !== undefined);
}
