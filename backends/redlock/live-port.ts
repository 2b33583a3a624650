/**
 * RedLock on real servers talks to each of its five Redis nodes through the single-Redis live
 * port (redis/live-port.ts), one port per node, as its sim port does with the simulated one.
 */
import type { Redis } from 'ioredis';
import { LiveRedisPort } from '../redis/live-port.ts';
import type { RedlockNodePort } from './port.ts';

/** One live Redis port per RedLock node, over the node's ioredis client. */
export function liveRedlockPorts(clients: readonly Redis[]): RedlockNodePort[] {
  return clients.map((client) => new LiveRedisPort(client));
}
