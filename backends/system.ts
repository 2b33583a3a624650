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
}

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
