/**
 * An etcd server, as far as locks and elections need one: a member of a Raft cluster serving a
 * revisioned key-value store, leases, and delete watches.
 *
 * Fault model.
 *   - Members crash, restart, pause and are partitioned (the kernel). Writes and reads go through
 *     the Raft log (backends/shared/quorum/raft.ts), so they need a leader and a majority; a member cut
 *     off in a minority answers `unavailable` and its leader steps down by CheckQuorum.
 *   - Term, vote and log are on the member's disk; a restart without persistence comes back
 *     empty and catches up from the leader. The store, the lease deadlines and the watches are
 *     volatile: the store is rebuilt by replaying the log, deadlines restart on promotion.
 *   - Leases are timed by the leader alone, on its *monotonic* clock (etcd uses Go's monotonic
 *     time), so a wall-clock jump on any member changes nothing; drift on the leader's clock
 *     stretches or shrinks every lease it times. An expired lease is revoked through the log,
 *     which deletes its keys at one revision. A new leader gives every lease a fresh TTL plus an
 *     election timeout, so a lease can outlive its TTL by that much across an election, never
 *     expire early because of one.
 *   - Keepalives reach the leader from any member (forwarded, not logged); while a deposed leader
 *     has not yet stepped down it still renews in its own memory, which the new leader's fresh
 *     TTL covers.
 *   - A watch lives on the member that set it, fed by that member's applied store: a lagging
 *     member delivers late, a crashed one resets the connection and the client sets it again.
 * Left out: serializable (local) reads, lease checkpoints, leader leases, learners, membership
 * changes, compaction beyond a bounded delete history, etcd's rounding of TTLs to seconds.
 */
import type { Host } from '../../sim/node.ts';
import type { Message } from '../../sim/network.ts';
import { RaftNode, type RaftOptions } from '../shared/quorum/raft.ts';
import { ServerEndpoint, type Incoming } from '../shared/endpoint/endpoint.ts';
import { Lessor, type LessorOptions } from './model/lessor.ts';
import { EtcdStore, type Applied, type EtcdCommand } from './model/store.ts';
import { Watches } from './model/watches.ts';

export interface EtcdServerOptions extends LessorOptions {
  readonly heartbeatMs: number;
  readonly electionTimeoutMs: readonly [number, number];
  /** Smallest lease TTL the server grants; smaller requests are raised to it. */
  readonly minTtlMs: number;
}

/** The prefix of every reply that means "no leader could say": the client may retry elsewhere. */
export const UNAVAILABLE = 'unavailable';

const LOGGED_OPS = new Set<EtcdCommand['op']>([
  'lease-grant',
  'lease-revoke',
  'put-if-absent',
  'get',
  'range',
  'delete',
]);

/** Each live server's Raft node, so the harness can ask who leads. */
const rafts = new WeakMap<Host, RaftNode<EtcdCommand, Applied>>();

/** The Raft node an etcd server runs on `host`, if it runs one. */
export function raftOf(host: Host): RaftNode<EtcdCommand, Applied> | undefined {
  return rafts.get(host);
}

/** Boot etcd member `host` of the cluster `servers`. */
export function etcdServer(host: Host, servers: readonly string[], options: EtcdServerOptions): void {
  const store = new EtcdStore(options.minTtlMs, {
    leaseGranted: (lease, ttlMs) => lessor.granted(lease, ttlMs),
    leaseRevoked: (lease) => lessor.revoked(lease),
    keyDeleted: (key, revision) => watches.deleted(key, revision),
  });
  const raftOptions: RaftOptions = {
    servers,
    electionTimeoutMs: options.electionTimeoutMs,
    heartbeatMs: options.heartbeatMs,
    forwardTimeoutMs: options.forwardTimeoutMs,
  };
  const raft = new RaftNode<EtcdCommand, Applied>(host, raftOptions, store);
  const lessor = new Lessor(host, raft, store, options);
  const watches = new Watches(store, (client, conn, event) => endpoint.push(client, conn, event, 'watch-event'));
  const endpoint = new ServerEndpoint(host, (request) => serve(request, raft, lessor, watches), {
    onClosed: (client, conn) => watches.closed(client, conn),
    onPeer: (message: Message) => raft.handle(message) || lessor.handle(message),
  });
  rafts.set(host, raft);
}

function serve(request: Incoming, raft: RaftNode<EtcdCommand, Applied>, lessor: Lessor, watches: Watches): void {
  const body = request.body as Record<string, unknown>;
  if (request.op === 'lease-keepalive') {
    lessor
      .keepAlive(body.lease as number)
      .onSettle((ok, value) => (ok ? request.reply(value) : request.fail(unavailable(value))));
  } else if (request.op === 'watch') {
    const reply = watches.watch(
      request.from,
      request.conn,
      body.watchId as number,
      body.key as string,
      body.fromRevision as number,
    );
    if (reply.ok) request.reply(reply.deletedAt);
    else request.fail(reply.error);
  } else if (request.op === 'unwatch') {
    watches.cancel(request.from, request.conn, body.watchId as number);
    request.reply(true);
  } else if (LOGGED_OPS.has(request.op as EtcdCommand['op'])) {
    raft.submit({ ...body, op: request.op } as EtcdCommand).onSettle((ok, value) => {
      if (!ok) {
        request.fail(unavailable(value));
        return;
      }
      const applied = value as Applied;
      if (applied.ok) request.reply(applied.body);
      else request.fail(applied.error);
    });
  } else {
    request.fail(`unknown operation '${request.op}'`);
  }
}

function unavailable(error: unknown): string {
  return `${UNAVAILABLE}: ${error instanceof Error ? error.message : String(error)}`;
}
