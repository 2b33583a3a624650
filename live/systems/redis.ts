/**
 * Redis and RedLock, live: ioredis connections (one per server) wrapped in LiveRedisPort, with the
 * request timeouts the simulator's ports get. ioredis is told not to retry or queue commands, so a
 * cut connection shows as ConnectionLost and a silent one as TimeoutError, as in the simulator.
 */
import { Redis } from 'ioredis';
import { redlockOptions } from '../../backends/redlock/index.ts';
import { liveRedlockPorts } from '../../backends/redlock/live-port.ts';
import { LiveRedisPort } from '../../backends/redis/live-port.ts';
import type { RedisPort } from '../../backends/redis/port.ts';
import { requestTimeoutMs } from '../../backends/timing.ts';
import type { Endpoint, LiveConnection, LiveSystem } from '../system.ts';
import { promiseOf } from '../promise-of.ts';

/** An ioredis client for the harness: its own timeout, no retried commands, no offline queue beyond the reconnect. */
export function redisClient(endpoint: Endpoint, timeoutMs: number): Redis {
  const client = new Redis({
    host: endpoint.host,
    port: endpoint.port,
    commandTimeout: Math.max(1, Math.round(timeoutMs)),
    connectTimeout: Math.max(50, Math.round(timeoutMs)),
    maxRetriesPerRequest: 0,
    retryStrategy: () => 20,
    enableOfflineQueue: true,
  });
  // Errors reach the commands that suffer them; the event itself is only noise.
  client.on('error', () => {});
  return client;
}

function connection<P>(clients: Redis[], ports: P): LiveConnection<P> {
  return {
    ports,
    close: () =>
      promiseOf(() => {
        for (const client of clients) client.disconnect();
      }),
  };
}

export const redisLive: LiveSystem<RedisPort> = {
  id: 'redis',
  connect: (servers, config) =>
    promiseOf(() => {
      const server = servers[0];
      if (server === undefined) throw new Error('redis: connect needs the server endpoint');
      const client = redisClient(server, requestTimeoutMs(config.ttlMs));
      return connection([client], new LiveRedisPort(client));
    }),
};

export const redlockLive: LiveSystem<RedisPort[]> = {
  id: 'redlock',
  connect: (servers, config) =>
    promiseOf(() => {
      const timeoutMs = redlockOptions(config).requestTimeoutMs;
      const clients = servers.map((s) => redisClient(s, timeoutMs));
      return connection(clients, liveRedlockPorts(clients));
    }),
};
