/**
 * The ZooKeeper client library, simulated: one session, served by one server at a time over one
 * connection, kept the way ZooKeeper's ClientCnxn keeps it.
 *   - The client pings when it has sent nothing for a third of the session timeout, and gives up
 *     on the server when it has heard nothing for two thirds (ClientCnxn's readTimeout), or when
 *     the connection is reset or refused. It is then `disconnected`, and tries the next server,
 *     each attempt bounded by timeout / servers (ClientCnxn's connectTimeout), with a pause of a
 *     tenth of the timeout after each full round of failures.
 *   - Reconnecting, it presents its session, which lives on if the ensemble still has it. If a
 *     server says it is gone, the session is `expired`: its watches fire 'expired', and the
 *     client opens a new session at once, as Curator does after an expiry.
 *   - Watches are set again on the new server (ZooKeeper's SetWatches); one whose node went in
 *     the meantime fires at once.
 *   - A request that gets no answer within the read timeout fails with ConnectionLoss, its outcome
 *     unknown, and the client moves on as above; so does one refused with SessionMoved.
 */
import type { Future } from '../../sim/future.ts';
import type { Host } from '../../sim/node.ts';
import { ClientEndpoint } from '../shared/endpoint/endpoint.ts';
import { RecipeConfigError, positive } from '../recipe.ts';
import {
  ZooKeeperError,
  isZooKeeperError,
  type CreateMode,
  type Created,
  type ExistsWatch,
  type SessionState,
  type Stat,
  type WatchEvent,
  type ZooKeeperPort,
} from './port.ts';
import type { Op, Ops, Push, Reply } from './model/protocol.ts';
import { ClientWatches } from './client/client-watches.ts';

export interface ClientTiming {
  readonly pingIntervalMs: number;
  readonly readTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Pause after every server has refused in turn. */
  readonly roundPauseMs: number;
}

/** ClientCnxn's timings, from the session timeout and the number of servers. */
export function clientTiming(sessionTimeoutMs: number, serverCount: number): ClientTiming {
  return {
    pingIntervalMs: sessionTimeoutMs / 3,
    readTimeoutMs: (2 * sessionTimeoutMs) / 3,
    connectTimeoutMs: sessionTimeoutMs / serverCount,
    roundPauseMs: sessionTimeoutMs / 10,
  };
}

const clients = new WeakMap<Host, SimZooKeeperPort>();

class SimWatch implements ExistsWatch {
  private reported: WatchEvent | null = null;

  constructor(
    readonly stat: Stat | null,
    readonly event: Future<WatchEvent>,
  ) {}

  fired(): WatchEvent | null {
    return this.reported;
  }

  fire(what: WatchEvent): void {
    if (this.reported !== null) return;
    this.reported = what;
    this.event.resolve(what);
  }
}

type SessionOp = Exclude<Op, 'connect' | 'ping' | 'close'>;

export class SimZooKeeperPort implements ZooKeeperPort {
  readonly sessionTimeoutMs: number;
  private readonly timing: ClientTiming;
  private readonly endpoint: ClientEndpoint;
  private current: SessionState = 'connecting';
  private session: number | null = null;
  private serverIndex: number;
  /** Bumped whenever the connection is given up: a late failure on an older one changes nothing. */
  private generation = 0;
  private lastSentMs = 0;
  private lastHeardMs = 0;
  private failedAttempts = 0;
  private readonly listeners = new Set<(state: SessionState) => void>();
  private connectedWaiters: Future<void>[] = [];
  private readonly watches = new ClientWatches<SimWatch>();

  constructor(
    private readonly host: Host,
    private readonly servers: readonly string[],
    sessionTimeoutMs: number,
  ) {
    positive('sessionTimeoutMs', sessionTimeoutMs);
    if (servers.length === 0) throw new RecipeConfigError('servers must name at least one server');
    // The node's connections are shared by everything on it, so two sessions would share them too.
    if (clients.has(host)) throw new Error(`node '${host.id}' already has a ZooKeeper client: one per node`);
    clients.set(host, this);
    this.sessionTimeoutMs = sessionTimeoutMs;
    this.timing = clientTiming(sessionTimeoutMs, servers.length);
    this.endpoint = ClientEndpoint.of(host);
    // ZooKeeper shuffles its connect string, so clients spread over the ensemble.
    this.serverIndex = host.rng.fork('zookeeper-client').int(0, servers.length - 1);
    for (const server of servers) {
      this.endpoint.onPush(server, (body) => this.onPush(body as Push));
      this.endpoint.onReset(server, () => this.onReset(server));
    }
    host.spawn('zookeeper-client', () => this.run());
  }

  /** The server serving the session, while connected (for tests). */
  get connectedTo(): string | null {
    return this.current === 'connected' ? this.server() : null;
  }

  /** The session id, once the ensemble has given one (for tests). */
  get sessionId(): number | null {
    return this.session;
  }

  state(): SessionState {
    return this.current;
  }

  onStateChange(listener: (state: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async create(path: string, mode: CreateMode): Promise<Created> {
    return this.request('create', { path, mode });
  }

  async delete(path: string): Promise<void> {
    await this.request('delete', { path });
  }

  async exists(path: string): Promise<Stat | null> {
    return this.request('exists', { path, watch: false });
  }

  async existsWatch(path: string): Promise<ExistsWatch> {
    const stat = await this.request('exists', { path, watch: true });
    const watch = new SimWatch(stat, this.host.future<WatchEvent>());
    if (stat === null) {
      watch.fire('deleted');
    } else {
      this.watches.add(path, watch);
    }
    return watch;
  }

  async getChildren(path: string): Promise<string[]> {
    return this.request('children', { path });
  }

  async close(): Promise<void> {
    if (this.current === 'closed') return;
    const session = this.session;
    // Forget the session first, so that nothing the server says of it can reopen the client.
    this.session = null;
    this.setState('closed');
    this.watches.end('closed');
    this.wakeWaiters();
    if (session === null) return;
    try {
      await this.call('close', { session }, this.timing.readTimeoutMs);
    } catch (error) {
      // Closing a session that has already ended leaves it ended, which is all close asks for.
      if (!isZooKeeperError(error, 'SessionExpired')) throw error;
    } finally {
      this.generation++;
      this.endpoint.reconnect(this.server());
    }
  }

  async expireSession(): Promise<void> {
    await this.whenConnected();
    const session = this.connectedSession();
    await this.call('close', { session }, this.timing.readTimeoutMs);
    if (this.session === session) this.expire();
  }

  private async request<O extends SessionOp>(op: O, body: Omit<Ops[O]['body'], 'session'>): Promise<Ops[O]['value']> {
    await this.whenConnected();
    return this.call(op, { ...body, session: this.connectedSession() } as Ops[O]['body'], this.timing.readTimeoutMs);
  }

  /** Send one request to the current server; act on what its failure says about the connection or the session. */
  private async call<O extends Op>(op: O, body: Ops[O]['body'], timeoutMs: number): Promise<Ops[O]['value']> {
    const generation = this.generation;
    const server = this.server();
    this.lastSentMs = this.host.clock.monotonic();
    let reply: Reply;
    try {
      reply = await this.endpoint.request<Reply>(server, op, body, timeoutMs);
    } catch (error) {
      this.drop(generation);
      throw new ZooKeeperError('ConnectionLoss', `${op} to ${server}: ${(error as Error).message}`);
    }
    if (generation === this.generation) this.lastHeardMs = this.host.clock.monotonic();
    if (reply.ok) return reply.value as Ops[O]['value'];
    // SessionMoved on the current connection: a late request through another server claimed the
    // session; ZooKeeper closes this connection, and reconnecting claims the session back.
    if (reply.code === 'ConnectionLoss' || reply.code === 'SessionMoved') this.drop(generation);
    if (reply.code === 'SessionExpired' && body.session !== null && body.session === this.session) this.expire();
    throw new ZooKeeperError(reply.code, reply.message);
  }

  private async whenConnected(): Promise<void> {
    if (this.current === 'connecting' || this.current === 'disconnected' || this.current === 'expired') {
      const connected: Future<void> = this.host.future();
      this.connectedWaiters.push(connected);
      try {
        await this.host.deadline(() => connected, this.sessionTimeoutMs);
      } catch {
        throw new ZooKeeperError('ConnectionLoss', `no server took the session within ${this.sessionTimeoutMs}ms`);
      }
    }
    if (this.current === 'closed') throw new ZooKeeperError('Closed', 'the session was closed');
  }

  private async run(): Promise<void> {
    while (this.current !== 'closed') {
      if (this.current === 'connected') await this.heartbeat();
      else await this.connect();
    }
  }

  /** One step of a connected session: give up on a silent server, ping when idle, else sleep. */
  private async heartbeat(): Promise<void> {
    const { pingIntervalMs, readTimeoutMs } = this.timing;
    const now = this.host.clock.monotonic();
    const silentMs = now - this.lastHeardMs;
    if (silentMs >= readTimeoutMs) {
      this.drop(this.generation);
      return;
    }
    const idleMs = now - this.lastSentMs;
    if (idleMs < pingIntervalMs) {
      // At least a millisecond, as a client's select loop waits: a sliver of a millisecond can
      // vanish in the floating-point clock and wake the loop at the same instant forever.
      await this.host.sleep(Math.max(1, Math.min(pingIntervalMs - idleMs, readTimeoutMs - silentMs)));
      return;
    }
    const session = this.connectedSession();
    try {
      await this.call('ping', { session }, readTimeoutMs - silentMs);
    } catch {
      // call() has already moved on: to the next server, or to a new session.
    }
  }

  /** One attempt to open or resume the session on the current server. */
  private async connect(): Promise<void> {
    try {
      const { session } = await this.call(
        'connect',
        { session: this.session, timeoutMs: this.sessionTimeoutMs },
        this.timing.connectTimeoutMs,
      );
      if (this.current === 'closed') return;
      this.session = session;
      this.failedAttempts = 0;
      this.lastHeardMs = this.host.clock.monotonic();
      this.setState('connected');
      this.wakeWaiters();
      if (this.watches.size > 0) this.host.spawn('zookeeper-set-watches', () => this.restoreWatches());
    } catch (error) {
      // An expired session was dealt with by call(); the next attempt opens a new one.
      if (isZooKeeperError(error, 'SessionExpired')) return;
      if (++this.failedAttempts % this.servers.length === 0) await this.host.sleep(this.timing.roundPauseMs);
    }
  }

  /** SetWatches: watch every watched path again on the new server; fire those whose node is gone. */
  private async restoreWatches(): Promise<void> {
    // Spawned by connect() right after it stored the session, so there is one.
    const { generation } = this;
    const session = this.connectedSession();
    for (const path of this.watches.paths()) {
      if (generation !== this.generation) return;
      try {
        const stat = await this.call('exists', { session, path, watch: true }, this.timing.readTimeoutMs);
        if (stat === null) this.watches.fire(path, 'deleted');
      } catch {
        // The connection failed under us: the next one sets the watches again.
        return;
      }
    }
  }

  /** The server at `serverIndex`: the one connected to, or the next to try. */
  private server(): string {
    const server = this.servers[this.serverIndex];
    if (server === undefined) throw new Error(`zookeeper client: no server at index ${this.serverIndex}`);
    return server;
  }

  /** The session, which exists whenever the client is connected (only expire() and close() clear it). */
  private connectedSession(): number {
    if (this.session === null) throw new Error(`zookeeper client: no session (${this.current})`);
    return this.session;
  }

  /** Give up on the current connection, once per connection, and turn to the next server. */
  private drop(generation: number): void {
    if (generation !== this.generation) return;
    this.generation++;
    this.endpoint.reconnect(this.server());
    this.serverIndex = (this.serverIndex + 1) % this.servers.length;
    if (this.current === 'connected') this.setState('disconnected');
  }

  private expire(): void {
    this.session = null;
    this.generation++;
    this.endpoint.reconnect(this.server());
    this.setState('expired');
    this.watches.end('expired');
  }

  private onPush(push: Push): void {
    if (push.kind === 'watch') this.watches.fire(push.path, 'deleted');
    else if (push.session === this.session) this.expire();
  }

  private onReset(server: string): void {
    if (server === this.servers[this.serverIndex]) this.drop(this.generation);
  }

  private wakeWaiters(): void {
    const waiters = this.connectedWaiters;
    this.connectedWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  private setState(state: SessionState): void {
    if (state === this.current) return;
    this.current = state;
    for (const listener of [...this.listeners]) listener(state);
  }
}
