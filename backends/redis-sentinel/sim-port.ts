/**
 * SentinelPort over the simulated network, following the primary as ioredis's Sentinel mode
 * does (see port.ts): it asks the Sentinels in turn, starting with the last one that answered,
 * for the primary; checks the role of what it is told (ioredis's ready check); and sends every
 * command there until the connection closes or a command gets no reply in time. Each request times out after `requestTimeoutMs`.
 */
import type { Host } from '../../sim/node.ts';
import { ConnectionLost, RemoteError, TimeoutError, WriteRefused } from '../errors.ts';
import { ClientEndpoint } from '../shared/endpoint/endpoint.ts';
import { isTransient } from '../redis/lock.ts';
import type { SentinelPort } from './port.ts';
import type { DataCommand } from './server.ts';

/** Replies that say the command was not done: a replica's, a guarded primary's, a WAIT cut short by a role change. */
const REFUSED = /^(READONLY|NOREPLICAS|UNBLOCKED|ERR WAIT cannot be used with replica)/;

export class SimSentinelPort implements SentinelPort {
  private readonly endpoint: ClientEndpoint;
  private primary: string | null = null;
  /** The Sentinel asked first: the last one that named a primary. */
  private first = 0;

  constructor(
    host: Host,
    servers: readonly string[],
    private readonly sentinels: readonly string[],
    private readonly requestTimeoutMs: number,
  ) {
    this.endpoint = ClientEndpoint.of(host);
    for (const server of servers)
      this.endpoint.onReset(server, () => {
        if (this.primary === server) this.primary = null;
      });
  }

  setNxPx(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call({ op: 'set-nx-px', key, value, ttlMs });
  }

  deleteIfEqual(key: string, value: string): Promise<boolean> {
    return this.call({ op: 'del-if-equal', key, value });
  }

  extendIfEqual(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call({ op: 'pexpire-if-equal', key, value, ttlMs });
  }

  incr(key: string): Promise<number> {
    return this.call({ op: 'incr', key });
  }

  get(key: string): Promise<string | null> {
    return this.call({ op: 'get', key });
  }

  pttl(key: string): Promise<number> {
    return this.call({ op: 'pttl', key });
  }

  waitReplicas(replicas: number, timeoutMs: number): Promise<number> {
    return this.call({ op: 'wait', replicas, timeoutMs }, timeoutMs + this.requestTimeoutMs);
  }

  private async call<T>(command: DataCommand, timeoutMs = this.requestTimeoutMs): Promise<T> {
    const server = this.primary ?? (await this.resolve());
    try {
      return await this.endpoint.request<T>(server, command.op, command, timeoutMs);
    } catch (error) {
      // A reset, or no reply in time (ioredis's socketTimeout): drop the connection, and find the primary again.
      if ((error instanceof ConnectionLost || error instanceof TimeoutError) && this.primary === server) {
        this.primary = null;
        this.endpoint.reconnect(server);
      }
      if (error instanceof RemoteError && REFUSED.test(error.message))
        throw new WriteRefused(`redis-sentinel: ${error.message}`);
      throw error;
    }
  }

  /** Ask the Sentinels for the primary, and keep the first answer whose node says it is one. */
  private async resolve(): Promise<string> {
    const n = this.sentinels.length;
    for (let i = 0; i < n; i++) {
      const index = (this.first + i) % n;
      const sentinel = this.sentinels[index];
      if (sentinel === undefined) break;
      const named = await this.ask<string>(sentinel, 'get-master-addr', {});
      if (named === null) continue;
      const role = await this.ask<string>(named, 'role', { op: 'role' });
      if (role !== 'master') continue;
      this.first = index;
      this.primary = named;
      return named;
    }
    throw new ConnectionLost('redis-sentinel: no Sentinel named a primary that answered as one');
  }

  /** A request whose transient failure (timeout, reset) is an answer of null. */
  private async ask<T>(to: string, op: string, body: unknown): Promise<T | null> {
    try {
      return await this.endpoint.request<T>(to, op, body, this.requestTimeoutMs);
    } catch (error) {
      if (isTransient(error)) return null;
      throw error;
    }
  }
}
