import type { SystemConfig, SystemModule } from '../system.ts';
import { ZooKeeperElection } from './election.ts';
import { ZooKeeperLock, type ZooKeeperLockOptions } from './lock.ts';
import type { ZooKeeperPort } from './port.ts';
import { ensembleLeader, zooKeeperServer } from './server.ts';
import { SimZooKeeperPort } from './sim-port.ts';

/** The session timeout is the TTL. A failed request is retried after a twentieth of it, as a short Curator backoff. */
export function zookeeperLockOptions(config: SystemConfig): ZooKeeperLockOptions {
  return {
    name: config.name,
    ttlMs: config.ttlMs,
    fencing: config.fencing,
    acquireTimeoutMs: config.acquireTimeoutMs,
    retryDelayMs: Math.max(1, config.ttlMs / 20),
  };
}

export const zookeeper: SystemModule<ZooKeeperPort> = {
  id: 'zookeeper',
  fencing: 'sound',
  mechanism: 'ephemeral sequential znode per waiter, watch the predecessor; session expired by the leader; czxid token',
  serverCount: () => 3,
  bootServer: (host, _index, servers, config) => {
    zooKeeperServer(host, servers, config.ttlMs);
  },
  simPorts: (host, servers, config) => new SimZooKeeperPort(host, servers, config.ttlMs),
  lock: (runtime, port, config) => new ZooKeeperLock(runtime, port, zookeeperLockOptions(config)),
  election: (runtime, port, config) => new ZooKeeperElection(runtime, port, zookeeperLockOptions(config)),
  leader: (servers, hostOf) => ensembleLeader(servers, hostOf),
};
