/**
 * How the live harness reaches each system: from the addresses a client should dial (Toxiproxy's
 * proxies, one per client and server) to the same ports the simulator's clients use. The recipes
 * are the systems' own (SystemModule.lock / .election), unchanged; only the ports are live.
 *
 * Third-party subjects (node-redlock, the etcd3 package's Lock and Election) are live only: they
 * bring their own recipe, wrapped behind the same LockRecipe / ElectionRecipe interface.
 */
import type { ElectionRecipe, LockRecipe, SystemId } from '../backends/recipe.ts';
import type { Runtime } from '../backends/runtime.ts';
import type { SystemConfig } from '../backends/system.ts';

/** Where a client connects: for a database, a connection URL; for the others, host and port. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** Database systems: user, password and database, in a URL (postgres://..., mysql://...) of this host and port. */
  readonly url?: string;
  /**
   * Behind a proxy: the server's own host:port, as the cluster knows it. redis-sentinel's
   * Sentinels name the data nodes by it, and a client maps it to this endpoint (ioredis natMap).
   */
  readonly upstream?: string;
}

export interface LiveConnection<Ports> {
  readonly ports: Ports;
  /** Close every connection; never throws. */
  close(): Promise<void>;
}

export interface LiveSystem<Ports = unknown> {
  readonly id: SystemId;
  /**
   * Connect one client to `servers` (server-1 .. server-n, in order), with timeouts from
   * `config`; a system with Sentinels finds its primary through `sentinels` (sentinel-1 .. m).
   */
  connect(
    servers: readonly Endpoint[],
    config: SystemConfig,
    runtime: Runtime,
    sentinels?: readonly Endpoint[],
  ): Promise<LiveConnection<Ports>>;
}

export interface SubjectConnection {
  lock(runtime: Runtime): LockRecipe;
  election(runtime: Runtime): ElectionRecipe;
  close(): Promise<void>;
}

/** A lock library users deploy, run under the same workloads and faults as the system's own recipe. */
export interface Subject {
  /** e.g. node-redlock, etcd3-lock. */
  readonly id: string;
  /** The system whose servers it runs against, and whose expectations apply to it. */
  readonly system: SystemId;
  /** The package and version, for results. */
  readonly library: string;
  /** Whether its grants carry a fencing token; fenced runs of a subject without one are skipped. */
  readonly tokens: boolean;
  connect(servers: readonly Endpoint[], config: SystemConfig): Promise<SubjectConnection>;
}
