/**
 * The clients a subject's `create` receives, by the system it runs on: the packages lock
 * libraries are written against. Live, these are the real packages; in the simulator (redis and
 * redlock today), simulated clients with the same API (sim-ioredis.ts).
 */
import type { Redis } from 'ioredis';
import type { Etcd3 } from 'etcd3';
import type { Client as PgClient } from 'pg';
import type { Connection as MysqlConnection } from 'mysql2/promise';

export interface SubjectClients {
  /** One ioredis client. */
  readonly redis: readonly [Redis];
  /** One ioredis client per independent Redis (five). */
  readonly redlock: readonly Redis[];
  /** One ioredis client in Sentinel mode: it finds the primary through the Sentinels. */
  readonly 'redis-sentinel': readonly [Redis];
  /** One etcd3 client over every member. */
  readonly etcd: readonly [Etcd3];
  /** One connected pg client. */
  readonly postgres: readonly [PgClient];
  /** One mysql2 (promise API) connection. */
  readonly mysql: readonly [MysqlConnection];
  /** One node-zookeeper-client client over the ensemble, connected. */
  readonly zookeeper: readonly [unknown];
}
