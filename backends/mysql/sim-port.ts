import type { Future } from '../../sim/future.ts';
import { SimSessionPort } from '../shared/dbsession/sim-port.ts';
import type { MySqlPort } from './port.ts';

/**
 * MySqlPort over the simulated network. GET_LOCK's client deadline is its own timeout plus one
 * plain query timeout, for the answer to come back; an endless one gets the blocking timeout.
 */
export class SimMySqlPort extends SimSessionPort implements MySqlPort {
  getLock(name: string, timeoutSeconds: number): Future<0 | 1> {
    const { queryTimeoutMs, blockingTimeoutMs } = this.timeouts;
    const deadlineMs = timeoutSeconds < 0 ? blockingTimeoutMs : timeoutSeconds * 1000 + queryTimeoutMs;
    return this.call('get-lock', { name, timeoutSeconds }, deadlineMs);
  }

  releaseLock(name: string): Future<0 | 1 | null> {
    return this.call('release-lock', { name }, this.timeouts.queryTimeoutMs);
  }

  incrementCounter(name: string): Future<number> {
    return this.call('increment-counter', { name }, this.timeouts.queryTimeoutMs);
  }
}
