import type { Host } from '../../sim/node.ts';
import { ClientEndpoint } from '../sim/endpoint.ts';
import type { RedisPort } from './port.ts';

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

  async setNxPx(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call('set-nx-px', { key, value, ttlMs });
  }

  async deleteIfEqual(key: string, value: string): Promise<boolean> {
    return this.call('del-if-equal', { key, value });
  }

  async extendIfEqual(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.call('pexpire-if-equal', { key, value, ttlMs });
  }

  async incr(key: string): Promise<number> {
    return this.call('incr', { key });
  }

  async get(key: string): Promise<string | null> {
    return this.call('get', { key });
  }

  async pttl(key: string): Promise<number> {
    return this.call('pttl', { key });
  }

  private call<T>(op: string, body: object): PromiseLike<T> {
    return this.endpoint.request<T>(this.server, op, body, this.requestTimeoutMs);
  }
}
