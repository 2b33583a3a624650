/**
 * PostgreSQL: one server, pg_advisory_lock on a dedicated session.
 *
 * ttlMs is how long the server takes to notice a dead client: its TCP keepalive
 * (tcp_keepalives_idle = ttl/2, tcp_keepalives_interval = ttl/6, tcp_keepalives_count = 3) closes
 * a silent client's connection, and ends its session, ttl after it last heard from it. Plain
 * statements time out on the client at ttl/4 (5..1000 ms); pg_advisory_lock may wait the whole
 * acquire timeout. See shared/dbsession/settings.ts.
 */
import { soleServer, type SystemModule } from '../system.ts';
import { sessionKeepalive, sessionLockOptions, sessionTimeouts } from '../shared/dbsession/settings.ts';
import type { PostgresPort } from './port.ts';
import { postgresElection } from './election.ts';
import { postgresLock } from './lock.ts';
import { postgresServer } from './server.ts';
import { SimPostgresPort } from './sim-port.ts';

export const postgres: SystemModule<PostgresPort> = {
  id: 'postgres',
  fencing: 'sound',
  mechanism: 'pg_advisory_lock on a dedicated session, freed when the session ends; nextval token',
  serverCount: () => 1,
  bootServer: (host, _index, _servers, config) => {
    postgresServer(host, sessionKeepalive(config.ttlMs));
  },
  simPorts: (host, servers, config) =>
    new SimPostgresPort(host, soleServer('postgres', servers), sessionTimeouts(config)),
  lock: (runtime, port, config) => postgresLock(runtime, port, sessionLockOptions(config)),
  election: (runtime, port, config) => postgresElection(runtime, port, sessionLockOptions(config)),
};
