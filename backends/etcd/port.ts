/**
 * The few etcd v3 operations the lock and election recipes need: leases, a create-if-absent
 * transaction, ranges ordered by create revision, and a watch for a key's deletion. The simulated
 * port and a live (etcd3 client) port both implement it; the conformance suite holds both to it.
 *
 * Errors a call may throw, besides the outcome-unknown `TimeoutError` and `ConnectionLost` of the
 * transport: `Unavailable` (no leader, or leadership changed under the request: it may still
 * commit), `LeaseNotFound` (the lease expired or was revoked), `Compacted` (a watch asked for
 * history the server no longer keeps).
 */

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** The store revision of the write that created this incarnation of the key. */
  readonly createRevision: number;
  /** The store revision of the last write to it. */
  readonly modRevision: number;
  /** The lease the key is attached to, 0 for none. */
  readonly lease: number;
}

export interface Lease {
  readonly id: number;
  readonly ttlMs: number;
}

export interface PutIfAbsentResult {
  /** Whether this transaction created the key (false: it was already there). */
  readonly created: boolean;
  /** The key's create revision, whoever created it. */
  readonly createRevision: number;
  /** The store revision the transaction saw or made. */
  readonly revision: number;
}

export interface RangeResult {
  /** Sorted by create revision, oldest first. */
  readonly kvs: readonly KeyValue[];
  /** The store revision the range was read at: a watch from `revision + 1` misses nothing after it. */
  readonly revision: number;
}

export interface RangeOptions {
  /** Only keys whose create revision is at most this (clientv3 WithMaxCreateRev). */
  readonly maxCreateRevision?: number;
}

export interface EtcdPort {
  /** LeaseGrant: a new lease of `ttlMs`, timed by the leader from when the grant commits. */
  grantLease(ttlMs: number): Promise<Lease>;
  /** One LeaseKeepAlive: the TTL granted again, or null when the lease no longer exists. */
  keepAlive(lease: number): Promise<number | null>;
  /** LeaseRevoke: deletes the lease's keys. False if there was no such lease. */
  revokeLease(lease: number): Promise<boolean>;
  /** Txn: if createRevision(key) == 0 then put(key, value, lease) else get(key). */
  putIfAbsent(key: string, value: string, lease: number): Promise<PutIfAbsentResult>;
  get(key: string): Promise<KeyValue | null>;
  /** Every key under `prefix`, oldest create revision first. */
  range(prefix: string, options?: RangeOptions): Promise<RangeResult>;
  /** Delete one key; true if it existed. */
  delete(key: string): Promise<boolean>;
  /**
   * Watch `key` from `fromRevision` for a delete: resolves with the revision of the first delete
   * at or after it, even one that happened before the watch was set, or null when `timeoutMs`
   * passes without one.
   */
  watchDelete(key: string, fromRevision: number, timeoutMs: number): Promise<number | null>;
}

/** The cluster could not say whether the request took effect: no leader, or leadership moved. */
export class Unavailable extends Error {
  override name = 'Unavailable';
}

export class LeaseNotFound extends Error {
  override name = 'LeaseNotFound';
}

export class Compacted extends Error {
  override name = 'Compacted';
}
