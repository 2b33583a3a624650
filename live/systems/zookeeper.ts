/**
 * The ZooKeeper system on a live ensemble: one session per client, over the proxies the harness
 * hands it, with the timeouts the simulated client uses: the session timeout is the TTL, and a
 * request gets the client's read timeout (two thirds of it) to answer.
 */
import { connectZooKeeper } from '../../backends/zookeeper/live-port.ts';
import type { ZooKeeperPort } from '../../backends/zookeeper/port.ts';
import { clientTiming } from '../../backends/zookeeper/sim-port.ts';
import type { LiveSystem } from '../system.ts';

export const zookeeperLive: LiveSystem<ZooKeeperPort> = {
  id: 'zookeeper',
  async connect(servers, config) {
    const port = await connectZooKeeper(servers.map((server) => `${server.host}:${server.port}`).join(','), {
      sessionTimeoutMs: config.ttlMs,
      requestTimeoutMs: clientTiming(config.ttlMs, servers.length).readTimeoutMs,
    });
    return { ports: port, close: () => port.close().catch(() => {}) };
  },
};
