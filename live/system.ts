/**
 * How the live harness reaches each system: from the addresses a client should dial (Toxiproxy's
 * proxies, one per client and server) to the same ports the simulator's clients use. The recipes
 * are the systems' own (SystemModule.lock / .election), unchanged; only the ports are live.
 *
 * Subjects (lock libraries, a user's lock) bring their own code instead of a recipe: see
 * subjects/connect.ts, which wraps them behind the same LockRecipe / ElectionRecipe interface.
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
