/**
 * The leader's lease clocks, after etcd's lessor. Only the leader (etcd's "primary lessor") times
 * leases, on its monotonic clock: it keeps each lease's deadline in memory, refreshes it on
 * keepalive, and proposes a revoke through the log once it passes. Followers time nothing; they
 * pass keepalives on to the leader, as etcd's LeaseRenew does over the peer connection.
 * A new leader does not know when its predecessor last refreshed a lease, so it gives every lease
 * a fresh TTL plus an election timeout (etcd's Promote), and a leader that steps down forgets its
 * deadlines (Demote): an election never expires a lease on its own.
 */
import type { Future } from '../../../sim/future.ts';
import type { Host } from '../../../sim/node.ts';
import type { Message } from '../../../sim/network.ts';
import type { RaftNode } from '../../shared/quorum/raft.ts';
import type { Applied, EtcdCommand, EtcdStore } from './store.ts';

export interface LessorOptions {
  /** How often the leader looks for expired leases (etcd: every 500 ms). */
  readonly checkIntervalMs: number;
  /** What a new leader adds to every lease's TTL (etcd: the election timeout). */
  readonly promoteExtendMs: number;
  /** How long a follower waits for the leader to answer a forwarded keepalive. */
  readonly forwardTimeoutMs: number;
}

/** Most revocations one check proposes; etcd rate-limits revocation the same way. */
const MAX_REVOKES_PER_CHECK = 100;

/** The keepalive could not reach a leader: the client should try again, maybe elsewhere. */
export class NoLeader extends Error {
  override name = 'NoLeader';
}

type LessorWire =
  | { readonly type: 'etcd-lease'; readonly rpc: 'keepalive'; readonly id: number; readonly lease: number }
  | {
      readonly type: 'etcd-lease';
      readonly rpc: 'keepalive-reply';
      readonly id: number;
      readonly led: boolean;
      readonly ttlMs: number | null;
    };

export class Lessor {
  /** Lease id -> local monotonic time at which it expires. Empty unless this server leads. */
  private readonly deadlines = new Map<number, number>();
  private readonly revoking = new Set<number>();
  /** Bumped on every leadership change, so a check loop of an old term stops. */
  private epoch = 0;
  private readonly forwarded = new Map<number, Future<number | null>>();
  private nextForward = 0;

  constructor(
    private readonly host: Host,
    private readonly raft: RaftNode<EtcdCommand, Applied>,
    private readonly store: EtcdStore,
    private readonly options: LessorOptions,
  ) {
    raft.onLeadership((leading) => (leading ? this.promote() : this.demote()));
  }

  /** The store granted a lease: a leader starts its clock now. */
  granted(lease: number, ttlMs: number): void {
    if (this.raft.isLeader && !this.deadlines.has(lease)) this.deadlines.set(lease, this.now() + ttlMs);
  }

  revoked(lease: number): void {
    this.deadlines.delete(lease);
  }

  /** Keep `lease` alive from this server: the TTL granted again, null if the lease is gone or expired. */
  keepAlive(lease: number): Future<number | null> {
    const future = this.host.future<number | null>();
    if (this.raft.isLeader) {
      future.resolve(this.renew(lease));
      return future;
    }
    const leader = this.raft.leaderId;
    if (leader === null) {
      future.reject(new NoLeader(`${this.host.id} knows no leader`));
      return future;
    }
    const id = this.nextForward++;
    this.forwarded.set(id, future);
    this.host.send(leader, { type: 'etcd-lease', rpc: 'keepalive', id, lease } satisfies LessorWire, {
      label: 'lease-keepalive-forward',
    });
    const timer = this.host.timer(this.options.forwardTimeoutMs, 'lease-forward-timeout', () =>
      future.reject(new NoLeader(`leader ${leader} did not answer a forwarded keepalive`)),
    );
    future.onSettle(() => {
      timer.cancel();
      this.forwarded.delete(id);
    });
    return future;
  }

  /** Feed a peer message; false if it is not a lessor message. */
  handle(message: Message): boolean {
    const payload = message.payload;
    if (payload === null || typeof payload !== 'object' || (payload as { type?: unknown }).type !== 'etcd-lease')
      return false;
    const wire = payload as LessorWire;
    if (wire.rpc === 'keepalive') {
      const led = this.raft.isLeader;
      const reply: LessorWire = {
        type: 'etcd-lease',
        rpc: 'keepalive-reply',
        id: wire.id,
        led,
        ttlMs: led ? this.renew(wire.lease) : null,
      };
      this.host.send(message.from, reply, { label: 'lease-keepalive-forward-reply' });
    } else {
      const future = this.forwarded.get(wire.id);
      if (wire.led) future?.resolve(wire.ttlMs);
      else future?.reject(new NoLeader(`${message.from} is no longer the leader`));
    }
    return true;
  }

  /** Leader only. An expired lease cannot be renewed, even before its revoke commits. */
  private renew(lease: number): number | null {
    const ttlMs = this.store.ttlOf(lease);
    const deadline = this.deadlines.get(lease);
    if (ttlMs === undefined || deadline === undefined || deadline <= this.now()) return null;
    this.deadlines.set(lease, this.now() + ttlMs);
    return ttlMs;
  }

  private promote(): void {
    const epoch = ++this.epoch;
    const now = this.now();
    for (const [lease, ttlMs] of this.store.leaseTtls())
      this.deadlines.set(lease, now + ttlMs + this.options.promoteExtendMs);
    this.host.timer(this.options.checkIntervalMs, 'lease-check', () => this.revokeExpired(epoch));
  }

  private demote(): void {
    this.epoch++;
    this.deadlines.clear();
    this.revoking.clear();
  }

  private revokeExpired(epoch: number): void {
    if (epoch !== this.epoch) return;
    const now = this.now();
    let proposed = 0;
    for (const [lease, deadline] of this.deadlines) {
      if (proposed >= MAX_REVOKES_PER_CHECK) break;
      if (deadline > now || this.revoking.has(lease)) continue;
      this.revoking.add(lease);
      proposed++;
      this.raft.propose({ op: 'lease-revoke', lease }).onSettle(() => this.revoking.delete(lease));
    }
    this.host.timer(this.options.checkIntervalMs, 'lease-check', () => this.revokeExpired(epoch));
  }

  private now(): number {
    return this.host.clock.monotonic();
  }
}
