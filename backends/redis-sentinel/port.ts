/**
 * What the lock and election recipes need of a replicated Redis under Sentinel: the single-Redis
 * operations, sent to whichever instance Sentinel names as the primary, plus WAIT. The port finds
 * the primary through the Sentinels and follows a failover as ioredis's Sentinel mode does: it
 * asks the Sentinels (in order, the last one that answered first) for the primary's address,
 * checks on connecting that the instance says it is a primary (else asks again), and asks again
 * whenever its connection closes (a crash, or Sentinel's CLIENT KILL when it reconfigures the
 * instance), or a command gets no reply within the request timeout: ioredis with
 * `socketTimeout` set to the request timeout destroys such a connection and reconnects through
 * Sentinel. (Without it ioredis would wait on a silent connection for as long as TCP does, and
 * a client cut off from the old primary would never follow the failover.)
 *
 * Errors: TimeoutError (outcome unknown), ConnectionLost (reset under the command), WriteRefused
 * (READONLY from an instance that became a replica, NOREPLICAS from a primary below its
 * min-replicas-to-write, or a WAIT refused by a replica or cut short by a role change): the
 * write was not done, or WAIT counted nothing.
 */
import type { RedisPort } from '../redis/port.ts';

export interface SentinelPort extends RedisPort {
  /**
   * WAIT numreplicas timeout: blocks until `replicas` replicas acknowledged every write this
   * connection made, or `timeoutMs` passed; resolves to how many had.
   */
  waitReplicas(replicas: number, timeoutMs: number): PromiseLike<number>;
}

/** The name the Sentinels monitor the primary under (`sentinel monitor <name> ...`). */
export const SENTINEL_MASTER_NAME = 'lockstep';
