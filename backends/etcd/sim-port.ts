import type { Future } from '../../sim/future.ts';
import type { Host } from '../../sim/node.ts';
import { ClientEndpoint } from '../shared/endpoint/endpoint.ts';
import { ConnectionLost, RemoteError } from '../errors.ts';
import { COMPACTED, LEASE_NOT_FOUND } from './model/store.ts';
import { UNAVAILABLE } from './server.ts';
import {
  Compacted,
  LeaseNotFound,
  Unavailable,
  type EtcdPort,
  type KeyValue,
  type Lease,
  type PutIfAbsentResult,
  type RangeOptions,
  type RangeResult,
} from './port.ts';

interface OpenWatch {
  readonly server: string;
  readonly event: Future<number>;
}

/**
 * EtcdPort over the simulated network. It talks to one member at a time, first one the client's
 * rng picks, and moves to the next member whenever a request's outcome is unknown (timeout, reset
 * connection, no leader), as clientv3's balancer leaves an endpoint that fails; a keepalive that
 * times out is the exception (see keepAlive). One per host.
 */
export class SimEtcdPort implements EtcdPort {
  private readonly endpoint: ClientEndpoint;
  private current: number;
  private nextWatch = 0;
  private readonly watches = new Map<number, OpenWatch>();

  constructor(
    private readonly host: Host,
    private readonly servers: readonly string[],
    private readonly requestTimeoutMs: number,
  ) {
    this.endpoint = ClientEndpoint.of(host);
    this.current = host.rng.fork('etcd-endpoint').int(0, servers.length - 1);
    for (const server of servers) {
      this.endpoint.onPush(server, (body) => {
        const event = body as { watchId: number; revision: number };
        this.watches.get(event.watchId)?.event.resolve(event.revision);
      });
      this.endpoint.onReset(server, () => this.failWatches(server));
    }
  }

  async grantLease(ttlMs: number): Promise<Lease> {
    return this.call('lease-grant', { ttlMs });
  }

  /**
   * clientv3 keeps a lease alive over one gRPC stream to one member, and a stream does not fail
   * when its member is stopped (SIGSTOP): the member's kernel still acknowledges the bytes. The
   * client stays on it, its keepalives unanswered, until its own lease deadline passes
   * (clientv3 lease.go deadlineLoop); that is how paused etcd servers cost Jepsen's clients their
   * leases. So a keepalive that times out does not move this port to another member; a reset
   * connection or a member without a leader does, as for every call.
   */
  async keepAlive(lease: number): Promise<number | null> {
    return this.call('lease-keepalive', { lease }, { stayOnTimeout: true });
  }

  /** The member this port talks to now. */
  get member(): string {
    return this.server();
  }

  async revokeLease(lease: number): Promise<boolean> {
    return this.call('lease-revoke', { lease });
  }

  async putIfAbsent(key: string, value: string, lease: number): Promise<PutIfAbsentResult> {
    return this.call('put-if-absent', { key, value, lease });
  }

  async get(key: string): Promise<KeyValue | null> {
    return this.call('get', { key });
  }

  async range(prefix: string, options: RangeOptions = {}): Promise<RangeResult> {
    return this.call('range', { prefix, ...options });
  }

  async delete(key: string): Promise<boolean> {
    return this.call('delete', { key });
  }

  async watchDelete(key: string, fromRevision: number, timeoutMs: number): Promise<number | null> {
    const server = this.server();
    const watchId = this.nextWatch++;
    const event = this.host.future<number>();
    this.watches.set(watchId, { server, event });
    try {
      const deletedAt = await this.call<number | null>('watch', { watchId, key, fromRevision });
      if (deletedAt !== null) return deletedAt;
      try {
        return await this.host.deadline(() => event, timeoutMs);
      } catch (error) {
        if ((error as Error).name !== 'TimeoutError') throw error;
        // Cancel on the server; nobody waits for the answer, a lost one only leaves a watch to die with its connection.
        this.endpoint.request(server, 'unwatch', { watchId }, this.requestTimeoutMs);
        return null;
      }
    } finally {
      this.watches.delete(watchId);
    }
  }

  private server(): string {
    const server = this.servers[this.current];
    if (server === undefined) throw new Error(`etcd: no server at index ${this.current}`);
    return server;
  }

  private async call<T>(op: string, body: object, options: { stayOnTimeout?: boolean } = {}): Promise<T> {
    const server = this.server();
    try {
      return await this.endpoint.request<T>(server, op, body, this.requestTimeoutMs);
    } catch (error) {
      const typed = typedError(error);
      const timedOut = typed.name === 'TimeoutError';
      if (
        (timedOut && options.stayOnTimeout !== true) ||
        typed instanceof ConnectionLost ||
        typed instanceof Unavailable
      )
        this.leave(server);
      throw typed;
    }
  }

  /** Stop using `server`, unless an earlier failure already moved this port on. */
  private leave(server: string): void {
    if (this.server() === server) this.current = (this.current + 1) % this.servers.length;
  }

  private failWatches(server: string): void {
    this.leave(server);
    for (const watch of this.watches.values()) {
      if (watch.server === server)
        watch.event.reject(new ConnectionLost(`watch on ${server} lost with its connection`));
    }
  }
}

function typedError(error: unknown): Error {
  if (!(error instanceof RemoteError)) return error as Error;
  if (error.message.startsWith(UNAVAILABLE)) return new Unavailable(error.message);
  if (error.message === LEASE_NOT_FOUND) return new LeaseNotFound(error.message);
  if (error.message === COMPACTED) return new Compacted(error.message);
  return error;
}
