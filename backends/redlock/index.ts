import type { SystemConfig, SystemModule } from '../system.ts';
import type { RedlockNodePort } from './port.ts';
import { RedlockElection } from './election.ts';
import { Redlock, type RedlockOptions } from './lock.ts';
import { redlockServer } from './server.ts';
import { simRedlockPorts } from './sim-port.ts';

export const REDLOCK_NODES = 5;

/**
 * The per-node timeout: the distlock page suggests 5-50 ms for a 10 s TTL. Here ttl/50, kept
 * between 5 and 100 ms, so it stays small next to the TTL and above a few network round trips.
 * Retries wait ttl/10 (at most 200 ms) plus as much again in jitter: node-redlock's defaults
 * (200 ms + up to 200 ms) for the common multi-second TTLs.
 */
export function redlockOptions(config: SystemConfig): RedlockOptions {
  return {
    name: config.name,
    ttlMs: config.ttlMs,
    fencing: config.fencing,
    acquireTimeoutMs: config.acquireTimeoutMs,
    requestTimeoutMs: Math.max(5, Math.min(100, config.ttlMs / 50)),
    retryDelayMs: Math.max(1, Math.min(200, config.ttlMs / 10)),
  };
}

export const redlock: SystemModule<RedlockNodePort[]> = {
  id: 'redlock',
  fencing: 'unsound',
  mechanism: 'RedLock: SET NX PX on a majority of 5 independent Redis nodes, validity = ttl - elapsed - drift',
  serverCount: () => REDLOCK_NODES,
  diskless: true,
  bootServer: (host) => redlockServer(host),
  simPorts: (host, servers, config) => simRedlockPorts(host, servers, redlockOptions(config).requestTimeoutMs),
  lock: (runtime, ports, config) => new Redlock(runtime, ports, redlockOptions(config)),
  election: (runtime, ports, config) => new RedlockElection(runtime, ports, redlockOptions(config)),
};
