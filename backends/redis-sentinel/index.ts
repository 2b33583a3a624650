import {
  SENTINEL_DEFAULTS,
  sentinelIds,
  type SentinelOptions,
  type SystemConfig,
  type SystemModule,
} from '../system.ts';
import { recipeOptions, requestTimeoutMs } from '../timing.ts';
import type { SentinelPort } from './port.ts';
import { sentinelElection } from './election.ts';
import { sentinelLock, type SentinelLockOptions } from './lock.ts';
import { SENTINEL_CONFIG, sentinelProcess, type SentinelConfig } from './sentinel.ts';
import { dataNode } from './server.ts';
import { SimSentinelPort } from './sim-port.ts';

/** One primary and two replicas; three Sentinels, quorum two. */
export const SENTINEL_SERVERS = 3;
export const SENTINELS = 3;

export function sentinelSettings(config: SystemConfig): SentinelOptions {
  return config.sentinel ?? SENTINEL_DEFAULTS;
}

export function sentinelLockOptions(config: SystemConfig): SentinelLockOptions {
  const { waitReplicas, waitTimeoutMs } = sentinelSettings(config);
  return { ...recipeOptions(config), waitReplicas, waitTimeoutMs };
}

export const redisSentinel: SystemModule<SentinelPort> = {
  id: 'redis-sentinel',
  fencing: 'unsound',
  mechanism:
    'SET NX PX on the primary Sentinel names (two async replicas, three Sentinels, quorum 2); INCR token on the primary, which a failover can roll back',
  serverCount: () => SENTINEL_SERVERS,
  diskless: true,
  bootServer: (host, index, servers, config) => dataNode(host, index, servers, sentinelSettings(config)),
  sentinels: {
    count: () => SENTINELS,
    boot: (host, _index, servers, sentinels, config) =>
      sentinelProcess(host, servers, sentinels, sentinelSettings(config)),
  },
  simPorts: (host, servers, config) =>
    new SimSentinelPort(host, servers, sentinelIds(SENTINELS), requestTimeoutMs(config.ttlMs)),
  lock: (runtime, port, config) => sentinelLock(runtime, port, sentinelLockOptions(config)),
  election: (runtime, port, config) => sentinelElection(runtime, port, sentinelLockOptions(config)),
  // The primary in the newest config the Sentinels hold (the one a client is sent to).
  leader: (_servers, hostOf) => {
    let newest: SentinelConfig | null = null;
    for (const sentinel of sentinelIds(SENTINELS)) {
      const config = hostOf(sentinel).config.get(SENTINEL_CONFIG) as SentinelConfig | undefined;
      if (config !== undefined && (newest === null || config.configEpoch > newest.configEpoch)) newest = config;
    }
    return newest?.primary ?? null;
  },
};
