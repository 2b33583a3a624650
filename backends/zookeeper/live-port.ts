/**
 * ZooKeeperPort on a real ensemble through node-zookeeper-client, keeping the session the way the
 * simulated client does (sim-port.ts):
 *   - requests wait for a connection for at most a session timeout, then fail with ConnectionLoss;
 *     one sent gets the request timeout to answer, or fails with ConnectionLoss and the client
 *     moves to the next server (client/live-session.ts);
 *   - an expired session ends its watches with 'expired', and a new session is opened at once, as
 *     Curator does; the state goes from 'expired' to 'connected' when it opens;
 *   - watches survive reconnections in the same session (the library's SetWatches), and one whose
 *     node went in the meantime fires when the client reconnects.
 * The client tries the servers in a random order, as ZooKeeper's shuffles its connect string.
 */
import { randomInt } from 'node:crypto';
import { LiveSession, type SessionEvent, type SessionTiming } from './client/live-session.ts';
import {
  ZooKeeperError,
  type CreateMode,
  type Created,
  type ExistsWatch,
  type SessionState,
  type Stat,
  type WatchEvent,
  type ZooKeeperPort,
} from './port.ts';
import { ClientWatches } from './client/client-watches.ts';

export interface LiveZooKeeperOptions {
  readonly sessionTimeoutMs: number;
  /** A request with no answer this long fails with ConnectionLoss. */
  readonly requestTimeoutMs: number;
  /** How long connectZooKeeper waits for the first session. Default 10 s. */
  readonly firstSessionTimeoutMs?: number;
}

class LiveWatch implements ExistsWatch {
  private reported: WatchEvent | null = null;
  private resolve: (what: WatchEvent) => void = () => {};
  readonly event = new Promise<WatchEvent>((resolve) => (this.resolve = resolve));

  constructor(readonly stat: Stat | null) {}

  fired(): WatchEvent | null {
    return this.reported;
  }

  fire(what: WatchEvent): void {
    if (this.reported !== null) return;
    this.reported = what;
    this.resolve(what);
  }
}

/** Connect to `connectString` (host:port,host:port,...) and resolve once the first session is open. */
export async function connectZooKeeper(
  connectString: string,
  options: LiveZooKeeperOptions,
): Promise<LiveZooKeeperPort> {
  const port = new LiveZooKeeperPort(connectString.split(','), options);
  const waitMs = options.firstSessionTimeoutMs ?? 10_000;
  const opened = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs);
    const stop = port.onStateChange((state) => {
      if (state !== 'connected') return;
      clearTimeout(timer);
      stop();
      resolve(true);
    });
  });
  if (opened) return port;
  await port.close();
  throw new ZooKeeperError('ConnectionLoss', `no server of ${connectString} opened a session within ${waitMs}ms`);
}

export class LiveZooKeeperPort implements ZooKeeperPort {
  readonly sessionTimeoutMs: number;
  private readonly timing: SessionTiming;
  private current: SessionState = 'connecting';
  private session: LiveSession;
  private readonly listeners = new Set<(state: SessionState) => void>();
  private connectedWaiters: (() => void)[] = [];
  private readonly watches = new ClientWatches<LiveWatch>();

  constructor(
    private readonly servers: readonly string[],
    options: LiveZooKeeperOptions,
  ) {
    if (servers.length === 0) throw new ZooKeeperError('BadArguments', 'servers must name at least one server');
    this.sessionTimeoutMs = options.sessionTimeoutMs;
    this.timing = {
      sessionTimeoutMs: options.sessionTimeoutMs,
      readTimeoutMs: (2 * options.sessionTimeoutMs) / 3,
      connectTimeoutMs: options.sessionTimeoutMs / servers.length,
      requestTimeoutMs: options.requestTimeoutMs,
    };
    this.session = this.open();
  }

  state(): SessionState {
    return this.current;
  }

  onStateChange(listener: (state: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async create(path: string, mode: CreateMode): Promise<Created> {
    return (await this.connected()).create(path, mode);
  }

  async delete(path: string): Promise<void> {
    await (await this.connected()).delete(path);
  }

  async exists(path: string): Promise<Stat | null> {
    const czxid = await (await this.connected()).exists(path, false);
    return czxid === null ? null : { czxid };
  }

  async existsWatch(path: string): Promise<ExistsWatch> {
    const session = await this.connected();
    const czxid = await session.exists(path, true);
    const watch = new LiveWatch(czxid === null ? null : { czxid });
    if (czxid === null) watch.fire('deleted');
    else if (session !== this.session) watch.fire(this.current === 'closed' ? 'closed' : 'expired');
    else {
      this.watches.add(path, watch);
    }
    return watch;
  }

  async getChildren(path: string): Promise<string[]> {
    return (await (await this.connected()).getChildren(path)).sort();
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    this.setState('closed');
    this.watches.end('closed');
    this.wakeWaiters();
    await this.session.close();
  }

  async expireSession(): Promise<void> {
    const session = await this.connected();
    const expired = new Promise<void>((resolve) => {
      const stop = this.onStateChange((state) => {
        if (state !== 'expired' && state !== 'closed') return;
        stop();
        resolve();
      });
    });
    await session.kill();
    let timer: NodeJS.Timeout | undefined;
    const waitMs = 2 * this.sessionTimeoutMs;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the session was closed, but the client did not see it expire within ${waitMs}ms`)),
        waitMs,
      );
    });
    await Promise.race([expired, late]).finally(() => clearTimeout(timer));
  }

  private open(): LiveSession {
    const start = randomInt(this.servers.length);
    const order = [...this.servers.slice(start), ...this.servers.slice(0, start)];
    const session: LiveSession = new LiveSession(
      order,
      this.timing,
      (event) => this.onSessionEvent(session, event),
      (path) => this.watches.fire(path, 'deleted'),
    );
    return session;
  }

  private onSessionEvent(session: LiveSession, event: SessionEvent): void {
    if (session !== this.session || this.current === 'closed') return;
    if (event === 'connected') {
      this.setState('connected');
      this.wakeWaiters();
    } else if (event === 'disconnected') {
      if (this.current === 'connected') this.setState('disconnected');
    } else {
      session.abandon();
      this.session = this.open();
      this.setState('expired');
      this.watches.end('expired');
    }
  }

  /** The session to send a request in, once it has a connection; at most a session timeout of waiting. */
  private async connected(): Promise<LiveSession> {
    if (this.current === 'connecting' || this.current === 'disconnected' || this.current === 'expired') {
      let timer: NodeJS.Timeout | undefined;
      const connected = await new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.sessionTimeoutMs);
        this.connectedWaiters.push(() => resolve(true));
      });
      clearTimeout(timer);
      if (!connected)
        throw new ZooKeeperError('ConnectionLoss', `no server took the session within ${this.sessionTimeoutMs}ms`);
    }
    if (this.current === 'closed') throw new ZooKeeperError('Closed', 'the session was closed');
    return this.session;
  }

  private wakeWaiters(): void {
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const wake of waiters) wake();
  }

  private setState(state: SessionState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of [...this.listeners]) listener(state);
  }
}
