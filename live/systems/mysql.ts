/**
 * MySQL (MariaDB) in the live harness: the system's own recipes (backends/mysql) on a live port,
 * one dedicated session per client, to the one server.
 */
import { LiveMySqlPort } from '../../backends/mysql/live-port.ts';
import type { MySqlPort } from '../../backends/mysql/port.ts';
import { MYSQL_DATABASE, MYSQL_USER } from '../servers/mariadb.ts';
import type { Endpoint, LiveSystem } from '../system.ts';
import { promiseOf } from '../promise-of.ts';

/** The URL a client dials: the endpoint's own, or the private server's user and database at its address. */
export function mysqlUrl(endpoint: Endpoint): string {
  return endpoint.url ?? `mysql://${MYSQL_USER}@${endpoint.host}:${endpoint.port}/${MYSQL_DATABASE}`;
}

export const mysqlLive: LiveSystem<MySqlPort> = {
  id: 'mysql',
  connect(servers, config) {
    return promiseOf(() => {
      const server = servers[0];
      if (server === undefined) throw new Error('mysql: connect needs the server endpoint');
      const port = new LiveMySqlPort(mysqlUrl(server), config);
      return {
        ports: port,
        close: () => promiseOf(() => port.disconnect()),
      };
    });
  },
};
