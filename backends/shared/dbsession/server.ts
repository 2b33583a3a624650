/**
 * A database server's sessions, as far as session-level locks need them: the part the PostgreSQL
 * and MySQL models share. Each system supplies a Dialect that runs its statements.
 *
 * Fault model. One server node. A session is a client connection: it starts with the connection's
 * first statement and ends when the connection closes, which releases every lock it holds and
 * cancels its wait. A connection closes when
 *   - the client's OS resets it: the client process crashed, or the client dropped it;
 *   - the server's TCP keepalive gives up on a silent client (the endpoint's keepalive): a
 *     partitioned client loses its session after about one keepalive timeout; a paused one does
 *     not, because its OS still answers the probes;
 *   - a newer connection from the same client node opens. The sim's client endpoint keeps one
 *     connection per server, so a newer one proves the older is gone on the client's side. The
 *     endpoint's keepalive would also end it, at its next probe (the client's OS resets probes on
 *     sockets it no longer has), but only after the idle time; this rule ends it at once.
 * A session runs one statement at a time, in arrival order, as a database backend does; a statement
 * waiting for a lock holds up the session's later ones.
 * A server crash ends every session and lock (they live in memory); its clients' connections are
 * reset by its OS. A statement on a connection this incarnation never saw open (a connection from
 * before a restart whose reset was lost) is refused as a reset: there is no such socket any more.
 * Left out: deadlock detection (a recipe session waits for one lock while holding none),
 * authentication, connection setup cost beyond the first round trip, idle-session timeouts.
 */
import type { Host, Timer } from '../../../sim/node.ts';
import { ServerEndpoint, type Incoming, type KeepaliveConfig } from '../endpoint/endpoint.ts';
import { LockTable, type SessionId } from './lock-table.ts';

/** The answer to a statement on a connection without a session; the sim port reports ConnectionLost. */
export const NO_SESSION = 'connection reset: no session for this connection';

/** Statements one session may have queued behind the running one: clients send one at a time, so this is a bound, not a buffer. */
export const MAX_QUEUED_STATEMENTS = 64;

/** What a statement comes to. */
export type Outcome =
  | { readonly kind: 'reply'; readonly value: unknown }
  | { readonly kind: 'error'; readonly message: string }
  /**
   * Take lock `key`, waiting up to `timeoutMs` of the server's clock (null: for ever, 0: not at
   * all), then reply `granted`, or `timedOut` if the wait ran out.
   */
  | {
      readonly kind: 'lock';
      readonly key: string;
      readonly timeoutMs: number | null;
      readonly granted: unknown;
      readonly timedOut: unknown;
    };

/** What one database system does differently: its statements and its connection limit. */
export interface Dialect {
  /** max_connections: a session beyond it is refused with `tooManyConnections`. */
  readonly maxConnections: number;
  readonly tooManyConnections: string;
  /** Run one statement of `session`. `ping` (SELECT 1) and session bookkeeping are handled here. */
  execute(op: string, body: Readonly<Record<string, unknown>>, session: SessionId, locks: LockTable): Outcome;
}

/** The first statement on a new connection says so, as a real client's startup message does. */
export interface StatementBody {
  readonly startup?: boolean;
}

interface Session {
  readonly id: SessionId;
  readonly client: string;
  readonly queue: Incoming[];
  running: Incoming | null;
  waiting: { readonly granted: unknown; readonly timer: Timer | null } | null;
}

export class DbServer {
  readonly locks: LockTable;
  private readonly sessions = new Map<SessionId, Session>();
  /** Grants made by a release, answered once the release is done, so the table is never re-entered. */
  private readonly grants: { session: SessionId; key: string }[] = [];
  private settling = false;

  constructor(
    private readonly host: Host,
    private readonly dialect: Dialect,
    keepalive: KeepaliveConfig,
  ) {
    this.locks = new LockTable((session, key) => this.grants.push({ session, key }));
    new ServerEndpoint(host, (request) => this.onRequest(request), {
      keepalive,
      onClosed: (client, conn) => {
        this.endSession(sessionId(client, conn));
        this.settle();
      },
    });
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private onRequest(request: Incoming): void {
    this.admit(request);
    this.settle();
  }

  /** Queue the statement on its session, opening the session if this is its connection's first. */
  private admit(request: Incoming): void {
    const id = sessionId(request.from, request.conn);
    let session = this.sessions.get(id);
    if (session === undefined) {
      if ((request.body as StatementBody | null)?.startup !== true) {
        request.fail(NO_SESSION);
        return;
      }
      // The client's older connections are dead on its side: see the fault model.
      for (const older of [...this.sessions.values()]) if (older.client === request.from) this.endSession(older.id);
      if (this.sessions.size >= this.dialect.maxConnections) {
        request.fail(this.dialect.tooManyConnections);
        return;
      }
      session = { id, client: request.from, queue: [], running: null, waiting: null };
      this.sessions.set(id, session);
    }
    if (session.queue.length >= MAX_QUEUED_STATEMENTS) {
      request.fail(`more than ${MAX_QUEUED_STATEMENTS} statements queued on one session`);
      return;
    }
    session.queue.push(request);
    this.pump(session);
  }

  /** Run the session's queued statements until one has to wait for a lock. */
  private pump(session: Session): void {
    while (session.running === null && this.sessions.get(session.id) === session) {
      const request = session.queue.shift();
      if (request === undefined) return;
      session.running = request;
      this.run(session, request);
    }
  }

  private run(session: Session, request: Incoming): void {
    if (request.op === 'ping') {
      this.answer(session, { kind: 'reply', value: null });
      return;
    }
    const outcome = this.dialect.execute(
      request.op,
      (request.body ?? {}) as Record<string, unknown>,
      session.id,
      this.locks,
    );
    if (outcome.kind !== 'lock') {
      this.answer(session, outcome);
      return;
    }
    if (this.locks.tryAcquire(session.id, outcome.key)) {
      this.answer(session, { kind: 'reply', value: outcome.granted });
      return;
    }
    if (outcome.timeoutMs === 0) {
      this.answer(session, { kind: 'reply', value: outcome.timedOut });
      return;
    }
    this.locks.wait(session.id, outcome.key);
    const timer =
      outcome.timeoutMs === null
        ? null
        : this.host.timer(outcome.timeoutMs, 'lock-wait-timeout', () => {
            if (session.waiting?.timer !== timer) return;
            this.locks.cancelWait(session.id);
            session.waiting = null;
            this.answer(session, { kind: 'reply', value: outcome.timedOut });
            this.pump(session);
            this.settle();
          });
    session.waiting = { granted: outcome.granted, timer };
  }

  private answer(session: Session, outcome: Exclude<Outcome, { kind: 'lock' }>): void {
    const request = session.running;
    if (request === null) throw new Error(`session ${session.id} got an answer with no statement running`);
    session.running = null;
    if (outcome.kind === 'reply') request.reply(outcome.value);
    else request.fail(outcome.message);
  }

  /** Answer every statement a release granted its lock to, and run what queued up behind it. */
  private settle(): void {
    if (this.settling) return;
    this.settling = true;
    for (let grant = this.grants.shift(); grant !== undefined; grant = this.grants.shift()) {
      const session = this.sessions.get(grant.session);
      // Granted, then ended before its answer went out: ending it let go of the lock again.
      if (session === undefined) continue;
      if (session.waiting === null)
        throw new Error(`lock '${grant.key}' granted to session ${grant.session}, which is not waiting`);
      session.waiting.timer?.cancel();
      const granted = session.waiting.granted;
      session.waiting = null;
      this.answer(session, { kind: 'reply', value: granted });
      this.pump(session);
    }
    this.settling = false;
  }

  private endSession(id: SessionId): void {
    const session = this.sessions.get(id);
    if (session === undefined) return;
    this.sessions.delete(id);
    session.waiting?.timer?.cancel();
    session.waiting = null;
    session.queue.length = 0;
    session.running = null;
    this.locks.endSession(id);
  }
}

/** The map stored under `key` on the host's disk, created on first boot: a model's durable data. */
export function durableMap<V>(host: Host, key: string): Map<string, V> {
  let map = host.disk.get(key) as Map<string, V> | undefined;
  if (map === undefined) {
    map = new Map();
    host.disk.set(key, map);
  }
  return map;
}

function sessionId(client: string, conn: string): SessionId {
  return `${client}/${conn}`;
}
