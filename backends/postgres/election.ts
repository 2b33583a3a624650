/**
 * PostgreSQL leader election: the leader holds the advisory lock and leads while its session lives,
 * checking it with SELECT 1 every ttl/3 (shared/dbsession/election.ts). Token: nextval, taken on winning.
 */
import type { Runtime } from '../runtime.ts';
import type { SessionLockOptions } from '../shared/dbsession/lock.ts';
import { SessionElection } from '../shared/dbsession/election.ts';
import type { PostgresPort } from './port.ts';
import { postgresLock } from './lock.ts';

export function postgresElection(runtime: Runtime, port: PostgresPort, options: SessionLockOptions): SessionElection {
  return new SessionElection(runtime, port, postgresLock(runtime, port, options), options);
}
