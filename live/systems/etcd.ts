/**
 * etcd, live: one etcd3 client per member (each through its own proxy), wrapped in LiveEtcdPort
 * with the request timeout the simulator's port gets, so the same EtcdLock and EtcdElection run
 * against real members.
 */
import { etcdRequestTimeoutMs } from '../../backends/etcd/index.ts';
import { etcdClient, LiveEtcdPort } from '../../backends/etcd/live-port.ts';
import type { EtcdPort } from '../../backends/etcd/port.ts';
import type { LiveSystem } from '../system.ts';
import { promiseOf } from '../promise-of.ts';

export const etcdLive: LiveSystem<EtcdPort> = {
  id: 'etcd',
  connect: (servers, config) =>
    promiseOf(() => {
      const port = new LiveEtcdPort(
        servers.map((server) => etcdClient(server.host, server.port)),
        etcdRequestTimeoutMs(config.ttlMs),
      );
      return {
        ports: port,
        close: () => promiseOf(() => port.close()),
      };
    }),
};
