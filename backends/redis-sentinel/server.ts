/**
 * A data node of a replicated Redis: a primary or a replica, as far as locks need one.
 *
 * Fault model. The keyspace and its commands are single Redis's (../redis/server.ts: expiry by
 * the node's wall clock, atomic commands). On top of it, Redis 7.0's asynchronous replication:
 *   - The primary answers a write first and sends it to its replicas after (replication.c
 *     feeds the stream from call(), the bytes leave on the next event-loop turn): a write the
 *     primary acknowledged may be on no replica when the primary dies. Each change travels as
 *     its effect, the key's value with its absolute expiry (Redis 7 propagates relative
 *     expiries as PEXPIREAT), numbered by the replication offset.
 *   - A replica acks its offset every second (REPLCONF ACK) and right away when the primary asks
 *     (GETACK, for WAIT). A replica that missed part of the stream (a dropped packet, a
 *     partition) gets the rest from the primary's backlog at its next ack, or the whole dataset
 *     (a full sync) when the primary does not know its history: another replication id, after a
 *     failover. A demoted primary therefore loses the writes it took alone, as Redis's does.
 *     (PSYNC2's continuation across a failover is drawn as a full sync: the data is the same.)
 *   - A replica refuses writes (READONLY) and judges expiry on reads by its own clock.
 *   - min-replicas-to-write N / min-replicas-max-lag S: the primary refuses writes (NOREPLICAS)
 *     while fewer than N replicas acked within S whole seconds (replicationCron's lag).
 *   - WAIT n t: answers once n replicas acked this connection's last write, or after t ms with
 *     how many had (the primary counts acks, nothing more: a write WAIT saw on one replica is
 *     still lost if another replica is promoted).
 *   - Sentinel's REPLICAOF (promote, or follow another primary) comes with CLIENT KILL, as
 *     Sentinel sends it: every client connection is reset, and clients find the primary again.
 *   - The keyspace and the replication offset live on the node's disk: a restart with persistence
 *     (AOF with fsync always) keeps them, one without comes back empty. The role lives in its
 *     configuration file, which Sentinel's REPLICAOF rewrites (CONFIG REWRITE) and every restart
 *     keeps: a primary restarted without persistence before Sentinel notices comes back as an
 *     empty primary, and its replicas copy the emptiness (Redis's documented danger of a primary
 *     without persistence).
 * Left out: sub-replicas, the 60 s repl-timeout (runs are shorter), replica priorities, the
 * backlog's size limit (the stream of a run fits), eviction, memory limits.
 */
import type { Host } from '../../sim/node.ts';
import type { Message } from '../../sim/network.ts';
import { ServerEndpoint, type Incoming } from '../shared/endpoint/endpoint.ts';
import type { SentinelOptions } from '../system.ts';
import { RedisModel, type Entry, type RedisCommand } from '../redis/server.ts';

/** A replica's periodic REPLCONF ACK. */
export const ACK_PERIOD_MS = 1000;

/**
 * The recipe's commands, WAIT and ROLE. Not the general command interface (`cmd`) that lock
 * libraries use on single Redis: replicating arbitrary commands and scripts is not modelled, so
 * third-party subjects run on redis-sentinel only live.
 */
export type DataCommand =
  | Exclude<RedisCommand, { op: 'cmd' }>
  | { op: 'wait'; replicas: number; timeoutMs: number }
  | { op: 'role' };

/** One change of the replication stream: a key's new entry, or its deletion. */
interface Change {
  readonly offset: number;
  readonly key: string;
  readonly entry: Entry | null;
}

/** What a data node tells a Sentinel in answer to its ping: the parts of INFO replication Sentinel reads. */
export interface InstanceInfo {
  readonly role: 'master' | 'slave';
  /** Whose replica it is; null for a primary. */
  readonly replicaOf: string | null;
  readonly offset: number;
}

/** Messages between data nodes, and between data nodes and Sentinels. */
export type PeerMessage =
  | { type: 'repl-ack'; replid: string; offset: number }
  | { type: 'repl-stream'; replid: string; changes: readonly Change[] }
  | { type: 'repl-full'; replid: string; offset: number; data: readonly (readonly [string, Entry])[] }
  | { type: 'repl-getack' }
  | { type: 'sentinel-ping' }
  | { type: 'sentinel-pong'; info: InstanceInfo }
  | { type: 'sentinel-hello'; hello: unknown }
  | { type: 'sentinel-replicaof'; primary: string | null };

/** A data node's state: its keyspace and where it stands in replication. On its disk. */
export interface DataState {
  readonly data: Map<string, Entry>;
  replid: string;
  offset: number;
  /** Every change this node has applied, in order (offset i at index i - 1 - backlogStart). */
  backlog: Change[];
  backlogStart: number;
}

/** Its role, as its configuration file says it: whose replica it is (null: a primary). */
export interface DataRole {
  replicaOf: string | null;
  /** Bumped at each promotion, for fresh replication ids. */
  promotions: number;
}

export const DATA_STATE = 'redis-sentinel.state';
export const DATA_ROLE = 'redis-sentinel.conf';

interface Replica {
  offset: number;
  ackAtMs: number;
}

interface Waiter {
  readonly target: number;
  readonly replicas: number;
  readonly request: Incoming;
  readonly cancel: () => void;
}

const WRITES = new Set(['set-nx-px', 'del-if-equal', 'pexpire-if-equal', 'incr']);

/** Boot data node `index` (1-based): server-1 starts as the primary, the others as its replicas. */
export function dataNode(host: Host, index: number, servers: readonly string[], options: SentinelOptions): void {
  let role = host.config.get(DATA_ROLE) as DataRole | undefined;
  if (role === undefined) {
    const primary = servers[0];
    if (primary === undefined) throw new Error('redis-sentinel: a data node needs the servers');
    role = { replicaOf: index === 1 ? null : primary, promotions: 0 };
    host.config.set(DATA_ROLE, role);
  }
  let state = host.disk.get(DATA_STATE) as DataState | undefined;
  if (state === undefined) {
    state = { data: new Map(), replid: `${host.id}.${host.incarnation}`, offset: 0, backlog: [], backlogStart: 0 };
    host.disk.set(DATA_STATE, state);
  }
  new DataNode(host, state, role, options);
}

class DataNode {
  private readonly model: RedisModel;
  private readonly endpoint: ServerEndpoint;
  private readonly replicas = new Map<string, Replica>();
  /** The replication offset after each client connection's last write, for WAIT. */
  private readonly lastWrite = new Map<string, number>();
  private waiters: Waiter[] = [];
  /** Sentinels that pinged this node: its hello channel's subscribers. */
  private readonly subscribers = new Set<string>();

  constructor(
    private readonly host: Host,
    private readonly state: DataState,
    private readonly role: DataRole,
    private readonly options: SentinelOptions,
  ) {
    this.model = new RedisModel(state.data);
    this.endpoint = new ServerEndpoint(host, (request) => this.onRequest(request), {
      onPeer: (message) => this.onPeer(message),
    });
    // A replica connects to its primary as it starts, and acks every second from then on.
    this.ack();
    this.ackLoop();
  }

  private onRequest(request: Incoming): void {
    const command = request.body as DataCommand;
    if (command.op === 'role') {
      request.reply(this.role.replicaOf === null ? 'master' : 'slave');
      return;
    }
    if (command.op === 'wait') {
      this.wait(request, command.replicas, command.timeoutMs);
      return;
    }
    const writes = WRITES.has(command.op);
    if (writes && this.role.replicaOf !== null) {
      request.fail("READONLY You can't write against a read only replica.");
      return;
    }
    if (writes && this.options.minReplicasToWrite > 0 && this.goodReplicas() < this.options.minReplicasToWrite) {
      request.fail('NOREPLICAS Not enough good replicas to write.');
      return;
    }
    const before = this.state.data.get(command.key);
    const snapshot = before === undefined ? undefined : { ...before };
    let reply;
    try {
      reply = this.model.execute(command, this.host.clock.now());
    } catch (error) {
      request.fail((error as Error).message);
      return;
    }
    // Reads on a primary may expire a key: Redis propagates that DEL too.
    if (this.role.replicaOf === null) {
      const after = this.state.data.get(command.key);
      if (!sameEntry(snapshot, after)) this.propagate(command.key, after === undefined ? null : { ...after });
      if (writes) this.lastWrite.set(connectionKey(request), this.state.offset);
    }
    request.reply(reply);
  }

  /** Apply a change to the stream: number it, keep it, and send it to every replica. */
  private propagate(key: string, entry: Entry | null): void {
    const change = { offset: this.state.offset + 1, key, entry };
    this.append(change);
    for (const replica of this.replicas.keys())
      this.send(replica, { type: 'repl-stream', replid: this.state.replid, changes: [change] });
  }

  private append(change: Change): void {
    this.state.backlog.push(change);
    this.state.offset = change.offset;
  }

  private goodReplicas(): number {
    const nowMs = this.host.clock.monotonic();
    let good = 0;
    for (const replica of this.replicas.values())
      if (Math.floor((nowMs - replica.ackAtMs) / 1000) <= this.options.minReplicasMaxLagS) good++;
    return good;
  }

  private wait(request: Incoming, replicas: number, timeoutMs: number): void {
    if (this.role.replicaOf !== null) {
      request.fail('ERR WAIT cannot be used with replica instances.');
      return;
    }
    const target = this.lastWrite.get(connectionKey(request)) ?? 0;
    if (this.acked(target) >= replicas) {
      request.reply(this.acked(target));
      return;
    }
    const timer = this.host.timer(timeoutMs, 'wait-timeout', () => {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      request.reply(this.acked(target));
    });
    const waiter: Waiter = { target, replicas, request, cancel: () => timer.cancel() };
    this.waiters.push(waiter);
    for (const replica of this.replicas.keys()) this.send(replica, { type: 'repl-getack' });
  }

  private acked(offset: number): number {
    let count = 0;
    for (const replica of this.replicas.values()) if (replica.offset >= offset) count++;
    return count;
  }

  private onPeer(message: Message): void {
    const body = message.payload as PeerMessage;
    switch (body.type) {
      case 'repl-ack':
        this.onAck(message.from, body.replid, body.offset);
        return;
      case 'repl-stream':
        if (message.from === this.role.replicaOf && body.replid === this.state.replid) this.applyStream(body.changes);
        return;
      case 'repl-full':
        if (message.from === this.role.replicaOf) this.applyFull(body.replid, body.offset, body.data);
        return;
      case 'repl-getack':
        if (message.from === this.role.replicaOf) this.ack();
        return;
      case 'sentinel-ping':
        this.subscribers.add(message.from);
        this.send(message.from, { type: 'sentinel-pong', info: this.info() });
        return;
      case 'sentinel-hello':
        for (const sentinel of this.subscribers) if (sentinel !== message.from) this.send(sentinel, body);
        return;
      case 'sentinel-replicaof':
        this.replicaOf(body.primary);
        return;
      case 'sentinel-pong':
        return;
    }
  }

  info(): InstanceInfo {
    const { offset } = this.state;
    const { replicaOf } = this.role;
    return { role: replicaOf === null ? 'master' : 'slave', replicaOf, offset };
  }

  /** A replica's ack: record it, answer WAITs, and send what it misses (the rest of the stream, or everything). */
  private onAck(replica: string, replid: string, offset: number): void {
    if (this.role.replicaOf !== null) return;
    const { state } = this;
    const known = replid === state.replid && offset <= state.offset && offset >= state.backlogStart;
    if (known) {
      this.replicas.set(replica, { offset, ackAtMs: this.host.clock.monotonic() });
      const missing = state.backlog.slice(offset - state.backlogStart);
      if (missing.length > 0) this.send(replica, { type: 'repl-stream', replid: state.replid, changes: missing });
      this.settleWaiters();
    } else {
      // A full sync: the replica acks the new offset once it has loaded the data.
      this.replicas.set(replica, { offset: -1, ackAtMs: this.host.clock.monotonic() });
      const data = [...state.data.entries()].map(([key, entry]) => [key, { ...entry }] as const);
      this.send(replica, { type: 'repl-full', replid: state.replid, offset: state.offset, data });
    }
  }

  private settleWaiters(): void {
    this.waiters = this.waiters.filter((waiter) => {
      const count = this.acked(waiter.target);
      if (count < waiter.replicas) return true;
      waiter.cancel();
      waiter.request.reply(count);
      return false;
    });
  }

  private applyStream(changes: readonly Change[]): void {
    for (const change of changes) {
      if (change.offset <= this.state.offset) continue;
      // A gap: a change was lost on the way; the next ack asks for it again.
      if (change.offset !== this.state.offset + 1) return;
      if (change.entry === null) this.state.data.delete(change.key);
      else this.state.data.set(change.key, { ...change.entry });
      this.append(change);
    }
  }

  private applyFull(replid: string, offset: number, data: readonly (readonly [string, Entry])[]): void {
    const { state } = this;
    state.data.clear();
    for (const [key, entry] of data) state.data.set(key, { ...entry });
    state.replid = replid;
    state.offset = offset;
    state.backlog = [];
    state.backlogStart = offset;
    this.ack();
  }

  /** Sentinel's REPLICAOF with CLIENT KILL: take the new role, and reset every client connection. */
  private replicaOf(primary: string | null): void {
    const { state, role } = this;
    if (primary === this.host.id) return;
    if (primary === null && role.replicaOf !== null) {
      role.promotions++;
      state.replid = `${this.host.id}.${this.host.incarnation}.${role.promotions}`;
      // The backlog goes on from the offset reached: a replica of the same history could continue.
      state.backlog = [];
      state.backlogStart = state.offset;
    }
    role.replicaOf = primary;
    this.replicas.clear();
    this.lastWrite.clear();
    for (const waiter of this.waiters) {
      waiter.cancel();
      waiter.request.fail('UNBLOCKED force unblock from blocking operation, instance state changed');
    }
    this.waiters = [];
    this.endpoint.resetAll();
    if (primary !== null) this.ack();
  }

  private ack(): void {
    const { replid, offset } = this.state;
    const { replicaOf } = this.role;
    if (replicaOf !== null) this.send(replicaOf, { type: 'repl-ack', replid, offset });
  }

  private ackLoop(): void {
    this.host.timer(ACK_PERIOD_MS, 'repl-ack', () => {
      this.ack();
      this.ackLoop();
    });
  }

  private send(to: string, message: PeerMessage): void {
    this.host.send(to, message, { label: message.type });
  }
}

function connectionKey(request: Incoming): string {
  return `${request.from}\u0000${request.conn}`;
}

function sameEntry(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.value === b.value && a.expiresAtMs === b.expiresAtMs;
}
