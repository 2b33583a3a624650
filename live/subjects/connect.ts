/**
 * A subject on live servers: the clients its system's libraries expect (subjects/clients.ts), real
 * ones, through the client's own Toxiproxy proxies, with the timeouts lockstep's own live clients
 * use; its `create` called once, in the client process; its lock and election behind the recipes'
 * interfaces, called directly (real time, real randomness).
 */
import { createRequire } from 'node:module';
import { Etcd3 } from 'etcd3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { SystemId } from '../../backends/recipe.ts';
import { redlockOptions } from '../../backends/redlock/index.ts';
import type { SystemConfig } from '../../backends/system.ts';
import { requestTimeoutMs } from '../../backends/timing.ts';
import { checkInstance, type SubjectDefinition } from '../../subjects/define.ts';
import { DIRECT_GATE, subjectElection, subjectLock, subjectSettings } from '../../subjects/recipe.ts';
import { redisClient } from '../systems/redis.ts';
import { sentinelClient } from '../systems/redis-sentinel.ts';
import { postgresUrl } from '../systems/postgres.ts';
import { mysqlUrl } from '../systems/mysql.ts';
import type { Endpoint, SubjectConnection } from '../system.ts';
import { promiseOf } from '../promise-of.ts';

interface ZooKeeperClient {
  connect(): void;
  close(): void;
  once(event: 'connected', listener: () => void): void;
}
const zookeeper = createRequire(import.meta.url)('node-zookeeper-client') as {
  createClient(connectString: string, options: { sessionTimeout: number }): ZooKeeperClient;
};

interface Opened {
  readonly clients: readonly unknown[];
  close(): Promise<void>;
}

function only(system: SystemId, servers: readonly Endpoint[]): Endpoint {
  const server = servers[0];
  if (server === undefined) throw new Error(`${system}: a subject needs the server endpoint`);
  return server;
}

/** Open the clients a subject of `system` receives. */
async function openClients(
  system: SystemId,
  servers: readonly Endpoint[],
  sentinels: readonly Endpoint[],
  config: SystemConfig,
): Promise<Opened> {
  const timeoutMs = requestTimeoutMs(config.ttlMs);
  switch (system) {
    case 'redis':
    case 'redlock': {
      const ms = system === 'redlock' ? redlockOptions(config).requestTimeoutMs : timeoutMs;
      const clients = (system === 'redis' ? [only(system, servers)] : servers).map((s) => redisClient(s, ms));
      return { clients, close: () => promiseOf(() => clients.forEach((c) => c.disconnect())) };
    }
    case 'redis-sentinel': {
      const client = sentinelClient(servers, sentinels, timeoutMs);
      return { clients: [client], close: () => promiseOf(() => client.disconnect()) };
    }
    case 'etcd': {
      // A deadline on each unary call, as the etcd3 docs show: without one, a call to a silent member never returns.
      const client = new Etcd3({
        hosts: servers.map((server) => `http://${server.host}:${server.port}`),
        defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      });
      return { clients: [client], close: () => promiseOf(() => client.close()) };
    }
    case 'postgres': {
      const client = new pg.Client({ connectionString: postgresUrl(only(system, servers)) });
      client.on('error', () => {});
      await client.connect();
      return { clients: [client], close: () => client.end().catch(() => {}) };
    }
    case 'mysql': {
      const connection = await mysql.createConnection(mysqlUrl(only(system, servers)));
      connection.on('error', () => {});
      return { clients: [connection], close: () => connection.end().catch(() => {}) };
    }
    case 'zookeeper': {
      const client = zookeeper.createClient(servers.map((s) => `${s.host}:${s.port}`).join(','), {
        sessionTimeout: config.ttlMs,
      });
      const connected = new Promise<void>((resolve) => client.once('connected', resolve));
      client.connect();
      await connected;
      return { clients: [client], close: () => promiseOf(() => client.close()) };
    }
  }
}

/** Connect `subject` for one client process. */
export async function connectSubject(
  subject: SubjectDefinition,
  servers: readonly Endpoint[],
  config: SystemConfig,
  sentinels: readonly Endpoint[] = [],
): Promise<SubjectConnection> {
  const opened = await openClients(subject.system, servers, sentinels, config);
  const settings = subjectSettings(subject.system, config);
  const instance = checkInstance(
    subject,
    await subject.create({ clients: opened.clients, settings } as Parameters<SubjectDefinition['create']>[0]),
  );
  return {
    lock: () => subjectLock(subject.name, instance, DIRECT_GATE, config.fencing),
    election: () => subjectElection(subject.name, instance, DIRECT_GATE, config.fencing),
    close: async () => {
      await instance.close?.().catch(() => {});
      await opened.close();
    },
  };
}
