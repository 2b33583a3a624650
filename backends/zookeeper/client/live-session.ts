/**
 * One ZooKeeper session on node-zookeeper-client 1.1.3 (which ships no types: the part used is
 * declared here), with what that library leaves out and ZooKeeper's Java client (ClientCnxn) does:
 *   - a read timeout: a server silent for two thirds of the session timeout is given up, and the
 *     client moves to the next one (the library pings when idle, but waits for an answer forever);
 *   - a connect timeout of timeout / servers for the whole handshake, not only the TCP connect;
 *   - a request timeout: a request with no answer fails with ConnectionLoss, and its connection is
 *     given up, as the simulated client does;
 *   - the czxid of a created node, which is the zxid of the create's reply (the library hands back
 *     only the path, so the create goes through its connection manager directly).
 * The library reconnects by itself, in the same session, until a server says the session expired;
 * that session is then over, and the port opens a new one.
 */
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { ZooKeeperError, type CreateMode, type ErrorCode } from '../port.ts';

/** The connection manager's states (ConnectionManager.STATES). */
const CM = { DISCONNECTED: 0, CONNECTING: 1, CONNECTED: 2, CLOSED: -2, SESSION_EXPIRED: -3 } as const;

interface LibraryException extends Error {
  getCode(): number;
}

interface LibraryStat {
  readonly czxid: Buffer;
}

interface LibraryEvent {
  getType(): number;
  getPath(): string;
}

interface JuteRecord {
  [field: string]: unknown;
}

interface ConnectionManager {
  readonly state: number;
  readonly socket?: Socket;
  on(event: 'state', listener: (state: number) => void): void;
  queue(
    request: unknown,
    callback: (
      error: LibraryException | null,
      response: { header: { zxid: Buffer }; payload: { path: string } },
    ) => void,
  ): void;
}

type Done<T> = (error: LibraryException | null, value?: T) => void;

interface LibraryClient {
  readonly connectionManager: ConnectionManager;
  connect(): void;
  close(): void;
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
  remove(path: string, version: number, callback: Done<void>): void;
  exists(path: string, callback: Done<LibraryStat | null>): void;
  exists(path: string, watcher: (event: LibraryEvent) => void, callback: Done<LibraryStat | null>): void;
  getChildren(path: string, callback: Done<string[]>): void;
}

interface Library {
  createClient(
    connectString: string,
    options: {
      sessionTimeout: number;
      spinDelay: number;
      retries: number;
      sessionId?: Buffer;
      sessionPassword?: Buffer;
    },
  ): LibraryClient;
  readonly ACL: { readonly OPEN_ACL_UNSAFE: ReadonlyArray<{ toRecord(): unknown }> };
  readonly Event: { readonly NODE_DELETED: number };
}

interface Jute {
  readonly OP_CODES: { readonly CREATE: number };
  readonly Request: new (header: JuteRecord, payload: JuteRecord) => unknown;
  readonly protocol: { readonly RequestHeader: new () => JuteRecord; readonly CreateRequest: new () => JuteRecord };
}

const require = createRequire(import.meta.url);
const library = require('node-zookeeper-client') as Library;
const jute = require('node-zookeeper-client/lib/jute/index.js') as Jute;

const CREATE_FLAGS: Record<CreateMode, number> = { persistent: 0, ephemeral: 1, 'ephemeral-sequential': 3 };

/** The library's error codes (its Exception.CODES) that the port has names for. */
const ERROR_CODES: ReadonlyMap<number, ErrorCode> = new Map([
  [-4, 'ConnectionLoss'],
  [-8, 'BadArguments'],
  [-101, 'NoNode'],
  [-108, 'NoChildrenForEphemerals'],
  [-110, 'NodeExists'],
  [-111, 'NotEmpty'],
  [-112, 'SessionExpired'],
  [-118, 'SessionMoved'],
]);

export interface SessionTiming {
  readonly sessionTimeoutMs: number;
  /** Give up on a server silent this long (ClientCnxn: two thirds of the session timeout). */
  readonly readTimeoutMs: number;
  /** Give up on a handshake that takes this long (ClientCnxn: timeout / servers). */
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

export type SessionEvent = 'connected' | 'disconnected' | 'expired';

export class LiveSession {
  private readonly client: LibraryClient;
  private readonly watchdog: NodeJS.Timeout;
  private watchedSocket: Socket | undefined;
  private socketSinceMs = 0;
  private heardMs = 0;
  private ended = false;

  /** `servers`: host:port, in the order to try them. */
  constructor(
    readonly servers: readonly string[],
    private readonly timing: SessionTiming,
    onEvent: (event: SessionEvent) => void,
    private readonly onDeleted: (path: string) => void,
  ) {
    this.client = library.createClient(servers.join(','), {
      sessionTimeout: timing.sessionTimeoutMs,
      spinDelay: timing.sessionTimeoutMs / 10,
      retries: 0,
    });
    this.client.connectionManager.on('state', (state) => {
      if (this.ended) return;
      if (state === CM.CONNECTED) onEvent('connected');
      else if (state === CM.DISCONNECTED) onEvent('disconnected');
      else if (state === CM.SESSION_EXPIRED) onEvent('expired');
    });
    const checkMs = Math.max(5, Math.min(50, timing.connectTimeoutMs / 10));
    this.watchdog = setInterval(() => this.checkConnection(), checkMs);
    this.watchdog.unref();
    this.client.connect();
  }

  /** The server this session is connected to now (host:port as given), if any. */
  connectedServer(): string | null {
    const socket = this.client.connectionManager.socket;
    if (this.client.connectionManager.state !== CM.CONNECTED || socket === undefined) return null;
    return this.servers.find((server) => server.endsWith(`:${socket.remotePort}`)) ?? null;
  }

  create(path: string, mode: CreateMode): Promise<{ path: string; czxid: number }> {
    return this.call('create', (done: Done<{ path: string; czxid: number }>) => {
      const header = new jute.protocol.RequestHeader();
      header.type = jute.OP_CODES.CREATE;
      const payload = new jute.protocol.CreateRequest();
      payload.path = path;
      payload.acl = library.ACL.OPEN_ACL_UNSAFE.map((acl) => acl.toRecord());
      payload.flags = CREATE_FLAGS[mode];
      this.client.connectionManager.queue(new jute.Request(header, payload), (error, response) =>
        error !== null ? done(error) : done(null, { path: response.payload.path, czxid: zxid(response.header.zxid) }),
      );
    });
  }

  delete(path: string): Promise<void> {
    return this.call('delete', (done: Done<void>) => this.client.remove(path, -1, done));
  }

  /** The node's czxid, or null if it does not exist; `watch`: be told (onDeleted) when it goes. */
  exists(path: string, watch: boolean): Promise<number | null> {
    return this.call('exists', (done: Done<number | null>) => {
      const callback: Done<LibraryStat | null> = (error, stat) =>
        error !== null ? done(error) : done(null, stat ? zxid(stat.czxid) : null);
      // The port never changes a node's data, so a watch set on a node that exists fires only on its deletion.
      if (watch) this.client.exists(path, this.onWatchEvent, callback);
      else this.client.exists(path, callback);
    });
  }

  getChildren(path: string): Promise<string[]> {
    return this.call('getChildren', (done: Done<string[]>) => this.client.getChildren(path, done));
  }

  /**
   * Close the session if connected, waiting at most a request timeout for the ensemble to
   * confirm; otherwise leave it to expire. Either way the session's connection is gone after.
   */
  async close(): Promise<void> {
    if (this.ended) return;
    const connected = this.client.connectionManager.state === CM.CONNECTED;
    this.ended = true;
    if (connected) {
      const closed = new Promise<void>((resolve) =>
        this.client.connectionManager.on('state', (state) => state === CM.CLOSED && resolve()),
      );
      this.client.close();
      await within(closed, this.timing.requestTimeoutMs);
    }
    this.abandon();
  }

  /** Stop following the session, and drop its connection without closing it. */
  abandon(): void {
    this.ended = true;
    clearInterval(this.watchdog);
    this.client.connectionManager.socket?.destroy();
  }

  /**
   * Curator's KillSession: open a second connection on this session, through a server other than
   * the one this client is connected to, and close it there. The ensemble then closes the session
   * and drops this client's connection.
   */
  async kill(): Promise<void> {
    const current = this.connectedServer();
    const others = this.servers.filter((server) => server !== current);
    const killer = library.createClient((others.length > 0 ? others : this.servers).join(','), {
      sessionTimeout: this.timing.sessionTimeoutMs,
      spinDelay: this.timing.sessionTimeoutMs / 10,
      retries: 0,
      sessionId: this.client.getSessionId(),
      sessionPassword: this.client.getSessionPassword(),
    });
    const settled = new Promise<void>((resolve) =>
      killer.connectionManager.on(
        'state',
        (state) => (state === CM.CONNECTED || state === CM.SESSION_EXPIRED) && resolve(),
      ),
    );
    killer.connect();
    const answered = await within(settled, this.timing.sessionTimeoutMs);
    if (answered && killer.connectionManager.state === CM.CONNECTED) {
      const closed = new Promise<void>((resolve) =>
        killer.connectionManager.on('state', (state) => state === CM.CLOSED && resolve()),
      );
      killer.close();
      await within(closed, this.timing.requestTimeoutMs);
    }
    killer.connectionManager.socket?.destroy();
    if (!answered)
      throw new ZooKeeperError(
        'ConnectionLoss',
        `kill session: no server took the second connection within ${this.timing.sessionTimeoutMs}ms`,
      );
  }

  private readonly onWatchEvent = (event: LibraryEvent): void => {
    if (!this.ended && event.getType() === library.Event.NODE_DELETED) this.onDeleted(event.getPath());
  };

  /** Send one request; no answer within the request timeout is ConnectionLoss, and the end of its connection. */
  private call<T>(op: string, send: (done: Done<T>) => void): Promise<T> {
    const socket = this.client.connectionManager.socket;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new ZooKeeperError('ConnectionLoss', `${op}: no answer within ${this.timing.requestTimeoutMs}ms`));
        if (this.client.connectionManager.socket === socket) socket?.destroy();
      }, this.timing.requestTimeoutMs);
      const done: Done<T> = (error, value) => {
        clearTimeout(timer);
        if (error === null) resolve(value as T);
        else reject(asZooKeeperError(op, error));
      };
      try {
        send(done);
      } catch (error) {
        // The library checks paths itself, with assertions.
        done(Object.assign(error as LibraryException, { getCode: () => -8 }));
      }
    });
  }

  /** The read and connect timeouts: drop a connection that is silent or slow to open. */
  private checkConnection(): void {
    const manager = this.client.connectionManager;
    const now = performance.now();
    const socket = manager.socket;
    if (socket !== this.watchedSocket) {
      this.watchedSocket = socket;
      this.socketSinceMs = now;
      this.heardMs = now;
      socket?.on('data', () => (this.heardMs = performance.now()));
    }
    if (socket === undefined || socket.destroyed) return;
    if (manager.state === CM.CONNECTING && now - this.socketSinceMs >= this.timing.connectTimeoutMs) socket.destroy();
    if (manager.state === CM.CONNECTED && now - this.heardMs >= this.timing.readTimeoutMs) socket.destroy();
  }
}

function asZooKeeperError(op: string, error: LibraryException): Error {
  const code = typeof error.getCode === 'function' ? ERROR_CODES.get(error.getCode()) : undefined;
  return code === undefined ? error : new ZooKeeperError(code, `${op}: ${error.message}`);
}

/** A zxid, 64 bits big-endian: the epoch in the high half, a counter in the low; exact as a number below 2^53. */
function zxid(bytes: Buffer): number {
  return Number(bytes.readBigInt64BE(0));
}

/** Whether `promise` settled within `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
