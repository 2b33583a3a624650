/**
 * PostgreSQL in the live harness: the system's own recipes (backends/postgres) on a live port, one
 * dedicated session per client, to the one server.
 */
import { LivePostgresPort } from '../../backends/postgres/live-port.ts';
import type { PostgresPort } from '../../backends/postgres/port.ts';
import { POSTGRES_DATABASE, POSTGRES_USER } from '../servers/postgres.ts';
import type { Endpoint, LiveSystem } from '../system.ts';
import { promiseOf } from '../promise-of.ts';

/** The URL a client dials: the endpoint's own, or the private server's user and database at its address. */
export function postgresUrl(endpoint: Endpoint): string {
  return endpoint.url ?? `postgres://${POSTGRES_USER}@${endpoint.host}:${endpoint.port}/${POSTGRES_DATABASE}`;
}

export const postgresLive: LiveSystem<PostgresPort> = {
  id: 'postgres',
  connect(servers, config) {
    return promiseOf(() => {
      const server = servers[0];
      if (server === undefined) throw new Error('postgres: connect needs the server endpoint');
      const port = new LivePostgresPort(postgresUrl(server), config);
      return {
        ports: port,
        close: () => promiseOf(() => port.disconnect()),
      };
    });
  },
};
