/**
 * A ZooKeeper server of a 3-node ensemble, as far as locks and leader election need one.
 *
 * Fault model. Servers crash and restart (with or without their disk), pause, and are cut off;
 * messages between them and to clients are delayed, held or lost. A server restarted without its
 * disk rejoins empty and catches up from the leader; lose a majority's disks and committed writes
 * can go, as in ZooKeeper. Through all the rest:
 *   - Writes go through the leader and commit once a majority has them. The log is the shared
 *     Raft-style quorum log (../shared/quorum/raft.ts), standing in for ZAB: for what a lock depends on,
 *     one leader at a time, a majority-committed total order and re-election under a new epoch,
 *     the two agree. The Raft term is the epoch; the log index is the zxid.
 *   - Reads go through the log too, so every read is linearizable and needs no `sync`. Each server
 *     answers its own clients once it has applied the transaction itself, so replies, watch
 *     events and session ends reach a client in the order of the log.
 *   - Sessions are timed by the leader alone, on its monotonic clock (model/sessions.ts): a wall-clock
 *     jump changes nothing. Followers answer pings themselves and relay the sessions they heard
 *     from to the leader every half tick. An expired session is closed through the log, which
 *     deletes its ephemerals and fires the watches on them on every server.
 *   - A new leader gives every session a fresh timeout; a leader that loses its majority steps
 *     down by its own clock (CheckQuorum), and stops timing sessions.
 *   - A server that knows no leader (looking for one) refuses clients, as a ZooKeeper server
 *     drops its clients while it is LOOKING; they move on to another server.
 *   - A client that reconnects elsewhere presents its session; the new server puts its claim on
 *     the session through the log (ZooKeeper revalidates with the leader and moves the session's
 *     owner), which fails if the session has ended. Requests still on their way through the old
 *     server are refused from then on (SessionMoved).
 * Left out: the wire-level ZAB recovery phases (the quorum log's election and catch-up stand in),
 * observers, ACLs, data and versions, child and data watches, the client's session password,
 * negotiation of the session timeout, quotas.
 */
import type { Host } from '../../sim/node.ts';
import { highestLeader } from '../shared/quorum/leader.ts';
import type { Message } from '../../sim/network.ts';
import { ServerEndpoint, type Incoming } from '../shared/endpoint/endpoint.ts';
import { RaftNode, type RaftOptions } from '../shared/quorum/raft.ts';
import { failure, ok, type Ops, type Push, type Reply } from './model/protocol.ts';
import { SessionTracker } from './model/sessions.ts';
import { DataTree, type Applied, type Txn } from './model/tree.ts';
import { WatchTable, type Watcher } from './model/watches.ts';

/** How the ensemble's clocks relate to the session timeout. */
export interface EnsembleTiming {
  /** ZooKeeper's tickTime: the session check runs once a tick, followers relay touches every half tick. */
  readonly tickMs: number;
  readonly raft: Omit<RaftOptions, 'servers'>;
}

/**
 * A tick is a tenth of the session timeout, so any timeout asked for is one ZooKeeper would grant
 * unchanged (it allows 2 to 20 ticks). The leader pings followers every half tick, as ZooKeeper's
 * does. A follower gives up on a silent leader after 3 to 6 ticks, standing for syncLimit plus the
 * randomness of fast leader election: an election ends well inside a session timeout. A forwarded
 * request that gets no answer in 2 ticks is refused, well inside a client's read timeout.
 */
export function ensembleTiming(sessionTimeoutMs: number): EnsembleTiming {
  const tickMs = sessionTimeoutMs / 10;
  return {
    tickMs,
    raft: { heartbeatMs: tickMs / 2, electionTimeoutMs: [3 * tickMs, 6 * tickMs], forwardTimeoutMs: 2 * tickMs },
  };
}

interface Origin {
  readonly server: string;
  readonly incarnation: number;
  readonly request: number;
}

/** A log entry: the transaction, and which server's client is waiting for it (null: the leader's own). */
interface Command {
  readonly txn: Txn;
  readonly origin: Origin | null;
}

interface Waiting {
  readonly request: Incoming;
  readonly watch: boolean;
}

/** A follower's report of the sessions it heard from, to the leader. */
interface TouchWire {
  readonly type: 'zk-touch';
  readonly sessions: number[];
}

/** Requests a server waits on at once; beyond it, it refuses, as a server whose queue is full. */
const MAX_WAITING = 100_000;

const servers = new WeakMap<Host, ZooKeeperServer>();

export class ZooKeeperServer {
  private readonly tree = new DataTree();
  private readonly tracker: SessionTracker;
  private readonly watches = new WatchTable();
  private readonly endpoint: ServerEndpoint;
  private readonly raft: RaftNode<Command, Reply>;
  private readonly waiting = new Map<number, Waiting>();
  private nextRequest = 0;
  /** The connection each session is served on here. */
  private readonly bound = new Map<number, Watcher>();
  /** Follower: sessions heard from since the last relay to the leader. */
  private readonly touched = new Set<number>();

  constructor(
    private readonly host: Host,
    ensemble: readonly string[],
    private readonly timing: EnsembleTiming,
  ) {
    this.tracker = new SessionTracker(() => host.clock.monotonic());
    this.endpoint = new ServerEndpoint(host, (request) => this.onRequest(request), {
      onPeer: (message) => this.onPeer(message),
      onClosed: (client, conn) => this.onClosed({ client, conn }),
    });
    this.raft = new RaftNode<Command, Reply>(
      host,
      { servers: ensemble, ...timing.raft },
      { apply: (command, zxid) => this.apply(command, zxid) },
    );
    this.raft.onLeadership((leading) => (leading ? this.lead() : this.tracker.reset([])));
    this.relayTouches();
  }

  get isLeader(): boolean {
    return this.raft.isLeader;
  }

  /** The leader's epoch: the quorum log's term. */
  get epoch(): number {
    return this.raft.term;
  }

  private onRequest(request: Incoming): void {
    if (this.raft.leaderId === null) {
      request.reply(failure('ConnectionLoss', `${this.host.id} knows no leader`));
      return;
    }
    const server = this.host.id;
    switch (request.op) {
      case 'connect': {
        const { session, timeoutMs } = request.body as Ops['connect']['body'];
        this.submit(
          request,
          session === null
            ? { type: 'create-session', server, timeoutMs }
            : { type: 'resume-session', server, session },
        );
        return;
      }
      case 'ping': {
        this.ping(request, (request.body as Ops['ping']['body']).session);
        return;
      }
      case 'close': {
        this.submit(request, {
          type: 'close-session',
          server,
          session: (request.body as Ops['close']['body']).session,
        });
        return;
      }
      case 'create': {
        const { session, path, mode } = request.body as Ops['create']['body'];
        this.submit(request, { type: 'create', server, session, path, mode });
        return;
      }
      case 'delete': {
        const { session, path } = request.body as Ops['delete']['body'];
        this.submit(request, { type: 'delete', server, session, path });
        return;
      }
      case 'children': {
        const { session, path } = request.body as Ops['children']['body'];
        this.submit(request, { type: 'children', server, session, path });
        return;
      }
      case 'exists': {
        const { session, path, watch } = request.body as Ops['exists']['body'];
        this.submit(request, { type: 'exists', server, session, path }, watch);
        return;
      }
      default: {
        request.reply(failure('BadArguments', `unknown operation '${request.op}'`));
        return;
      }
    }
  }

  private ping(request: Incoming, session: number): void {
    if (this.hasEnded(session)) {
      request.reply(failure('SessionExpired', `session ${session} has expired`));
      return;
    }
    this.touch(session);
    request.reply(ok(null));
  }

  /** Put `txn` in the log; the client is answered once this server has applied it. */
  private submit(request: Incoming, txn: Txn, watch = false): void {
    if (this.waiting.size >= MAX_WAITING) {
      request.reply(failure('ConnectionLoss', `${this.host.id} is overloaded`));
      return;
    }
    if ('session' in txn) this.touch(txn.session);
    const id = this.nextRequest++;
    this.waiting.set(id, { request, watch });
    const origin: Origin = { server: this.host.id, incarnation: this.host.incarnation, request: id };
    this.raft.submit({ txn, origin }).onSettle((committed, error) => {
      if (!committed && this.waiting.delete(id)) request.reply(failure('ConnectionLoss', (error as Error).message));
    });
  }

  /** The quorum log's state machine: apply to the tree, then tell whom it concerns here. */
  private apply(command: Command, zxid: number): Reply {
    const applied = this.tree.apply(command.txn, zxid);
    for (const path of applied.deleted) {
      for (const watcher of this.watches.take(path)) this.push(watcher, { kind: 'watch', path });
    }
    if (applied.openedSession !== null && this.raft.isLeader)
      this.tracker.add(applied.openedSession.id, applied.openedSession.timeoutMs);
    this.answer(command, applied);
    if (applied.closedSession !== null) this.sessionEnded(applied.closedSession);
    return applied.reply;
  }

  private answer(command: Command, applied: Applied): void {
    const origin = command.origin;
    if (origin === null || origin.server !== this.host.id || origin.incarnation !== this.host.incarnation) return;
    const waiting = this.waiting.get(origin.request);
    if (waiting === undefined) return;
    this.waiting.delete(origin.request);
    const { request } = waiting;
    const connection = { client: request.from, conn: request.conn };
    const txn = command.txn;
    if (applied.reply.ok && this.endpoint.isOpen(request.from, request.conn)) {
      if (txn.type === 'exists' && waiting.watch && applied.reply.value !== null)
        this.watches.add(txn.path, connection);
      if (txn.type === 'create-session' || txn.type === 'resume-session')
        this.bound.set((applied.reply.value as Ops['connect']['value']).session, connection);
    }
    request.reply(applied.reply);
  }

  /** Tell the session's connection here, if any, that it is over: ZooKeeper closes it, and the client learns why on reconnect. */
  private sessionEnded(session: number): void {
    this.tracker.remove(session);
    const connection = this.bound.get(session);
    if (connection === undefined) return;
    this.bound.delete(session);
    this.push(connection, { kind: 'expired', session });
  }

  private push(watcher: Watcher, body: Push): void {
    this.endpoint.push(watcher.client, watcher.conn, body, `zk-${body.kind}`);
  }

  private lead(): void {
    this.tracker.reset(this.tree.liveSessions());
    this.touched.clear();
    const term = this.raft.term;
    const check = () => {
      if (!this.raft.isLeader || this.raft.term !== term) return;
      for (const session of this.tracker.expire())
        this.raft.propose({ txn: { type: 'close-session', server: null, session }, origin: null });
      this.host.timer(this.timing.tickMs, 'zk-session-check', check);
    };
    this.host.timer(this.timing.tickMs, 'zk-session-check', check);
  }

  /** Whether this server knows the session is over: closed in its tree, or, on the leader, expired and closing. */
  private hasEnded(session: number): boolean {
    if (this.raft.isLeader && this.tracker.verdict(session) === 'closing') return true;
    return this.tree.sessionStatus(session) === 'closed';
  }

  private touch(session: number): void {
    if (this.raft.isLeader) this.tracker.touch(session);
    else this.touched.add(session);
  }

  private relayTouches(): void {
    const leader = this.raft.leaderId;
    if (leader !== null && leader !== this.host.id && this.touched.size > 0) {
      this.host.send(leader, { type: 'zk-touch', sessions: [...this.touched] } satisfies TouchWire, {
        label: 'zk-touch',
      });
    }
    this.touched.clear();
    this.host.timer(this.timing.tickMs / 2, 'zk-touch-relay', () => this.relayTouches());
  }

  private onPeer(message: Message): void {
    if (this.raft.handle(message)) return;
    const wire = message.payload as TouchWire | null | undefined;
    if (wire?.type === 'zk-touch' && this.raft.isLeader)
      for (const session of wire.sessions) this.tracker.touch(session);
  }

  private onClosed(connection: Watcher): void {
    this.watches.dropConnection(connection);
    for (const [session, bound] of this.bound) {
      if (bound.client === connection.client && bound.conn === connection.conn) this.bound.delete(session);
    }
  }
}

/** Boot a ZooKeeper server on `host`, one of `ensemble`; its log lives on the host's disk. */
export function zooKeeperServer(host: Host, ensemble: readonly string[], sessionTimeoutMs: number): ZooKeeperServer {
  const server = new ZooKeeperServer(host, ensemble, ensembleTiming(sessionTimeoutMs));
  servers.set(host, server);
  return server;
}

/** The server running on `host` now, if it runs one. */
export function serverOn(host: Host): ZooKeeperServer | undefined {
  return servers.get(host);
}

/** The leader of the highest epoch among the servers that believe they lead; null while there is none. */
export function ensembleLeader(ids: readonly string[], hostOf: (id: string) => Host): string | null {
  return highestLeader(ids, hostOf, (host) => {
    const server = serverOn(host);
    return server === undefined ? undefined : { isLeader: server.isLeader, term: server.epoch };
  });
}
