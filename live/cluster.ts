/**
 * A live cluster: the servers every system runs on, and Toxiproxy in front of them. Providers
 * make one: `local` starts private servers as child processes, `external` and `compose` describe
 * servers that run elsewhere. The live world reads only this interface.
 */
import type { SystemId } from '../backends/recipe.ts';
import type { SentinelOptions } from '../backends/system.ts';
import type { Toxiproxy } from './toxiproxy.ts';
import type { Endpoint } from './system.ts';

/** What the harness can do to a server process: only the local provider owns its servers. */
export interface ServerControl {
  readonly isRunning: boolean;
  readonly isPaused: boolean;
  /** Why the server died under the harness, naming its log; null while it is healthy. */
  readonly died: string | null;
  pause(): void;
  resume(): void;
  kill(): Promise<void>;
  /** Start again after a kill; `persist: false` first throws away what it kept on disk. */
  restart(persist: boolean): Promise<void>;
}

export interface ClusterServer {
  /** The server's name in the cluster, e.g. redis-3, zookeeper-1. */
  readonly name: string;
  /** Where Toxiproxy reaches it. */
  readonly upstream: Endpoint;
  /** Databases: the URL a client uses, with the host and port replaced by its proxy's. */
  readonly url?: string;
  readonly control: ServerControl | null;
}

/**
 * Links between the servers of one system, when the system has such traffic and the provider can
 * cut it. Nodes are numbered from 1: the servers 1..n, then the system's Sentinels n+1..n+m.
 */
export interface PeerLinks {
  /** How the links are cut, for results: e.g. "one Toxiproxy proxy per directed peer link". */
  readonly mechanism: string;
  cut(from: number, to: number, mode: 'drop' | 'hold'): Promise<void>;
  heal(from: number, to: number): Promise<void>;
  /** Slow a link down; absent where the mechanism cannot. */
  delay?(from: number, to: number, extraMs: number): Promise<void>;
}

export interface PrepareOptions {
  /** Data that survives a crash: Redis's append-only file. */
  readonly persist: boolean;
  /** redis-sentinel's settings for the run (SystemConfig.sentinel); the defaults when absent. */
  readonly sentinel?: SentinelOptions;
}

export interface Cluster {
  readonly provider: 'local' | 'compose' | 'external';
  readonly toxiproxy: Toxiproxy;
  /** The address Toxiproxy's proxies listen on, and the host a client dials to reach them. */
  readonly proxyListenHost: string;
  readonly clientHost: string;
  readonly systems: readonly SystemId[];
  /** server-1 .. server-n of a system, in order. */
  servers(system: SystemId): readonly ClusterServer[];
  /** sentinel-1 .. sentinel-m of a system that has Sentinels (redis-sentinel); empty for the others. */
  sentinels(system: SystemId): readonly ClusterServer[];
  /** The links between this system's servers (and Sentinels); null when it has none (Redis nodes, one database). */
  peers(system: SystemId): PeerLinks | null;
  /** Why server-to-server links of this system cannot be cut here; null when they can (or there are none). */
  peersUnavailable(system: SystemId): string | null;
  /** The index (1-based) of the system's leader now; null if none; undefined if the system has no leader among its servers. */
  leader(system: SystemId): Promise<number | null | undefined>;
  /**
   * Apply a wall-clock jump on a server as what it affects; returns the note results carry
   * (how it was applied, or why it changes nothing).
   */
  jumpClock(system: SystemId, index: number, deltaMs: number): Promise<string>;
  /**
   * Make a system ready for a new run: resume and restart what a previous run left paused or
   * crashed, set persistence (and redis-sentinel's settings, and its primary back on server-1).
   * State is not cleared: every run uses keys of its own.
   */
  prepare(system: SystemId, options: PrepareOptions): Promise<void>;
  /** The first server that died under the harness, as a message naming it and its log; null if none. */
  deaths(): string | null;
  stop(): Promise<void>;
}
