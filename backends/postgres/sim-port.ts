import type { Future } from '../../sim/future.ts';
import { SimSessionPort } from '../shared/dbsession/sim-port.ts';
import type { PostgresPort } from './port.ts';

/** PostgresPort over the simulated network; pg_advisory_lock may wait up to the blocking timeout. */
export class SimPostgresPort extends SimSessionPort implements PostgresPort {
  advisoryLock(key: number): Future<void> {
    return this.call('advisory-lock', { key }, this.timeouts.blockingTimeoutMs);
  }

  advisoryTryLock(key: number): Future<boolean> {
    return this.call('advisory-try-lock', { key }, this.timeouts.queryTimeoutMs);
  }

  advisoryUnlock(key: number): Future<boolean> {
    return this.call('advisory-unlock', { key }, this.timeouts.queryTimeoutMs);
  }

  nextval(sequence: string): Future<number> {
    return this.call('nextval', { sequence }, this.timeouts.queryTimeoutMs);
  }
}
