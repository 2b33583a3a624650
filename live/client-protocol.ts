/** What the harness and a client process say to each other over the IPC channel. */
import type { DurationSpec } from '../runner/durations.ts';
import type { SystemId } from '../backends/recipe.ts';
import type { SystemConfig } from '../backends/system.ts';
import type { Op } from '../runner/history.ts';
import type { Endpoint } from './system.ts';

export interface ClientSpec {
  /** c1, c2, ... */
  readonly id: string;
  readonly system: SystemId;
  /** A third-party subject (node-redlock, etcd3-lock) instead of the system's own recipe. */
  readonly subject: string | null;
  readonly workload: 'mutex' | 'election';
  readonly config: SystemConfig;
  /** Where to reach server-1 .. server-n: this client's own proxies. */
  readonly servers: readonly Endpoint[];
  /** Where to reach sentinel-1 .. sentinel-m (redis-sentinel): this client's own proxies; empty elsewhere. */
  readonly sentinels: readonly Endpoint[];
  /** This client's proxy to the register. */
  readonly register: Endpoint;
  readonly registerTimeoutMs: number;
  readonly params: {
    readonly holdMs: DurationSpec;
    readonly thinkMs: DurationSpec;
    readonly fencing: boolean;
    readonly careful: boolean;
    /** A `writing` trigger waits: ask the harness before each write (FromClient 'writing') and wait for its 'write'. */
    readonly gateWrites: boolean;
  };
}

export type ToClient =
  | { readonly type: 'start'; readonly spec: ClientSpec }
  /** True time starts: the client begins its workload. */
  | { readonly type: 'go'; readonly epochMs: number }
  | { readonly type: 'stop' }
  /** Send the write you asked about: the faults waiting for it have landed. */
  | { readonly type: 'write' }
  | { readonly type: 'clock'; readonly jumpMs?: number; readonly driftPpm?: number };

/** An op as the client recorded it; the harness numbers ops when it merges every client's. */
export type RecordedOp = Omit<Op, 'index'>;

export type FromClient =
  | { readonly type: 'ready' }
  | { readonly type: 'op'; readonly op: RecordedOp }
  /** About to send a write (only when the spec's gateWrites is set); the client waits for 'write'. */
  | { readonly type: 'writing' }
  | { readonly type: 'done'; readonly failures: readonly string[] }
  | { readonly type: 'failed'; readonly error: string };
