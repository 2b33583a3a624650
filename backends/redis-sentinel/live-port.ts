/**
 * SentinelPort on a replicated Redis through ioredis in Sentinel mode. The single-Redis live port
 * does the work (its scripts, its timeouts, its error translation); ioredis's Sentinel connector
 * decides which instance it talks to: it asks the Sentinels in turn for the primary's address
 * (SENTINEL get-master-addr-by-name, natMap turning the announced address into one this client
 * can dial), checks with INFO on connecting that the instance says it is a primary (else it asks
 * again, starting from the next Sentinel), and asks again whenever its connection closes; with
 * `socketTimeout` set to the request timeout, a connection on which a command gets no reply in
 * time is closed too (the command is a TimeoutError), so a client cut off from an old primary
 * follows the failover. This port adds WAIT, and says what a refused write is: READONLY (the
 * instance became a replica), NOREPLICAS (a primary below min-replicas-to-write), and a WAIT cut
 * short by a change of role (UNBLOCKED, or refused on a replica) are WriteRefused, a known outcome.
 */
import { Command, type Redis } from 'ioredis';
import { WriteRefused } from '../errors.ts';
import { LiveRedisPort, translateRedisError } from '../redis/live-port.ts';
import type { SentinelPort } from './port.ts';

/** The reply errors of a write the server refused without doing it (the simulated port's list). */
const REFUSED = /^(READONLY|NOREPLICAS|UNBLOCKED|ERR WAIT cannot be used with replica)/;

export function translateSentinelError(error: unknown): never {
  if (error instanceof Error && REFUSED.test(error.message)) throw new WriteRefused(`redis-sentinel: ${error.message}`);
  return translateRedisError(error);
}

export class LiveSentinelPort extends LiveRedisPort implements SentinelPort {
  /** `redis` is an ioredis client in Sentinel mode, with `commandTimeout` set to the recipe's request timeout. */
  constructor(redis: Redis) {
    super(redis, translateSentinelError);
  }

  /**
   * WAIT blocks on the server for up to `timeoutMs`, longer than the request timeout may be, so
   * the command gets that long plus one request timeout before the port gives up on it, as the
   * simulated port's does: a timer set before ioredis's own commandTimeout takes precedence over
   * it, and the socket timeout is raised as far while the WAIT is out (ioredis reads it each time
   * it arms its timer), so that a long WAIT does not close the connection it waits on.
   */
  waitReplicas(replicas: number, timeoutMs: number): Promise<number> {
    // WAIT 0 would block for ever: the shortest wait is 1 ms.
    const waitMs = Math.max(1, Math.ceil(timeoutMs));
    const options = this.redis.options;
    const allowedMs = waitMs + (options.commandTimeout ?? 0);
    const socketTimeout = options.socketTimeout;
    if (socketTimeout !== undefined) options.socketTimeout = Math.max(socketTimeout, allowedMs);
    const command = new Command('wait', [replicas, waitMs]);
    command.setTimeout(allowedMs);
    return this.timed(() => this.redis.sendCommand(command) as Promise<number>).finally(() => {
      if (socketTimeout !== undefined) options.socketTimeout = socketTimeout;
    });
  }
}
