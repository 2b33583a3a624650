/**
 * redis-sentinel, live: one ioredis client per client process, in Sentinel mode, wrapped in
 * LiveSentinelPort with the request timeout the simulator's ports get. Every connection it makes
 * goes through this client's own proxies: it asks the Sentinels through its proxies to them, and
 * natMap turns the address a Sentinel gives for the primary (the data node's own) into this
 * client's proxy to that node. So a failover is followed as ioredis follows it: the next
 * connection, after the old one closed (a crash, Sentinel's CLIENT KILL, or no reply within the
 * request timeout: `socketTimeout`), goes where the Sentinels then point.
 */
import { Redis } from 'ioredis';
import { LiveSentinelPort } from '../../backends/redis-sentinel/live-port.ts';
import { SENTINEL_MASTER_NAME, type SentinelPort } from '../../backends/redis-sentinel/port.ts';
import { requestTimeoutMs } from '../../backends/timing.ts';
import type { Endpoint, LiveSystem } from '../system.ts';
import { promiseOf } from '../promise-of.ts';

/** Where an address no server of this client answers to is sent: nowhere (nothing listens on port 1, so it refuses). */
const NOWHERE = { host: '127.0.0.1', port: 1 };

/**
 * The data nodes' own addresses (Endpoint.upstream) to this client's proxies. An address the
 * map does not know is not dialed past Toxiproxy: it is said once on stderr (the client's log)
 * and sent nowhere, so the client cannot reach it.
 */
export function natMapOf(servers: readonly Endpoint[]): (address: string) => { host: string; port: number } {
  const proxies = new Map<string, { host: string; port: number }>();
  for (const server of servers) {
    if (server.upstream === undefined) throw new Error('redis-sentinel: a server endpoint without its own address');
    proxies.set(server.upstream, { host: server.host, port: server.port });
  }
  const told = new Set<string>();
  return (address) => {
    const proxy = proxies.get(address);
    if (proxy !== undefined) return proxy;
    if (!told.has(address)) {
      told.add(address);
      process.stderr.write(`redis-sentinel: a Sentinel named ${address}, none of this client's servers: not dialed\n`);
    }
    return NOWHERE;
  };
}

/** An ioredis client in Sentinel mode, told not to retry or queue commands beyond a reconnect, as the Redis clients are. */
export function sentinelClient(servers: readonly Endpoint[], sentinels: readonly Endpoint[], timeoutMs: number): Redis {
  const timeout = Math.max(1, Math.round(timeoutMs));
  const client = new Redis({
    sentinels: sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: SENTINEL_MASTER_NAME,
    role: 'master',
    natMap: natMapOf(servers),
    // The Sentinels know one another by their own addresses, past this client's proxies: keep to the proxies.
    updateSentinels: false,
    sentinelCommandTimeout: timeout,
    sentinelRetryStrategy: () => 20,
    commandTimeout: timeout,
    // A command with no reply in time closes the connection, and the next asks the Sentinels again (port.ts).
    socketTimeout: timeout,
    connectTimeout: Math.max(50, timeout),
    maxRetriesPerRequest: 0,
    retryStrategy: () => 20,
    enableOfflineQueue: true,
    failoverDetector: false,
  });
  // Errors reach the commands that suffer them; the events themselves are only noise.
  client.on('error', () => {});
  client.on('sentinelError', () => {});
  return client;
}

export const redisSentinelLive: LiveSystem<SentinelPort> = {
  id: 'redis-sentinel',
  connect: (servers, config, _runtime, sentinels = []) =>
    promiseOf(() => {
      if (sentinels.length === 0) throw new Error('redis-sentinel: connect needs the Sentinel endpoints');
      const client = sentinelClient(servers, sentinels, requestTimeoutMs(config.ttlMs));
      return {
        ports: new LiveSentinelPort(client),
        close: () => promiseOf(() => client.disconnect()),
      };
    }),
};
