/**
 * MySQL: one server, GET_LOCK on a dedicated session.
 *
 * ttlMs is how long the server takes to notice a dead client: TCP keepalive on the server's
 * sockets (net.ipv4.tcp_keepalive_time = ttl/2, tcp_keepalive_intvl = ttl/6,
 * tcp_keepalive_probes = 3) closes a silent client's connection, and ends its session, ttl after
 * it last heard from it. Plain statements time out on the client at ttl/4 (5..1000 ms); GET_LOCK
 * gets its own timeout plus one of those. See shared/dbsession/settings.ts.
 */
import { soleServer, type SystemModule } from '../system.ts';
import { sessionKeepalive, sessionLockOptions, sessionTimeouts } from '../shared/dbsession/settings.ts';
import type { MySqlPort } from './port.ts';
import { mysqlElection } from './election.ts';
import { mysqlLock } from './lock.ts';
import { mysqlServer } from './server.ts';
import { SimMySqlPort } from './sim-port.ts';

export const mysql: SystemModule<MySqlPort> = {
  id: 'mysql',
  fencing: 'sound',
  mechanism:
    'GET_LOCK with a server-side timeout on a dedicated session, freed when the session ends; counter-row token',
  serverCount: () => 1,
  bootServer: (host, _index, _servers, config) => {
    mysqlServer(host, sessionKeepalive(config.ttlMs));
  },
  simPorts: (host, servers, config) => new SimMySqlPort(host, soleServer('mysql', servers), sessionTimeouts(config)),
  lock: (runtime, port, config) => mysqlLock(runtime, port, sessionLockOptions(config)),
  election: (runtime, port, config) => mysqlElection(runtime, port, sessionLockOptions(config)),
};
