/**
 * MySQL leader election: the leader holds the GET_LOCK name and leads while its session lives,
 * checking it with SELECT 1 every ttl/3 (shared/dbsession/election.ts). Token: the counter row, taken on
 * winning.
 */
import type { Runtime } from '../runtime.ts';
import type { SessionLockOptions } from '../shared/dbsession/lock.ts';
import { SessionElection } from '../shared/dbsession/election.ts';
import type { MySqlPort } from './port.ts';
import { mysqlLock } from './lock.ts';

export function mysqlElection(runtime: Runtime, port: MySqlPort, options: SessionLockOptions): SessionElection {
  return new SessionElection(runtime, port, mysqlLock(runtime, port, options), options);
}
