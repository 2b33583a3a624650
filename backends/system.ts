/**
 * What the runner needs to know of a system: how many servers it has and what they run in the
 * simulator, how a client reaches them (its ports), and its lock and election recipes. Each
 * `backends/<system>/index.ts` exports one SystemModule; `backends/index.ts` lists them all.
 */
import type { Host } from '../sim/node.ts';
import type { ElectionRecipe, FencingSoundness, LockRecipe, SystemId } from './recipe.ts';
import type { Runtime } from './runtime.ts';

/** The per-run settings every system understands. */
export interface SystemConfig {
  /** Lease length: a key's TTL, a session timeout, a lease TTL, or the time a DB takes to notice a dead connection. */
  readonly ttlMs: number;
  readonly fencing: boolean;
  readonly acquireTimeoutMs: number;
  /** The lock (or leader) key. */
  readonly name: string;
  /**
   * etcd only: whose concurrency.Mutex the etcd recipe follows. '3.4.3' returns from Lock after
   * waiting without checking that its own key (and so its lease) survived the wait
   * (etcd-io/etcd#11456, fixed in 3.5); the default is today's Mutex.
   */
  readonly etcdMutex?: EtcdMutex;
  /** redis-sentinel only: Sentinel's timing, the primary's min-replicas guard, and the recipe's WAIT. */
  readonly sentinel?: SentinelOptions;
}

/** The settings of a replicated Redis under Sentinel, and of the lock recipe on it. */
export interface SentinelOptions {
  /** Sentinel's down-after-milliseconds: silence after which a Sentinel deems an instance down. */
  readonly downAfterMs: number;
  /** Sentinel's failover-timeout: how long a failover may take, and twice that before another is tried. */
  readonly failoverTimeoutMs: number;
  /** The primary's min-replicas-to-write: refuse writes with fewer good replicas (0: off). */
  readonly minReplicasToWrite: number;
  /** The primary's min-replicas-max-lag, in whole seconds: a replica is good if it acked that recently. */
  readonly minReplicasMaxLagS: number;
  /** The recipe's WAIT after a grant: how many replicas must have the lock key (0: no WAIT). */
  readonly waitReplicas: number;
  /** WAIT's timeout; a grant that did not reach `waitReplicas` replicas in time is released and retried. */
  readonly waitTimeoutMs: number;
}

/** Fails over within a few seconds, so library runs stay short; no guard, no WAIT. */
export const SENTINEL_DEFAULTS: SentinelOptions = {
  downAfterMs: 1000,
  failoverTimeoutMs: 3000,
  minReplicasToWrite: 0,
  minReplicasMaxLagS: 10,
  waitReplicas: 0,
  waitTimeoutMs: 100,
};

export const ETCD_MUTEXES = ['3.5', '3.4.3'] as const;
export type EtcdMutex = (typeof ETCD_MUTEXES)[number];

export interface SystemModule<Ports = unknown> {
  readonly id: SystemId;
  /** Whether this system's fencing token is sound (monotonic across every grant). */
  readonly fencing: FencingSoundness;
  /** One line for reports: the mechanism in a phrase. */
  readonly mechanism: string;
  /** How many server nodes a run needs; they are named server-1 .. server-n. */
  serverCount(config: SystemConfig): number;
  /** The program of server `index` (1-based), given every server's node id. */
  bootServer(host: Host, index: number, servers: readonly string[], config: SystemConfig): void;
  /** The ports a simulated client uses to reach the servers. */
  simPorts(host: Host, servers: readonly string[], config: SystemConfig): Ports;
  lock(runtime: Runtime, ports: Ports, config: SystemConfig): LockRecipe;
  election(runtime: Runtime, ports: Ports, config: SystemConfig): ElectionRecipe;
  /** The server the system currently treats as its leader, for the `leader` selector; null if none. */
  leader?(servers: readonly string[], hostOf: (id: string) => Host): string | null;
  /** Redis without persistence by default: a restart may come back without its disk. */
  readonly diskless?: boolean;
  /**
   * Processes beside the servers that watch them and fail them over (Redis Sentinel), named
   * sentinel-1 .. sentinel-n; absent for systems without such.
   */
  readonly sentinels?: {
    count(config: SystemConfig): number;
    boot(
      host: Host,
      index: number,
      servers: readonly string[],
      sentinels: readonly string[],
      config: SystemConfig,
    ): void;
  };
}

export function sentinelIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `sentinel-${i + 1}`);
}

/** The server of a single-server system (serverCount 1): `servers[0]`, or an Error naming the system. */
export function soleServer(system: SystemId, servers: readonly string[]): string {
  const server = servers[0];
  if (server === undefined) throw new Error(`${system}: simPorts got no server`);
  return server;
}

export function serverIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `server-${i + 1}`);
}
