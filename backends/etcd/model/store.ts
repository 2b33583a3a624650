/**
 * etcd's replicated state: a revisioned key-value store and its leases, applied from the Raft log
 * in the same order on every server, so every server computes the same revisions and lease ids.
 * Lease *timing* is not here: a lease's deadline lives in the leader's memory (lessor.ts), and an
 * expired lease leaves the store only through a revoke entry in the log, as in etcd.
 */
import type { StateMachine } from '../../shared/quorum/raft.ts';
import type { KeyValue, PutIfAbsentResult, RangeResult } from '../port.ts';

export type EtcdCommand =
  | { readonly op: 'lease-grant'; readonly ttlMs: number }
  | { readonly op: 'lease-revoke'; readonly lease: number }
  | { readonly op: 'put-if-absent'; readonly key: string; readonly value: string; readonly lease: number }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'range'; readonly prefix: string; readonly maxCreateRevision?: number }
  | { readonly op: 'delete'; readonly key: string };

/** What applying a command answers; an error is a reply, never an exception, so every server agrees. */
export type Applied = { readonly ok: true; readonly body: unknown } | { readonly ok: false; readonly error: string };

export const LEASE_NOT_FOUND = 'lease not found';
export const COMPACTED = 'required revision has been compacted';

/** What the rest of the server hears about applied changes. */
export interface StoreListener {
  leaseGranted(lease: number, ttlMs: number): void;
  leaseRevoked(lease: number): void;
  keyDeleted(key: string, revision: number): void;
}

interface StoredLease {
  readonly ttlMs: number;
  readonly keys: Set<string>;
}

/** Most delete events a server remembers for watches that start in the past; older ones are compacted. */
export const MAX_DELETE_HISTORY = 10_000;

export class EtcdStore implements StateMachine<EtcdCommand, Applied> {
  /** etcd starts at revision 1; the first write makes it 2. */
  revision = 1;
  private readonly keys = new Map<string, KeyValue>();
  private readonly leases = new Map<number, StoredLease>();
  private readonly deletes = new DeleteHistory(MAX_DELETE_HISTORY);

  constructor(
    /** etcd raises a smaller requested TTL to 1.5 election timeouts, so an election alone cannot expire a lease. */
    private readonly minTtlMs: number,
    private readonly listener: StoreListener,
  ) {}

  /** Ids and TTLs of every lease, for a new leader to restart their clocks. */
  leaseTtls(): [number, number][] {
    return [...this.leases].map(([id, lease]) => [id, lease.ttlMs]);
  }

  ttlOf(lease: number): number | undefined {
    return this.leases.get(lease)?.ttlMs;
  }

  /** The first delete of `key` at or after `fromRevision` this server has applied, null if none yet. */
  deletedSince(key: string, fromRevision: number): number | null | 'compacted' {
    return this.deletes.firstSince(key, fromRevision);
  }

  apply(command: EtcdCommand, index: number): Applied {
    switch (command.op) {
      case 'lease-grant': {
        // The log index is unique and the same on every server: etcd's leader picks the id before
        // proposing, which comes to the same thing.
        const ttlMs = Math.max(command.ttlMs, this.minTtlMs);
        this.leases.set(index, { ttlMs, keys: new Set() });
        this.listener.leaseGranted(index, ttlMs);
        return ok({ id: index, ttlMs });
      }
      case 'lease-revoke':
        return ok(this.revoke(command.lease));
      case 'put-if-absent':
        return this.putIfAbsent(command.key, command.value, command.lease);
      case 'get':
        return ok(this.keys.get(command.key) ?? null);
      case 'range':
        return ok(this.range(command.prefix, command.maxCreateRevision));
      case 'delete': {
        if (!this.keys.has(command.key)) return ok(false);
        this.revision++;
        this.remove(command.key);
        return ok(true);
      }
    }
  }

  private putIfAbsent(key: string, value: string, lease: number): Applied {
    const existing = this.keys.get(key);
    if (existing !== undefined) {
      return ok({
        created: false,
        createRevision: existing.createRevision,
        revision: this.revision,
      } satisfies PutIfAbsentResult);
    }
    const owner = this.leases.get(lease);
    if (lease !== 0 && owner === undefined) return { ok: false, error: LEASE_NOT_FOUND };
    this.revision++;
    this.keys.set(key, { key, value, createRevision: this.revision, modRevision: this.revision, lease });
    owner?.keys.add(key);
    return ok({ created: true, createRevision: this.revision, revision: this.revision } satisfies PutIfAbsentResult);
  }

  private range(prefix: string, maxCreateRevision: number | undefined): RangeResult {
    const kvs = [...this.keys.values()]
      .filter(
        (kv) =>
          kv.key.startsWith(prefix) && (maxCreateRevision === undefined || kv.createRevision <= maxCreateRevision),
      )
      .sort((a, b) => a.createRevision - b.createRevision);
    return { kvs, revision: this.revision };
  }

  /** Revoking deletes every key of the lease in one revision, as etcd's revoke transaction does. */
  private revoke(id: number): boolean {
    const lease = this.leases.get(id);
    if (lease === undefined) return false;
    this.leases.delete(id);
    if (lease.keys.size > 0) this.revision++;
    for (const key of lease.keys) this.remove(key);
    this.listener.leaseRevoked(id);
    return true;
  }

  private remove(key: string): void {
    const kv = this.keys.get(key);
    if (kv === undefined) throw new Error(`etcd store: removing key '${key}', which is not in the store`);
    this.keys.delete(key);
    this.leases.get(kv.lease)?.keys.delete(key);
    this.deletes.add(key, this.revision);
    this.listener.keyDeleted(key, this.revision);
  }
}

function ok(body: unknown): Applied {
  return { ok: true, body };
}

/** Delete events by key, oldest evicted first once there are `capacity` of them. */
class DeleteHistory {
  private readonly byKey = new Map<string, number[]>();
  private readonly order: { key: string; revision: number }[] = [];
  private head = 0;
  /** Deletes at or below this revision have been forgotten. */
  private compactedRevision = 0;

  constructor(private readonly capacity: number) {}

  add(key: string, revision: number): void {
    let revisions = this.byKey.get(key);
    if (revisions === undefined) this.byKey.set(key, (revisions = []));
    revisions.push(revision);
    this.order.push({ key, revision });
    if (this.order.length - this.head > this.capacity) this.evictOldest();
  }

  firstSince(key: string, fromRevision: number): number | null | 'compacted' {
    if (fromRevision <= this.compactedRevision) return 'compacted';
    return this.byKey.get(key)?.find((revision) => revision >= fromRevision) ?? null;
  }

  private evictOldest(): void {
    const oldest = this.order[this.head++];
    if (oldest === undefined) throw new Error('etcd delete history: evicting from an empty history');
    this.compactedRevision = oldest.revision;
    const revisions = this.byKey.get(oldest.key);
    if (revisions === undefined) throw new Error(`etcd delete history: no deletes recorded for key '${oldest.key}'`);
    revisions.shift();
    if (revisions.length === 0) this.byKey.delete(oldest.key);
    if (this.head > this.capacity) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }
}
