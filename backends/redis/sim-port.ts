import type { Host } from '../../sim/node.ts';
import { ClientEndpoint } from '../shared/endpoint/endpoint.ts';
import type { RedisPort } from './port.ts';
import type { RedisCommand } from './server.ts';

/** RedisPort over the simulated network. Each call times out after `requestTimeoutMs`. */
export class SimRedisPort implements RedisPort {
  private readonly endpoint: ClientEndpoint;

  constructor(
    host: Host,
    private readonly server: string,
    private readonly requestTimeoutMs: number,
  ) {
    this.endpoint = ClientEndpoint.of(host);
  }

  setNxPx(key: string, value: string, ttlMs: number): PromiseLike<boolean> {
    return this.call({ op: 'set-nx-px', key, value, ttlMs });
  }

  deleteIfEqual(key: string, value: string): PromiseLike<boolean> {
    return this.call({ op: 'del-if-equal', key, value });
  }

  extendIfEqual(key: string, value: string, ttlMs: number): PromiseLike<boolean> {
    return this.call({ op: 'pexpire-if-equal', key, value, ttlMs });
  }

  incr(key: string): PromiseLike<number> {
    return this.call({ op: 'incr', key });
  }

  get(key: string): PromiseLike<string | null> {
    return this.call({ op: 'get', key });
  }

  pttl(key: string): PromiseLike<number> {
    return this.call({ op: 'pttl', key });
  }

  /** The command travels whole, op included, so the server runs it as it arrives. */
  private call<T>(command: RedisCommand): PromiseLike<T> {
    return this.endpoint.request<T>(this.server, command.op, command, this.requestTimeoutMs);
  }
}
