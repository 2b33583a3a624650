/**
 * Client and server ends of a simulated TCP connection, shared by every system's sim model.
 *
 * Fault model. A client talks to a server over a connection, named by the client's incarnation
 * and a counter, so a restarted client never inherits its predecessor's session. A connection
 * ends when
 *   - either process crashes: its OS resets the connection, and the peer learns at once (if the
 *     reset packet gets through);
 *   - the server's keepalive gives up: after `idleMs` of silence it probes the client's OS every
 *     `intervalMs`, and after `count` unanswered probes declares the connection dead; a probe on a
 *     socket the client's OS no longer has is answered with a reset. A paused
 *     client's OS still answers, so a pause alone never ends a connection; a partition does.
 *   - A paused process runs nothing: its kernel takes a reset at once (the socket is gone), but
 *     the process sees it, and acts on it (ending a session, freeing its locks, failing its
 *     requests), only when it resumes. So a SIGSTOPped database backend cannot hand a lock over
 *     while it is stopped, as real PostgreSQL and MariaDB do not (seen live).
 * Requests time out on the client (`TimeoutError`: outcome unknown). A request on a connection
 * that is reset fails with ConnectionLost. Nothing is retransmitted: packets lost in a `drop`
 * partition are gone, which is how a connection that times out behaves.
 */
import { TimeoutError } from '../../../sim/errors.ts';
import { ConnectionLost, RemoteError } from '../../errors.ts';
import type { Host, Timer } from '../../../sim/node.ts';
import type { Future } from '../../../sim/future.ts';
import type { Message } from '../../../sim/network.ts';

type Wire =
  | { type: 'req'; id: number; conn: string; op: string; body: unknown }
  | { type: 'res'; id: number; ok: boolean; body: unknown }
  | { type: 'push'; conn: string; body: unknown };

type OsWire = { type: 'probe'; conn: string } | { type: 'ack'; conn: string } | { type: 'rst'; conn: string };

interface Pending {
  readonly server: string;
  readonly conn: string;
  readonly future: Future<unknown>;
  readonly timer: Timer;
}

const clients = new WeakMap<Host, ClientEndpoint>();

/** A client node's connections to any number of servers. One per host incarnation. */
export class ClientEndpoint {
  private nextRequest = 0;
  private nextConnection = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly connections = new Map<string, string>();
  private readonly pushHandlers = new Map<string, (body: unknown, conn: string) => void>();
  private readonly resetHandlers = new Map<string, (conn: string) => void>();

  static of(host: Host): ClientEndpoint {
    let endpoint = clients.get(host);
    if (endpoint === undefined) {
      endpoint = new ClientEndpoint(host);
      clients.set(host, endpoint);
    }
    return endpoint;
  }

  private constructor(private readonly host: Host) {
    host.onMessage((message) => this.onMessage(message));
    host.onOsMessage((message) => this.onOsMessage(message));
    host.onCrash((os) => {
      for (const [server, conn] of this.connections) os.send(server, { type: 'rst', conn } satisfies OsWire);
    });
  }

  /** The connection to `server` that requests go on now; opened on first use. */
  connection(server: string): string {
    let conn = this.connections.get(server);
    if (conn === undefined) {
      conn = `${this.host.incarnation}.${this.nextConnection++}`;
      this.connections.set(server, conn);
    }
    return conn;
  }

  /** Send `op` to `server` and wait for its reply; TimeoutError after `timeoutMs` of local time. */
  request<T>(server: string, op: string, body: unknown, timeoutMs: number): Future<T> {
    const id = this.nextRequest++;
    const conn = this.connection(server);
    const future = this.host.future<unknown>();
    const timer = this.host.timer(timeoutMs, 'request-timeout', () => this.expire(id, timeoutMs));
    this.pending.set(id, { server, conn, future, timer });
    this.host.send(server, { type: 'req', id, conn, op, body } satisfies Wire, { label: op });
    return future as Future<T>;
  }

  private expire(id: number, timeoutMs: number): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    pending.future.reject(new TimeoutError(`no reply from ${pending.server} within ${timeoutMs}ms`));
  }

  /** Messages the server pushes on its own (watch events, session news). */
  onPush(server: string, handler: (body: unknown, conn: string) => void): void {
    this.pushHandlers.set(server, handler);
  }

  /** Called when the server resets the connection (its process crashed). */
  onReset(server: string, handler: (conn: string) => void): void {
    this.resetHandlers.set(server, handler);
  }

  /** Drop the connection to `server` from this side; the next request opens a new one. */
  reconnect(server: string): void {
    const conn = this.connections.get(server);
    if (conn === undefined) return;
    this.connections.delete(server);
    this.host.send(server, { type: 'rst', conn } satisfies OsWire, { layer: 'os' });
    this.failPending(server, conn, 'closed by the client');
  }

  private onMessage(message: Message): void {
    const wire = message.payload as Wire;
    if (wire.type === 'res') {
      const pending = this.pending.get(wire.id);
      if (pending === undefined) return;
      this.pending.delete(wire.id);
      pending.timer.cancel();
      if (wire.ok) pending.future.resolve(wire.body);
      else pending.future.reject(new RemoteError(String(wire.body)));
    } else if (wire.type === 'push') {
      if (this.connections.get(message.from) === wire.conn) this.pushHandlers.get(message.from)?.(wire.body, wire.conn);
    }
  }

  private onOsMessage(message: Message): void {
    const wire = message.payload as OsWire;
    if (wire.type === 'probe') {
      // The OS acks a probe on a socket it has; one it does not know (closed, or from before a
      // restart) it answers with a reset, as TCP does.
      const known = this.connections.get(message.from) === wire.conn;
      this.host.send(message.from, { type: known ? 'ack' : 'rst', conn: wire.conn } satisfies OsWire, { layer: 'os' });
    } else if (wire.type === 'rst' && this.connections.get(message.from) === wire.conn) {
      // The kernel drops the socket now; the process learns of it when it next runs.
      this.connections.delete(message.from);
      this.host.whenRunning('reset-seen', () => {
        this.failPending(message.from, wire.conn, 'reset by the server');
        this.resetHandlers.get(message.from)?.(wire.conn);
      });
    }
  }

  private failPending(server: string, conn: string, why: string): void {
    for (const [id, pending] of this.pending) {
      if (pending.server === server && pending.conn === conn) {
        this.pending.delete(id);
        pending.timer.cancel();
        pending.future.reject(new ConnectionLost(`connection ${conn} to ${server} ${why}`));
      }
    }
  }
}

export interface Incoming {
  readonly from: string;
  readonly conn: string;
  readonly op: string;
  readonly body: unknown;
  reply(body: unknown): void;
  fail(error: string): void;
}

/** TCP keepalive as the server's kernel runs it. */
export interface KeepaliveConfig {
  readonly idleMs: number;
  readonly intervalMs: number;
  readonly count: number;
}

export type CloseReason = 'reset' | 'keepalive';

const KEEPALIVE_EPSILON_MS = 1e-6;

export interface ServerOptions {
  /** Probe silent clients and close their connections when they stop answering. */
  readonly keepalive?: KeepaliveConfig;
  /** A client connection ended. */
  readonly onClosed?: (client: string, conn: string, reason: CloseReason) => void;
  /** Messages that are not client requests: peer traffic between servers. */
  readonly onPeer?: (message: Message) => void;
}

interface Connection {
  readonly client: string;
  readonly conn: string;
  lastHeardMs: number;
  unanswered: number;
  open: boolean;
}

/** One client request as the server's handler sees it; answered at most once, and not on a closed connection. */
class Request implements Incoming {
  private answered = false;

  constructor(
    private readonly host: Host,
    readonly from: string,
    private readonly wire: Extract<Wire, { type: 'req' }>,
    private readonly connection: Connection,
  ) {}

  get conn(): string {
    return this.wire.conn;
  }

  get op(): string {
    return this.wire.op;
  }

  get body(): unknown {
    return this.wire.body;
  }

  reply(body: unknown): void {
    this.answer(true, body);
  }

  fail(error: string): void {
    this.answer(false, error);
  }

  private answer(ok: boolean, body: unknown): void {
    if (this.answered || !this.connection.open) return;
    this.answered = true;
    this.host.send(this.from, { type: 'res', id: this.wire.id, ok, body } satisfies Wire, { label: 'reply' });
  }
}

/** A server node's side of its client connections. */
export class ServerEndpoint {
  private readonly connections = new Map<string, Connection>();

  constructor(
    private readonly host: Host,
    private readonly handler: (request: Incoming) => void,
    private readonly options: ServerOptions = {},
  ) {
    host.onMessage((message) => this.onMessage(message));
    host.onOsMessage((message) => this.onOsMessage(message));
    host.onCrash((os) => {
      for (const c of this.connections.values())
        if (c.open) os.send(c.client, { type: 'rst', conn: c.conn } satisfies OsWire);
    });
  }

  /** Send `body` to a client connection unprompted; dropped if that connection has closed. */
  push(client: string, conn: string, body: unknown, label = 'push'): void {
    if (this.connections.get(key(client, conn))?.open !== true) return;
    this.host.send(client, { type: 'push', conn, body } satisfies Wire, { label });
  }

  isOpen(client: string, conn: string): boolean {
    return this.connections.get(key(client, conn))?.open === true;
  }

  /** Close every open client connection, resetting it (CLIENT KILL): each client learns at once. */
  resetAll(): void {
    for (const c of this.connections.values()) {
      if (!c.open) continue;
      this.close(c, 'reset');
      this.host.send(c.client, { type: 'rst', conn: c.conn } satisfies OsWire, { layer: 'os' });
    }
  }

  private onMessage(message: Message): void {
    const wire = message.payload as Wire;
    if (wire.type !== 'req') {
      this.options.onPeer?.(message);
      return;
    }
    const connection = this.heard(message.from, wire.conn);
    if (!connection.open) {
      // A packet on a connection the server already closed: its kernel answers with a reset.
      this.host.send(message.from, { type: 'rst', conn: wire.conn } satisfies OsWire, { layer: 'os' });
      return;
    }
    this.handler(new Request(this.host, message.from, wire, connection));
  }

  private onOsMessage(message: Message): void {
    const wire = message.payload as OsWire;
    if (wire.type === 'ack') {
      const c = this.connections.get(key(message.from, wire.conn));
      if (c !== undefined && c.open) this.touch(c);
    } else if (wire.type === 'rst') {
      const c = this.connections.get(key(message.from, wire.conn));
      // A paused server's kernel takes the reset; its process (the session, the lock table) sees
      // the connection gone only when it runs again, as a SIGSTOPped backend would.
      if (c !== undefined && c.open) this.host.whenRunning('reset-seen', () => c.open && this.close(c, 'reset'));
    }
  }

  private heard(client: string, conn: string): Connection {
    let c = this.connections.get(key(client, conn));
    if (c === undefined) {
      c = { client, conn, lastHeardMs: this.host.clock.monotonic(), unanswered: 0, open: true };
      this.connections.set(key(client, conn), c);
      if (this.options.keepalive !== undefined) this.watch(c, this.options.keepalive);
    }
    this.touch(c);
    return c;
  }

  private touch(c: Connection): void {
    c.lastHeardMs = this.host.clock.monotonic();
    c.unanswered = 0;
  }

  private watch(c: Connection, keepalive: KeepaliveConfig): void {
    const check = () => {
      if (!c.open) return;
      // Compare with a margin: the timer was set for exactly the remaining idle time, and float
      // arithmetic on clock readings can leave a remainder of 1e-13 ms that would re-arm forever.
      const silentMs = this.host.clock.monotonic() - c.lastHeardMs;
      if (c.unanswered === 0 && silentMs < keepalive.idleMs - KEEPALIVE_EPSILON_MS) {
        this.host.timer(keepalive.idleMs - silentMs, 'keepalive', check);
        return;
      }
      if (c.unanswered >= keepalive.count) {
        this.close(c, 'keepalive');
        return;
      }
      c.unanswered++;
      this.host.send(c.client, { type: 'probe', conn: c.conn } satisfies OsWire, { layer: 'os' });
      this.host.timer(keepalive.intervalMs, 'keepalive', check);
    };
    this.host.timer(keepalive.idleMs, 'keepalive', check);
  }

  private close(c: Connection, reason: CloseReason): void {
    c.open = false;
    this.options.onClosed?.(c.client, c.conn, reason);
  }
}

function key(client: string, conn: string): string {
  return `${client}\u0000${conn}`;
}
