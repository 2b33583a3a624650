import type { Host } from '../../sim/node.ts';
import { SimRedisPort } from '../redis/sim-port.ts';
import type { RedlockNodePort } from './port.ts';

/** One simulated Redis port per RedLock node. */
export function simRedlockPorts(host: Host, servers: readonly string[], requestTimeoutMs: number): RedlockNodePort[] {
  return servers.map((server) => new SimRedisPort(host, server, requestTimeoutMs));
}
