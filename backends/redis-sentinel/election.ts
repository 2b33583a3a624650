/**
 * Leader election on a replicated Redis under Sentinel: single Redis's election (the leader holds
 * the lock's key and renews it every ttl/3 with compare-and-extend), on whichever node is the
 * primary, with the lock's steps (refused writes, WAIT). A failover that loses the key lets a
 * second leader in while the first still renews by its own clock.
 */
import type { Runtime } from '../runtime.ts';
import { RedisElection } from '../redis/election.ts';
import type { SentinelPort } from './port.ts';
import { sentinelSteps, type SentinelLockOptions } from './lock.ts';

export function sentinelElection(runtime: Runtime, port: SentinelPort, options: SentinelLockOptions): RedisElection {
  return new RedisElection(runtime, port, options, sentinelSteps(port, options));
}
