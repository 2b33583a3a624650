import type { Future } from '../../../sim/future.ts';
import type { Host } from '../../../sim/node.ts';
import { ConnectionLost } from '../../errors.ts';
import { ClientEndpoint } from '../endpoint/endpoint.ts';
import type { SessionPort } from './port.ts';
import { NO_SESSION, type StatementBody } from './server.ts';

/** Client-side deadlines: plain statements, and statements that may wait for a lock. */
export interface SessionTimeouts {
  readonly queryTimeoutMs: number;
  readonly blockingTimeoutMs: number;
}

/**
 * A database session over the simulated network: the connection the client endpoint keeps to the
 * server, so a client node has one session per server (two ports on one node share it).
 * Dialect ports extend it with their statements.
 */
export class SimSessionPort implements SessionPort {
  private readonly endpoint: ClientEndpoint;
  /** The connection whose first statement has gone out; the first one on a new connection opens the session. */
  private opened: string | null = null;

  constructor(
    private readonly host: Host,
    private readonly server: string,
    protected readonly timeouts: SessionTimeouts,
  ) {
    this.endpoint = ClientEndpoint.of(host);
  }

  session(): string {
    return this.endpoint.connection(this.server);
  }

  ping(): Future<void> {
    return this.call('ping', {}, this.timeouts.queryTimeoutMs);
  }

  disconnect(): void {
    this.endpoint.reconnect(this.server);
  }

  /**
   * Send one statement; TimeoutError after `timeoutMs`, ConnectionLost if the session is gone. The
   * returned Future is settled from the request's, without awaiting it, so it stays hot.
   */
  protected call<T>(op: string, body: object, timeoutMs: number): Future<T> {
    const conn = this.endpoint.connection(this.server);
    const startup = conn !== this.opened;
    this.opened = conn;
    const request = this.endpoint.request<T>(this.server, op, { ...body, startup } satisfies StatementBody, timeoutMs);
    const out = this.host.future<T>();
    request.onSettle((ok, value) => {
      if (ok) {
        out.resolve(value as T);
        return;
      }
      if ((value as Error | null)?.message === NO_SESSION) {
        // The server has no session for this connection: it is dead, so drop it like a reset.
        if (this.endpoint.connection(this.server) === conn) this.endpoint.reconnect(this.server);
        out.reject(new ConnectionLost(`connection ${conn} to ${this.server}: ${NO_SESSION}`));
        return;
      }
      out.reject(value);
    });
    return out;
  }
}
