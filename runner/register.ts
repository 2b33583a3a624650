/**
 * The protected resource: a register holding one number, on its own node.
 *
 * With fencing on, every read and write carries the holder's token and the register refuses a
 * token lower than the highest it has seen, the check Kleppmann's fencing needs from storage.
 * It keeps a log of every write it judged, which the checkers use to find stale writes.
 * It never fails, pauses or loses data: it is the yardstick, not a subject.
 */
import type { Host } from '../sim/node.ts';
import { ServerEndpoint } from '../backends/shared/endpoint/endpoint.ts';
import type { RegisterWrite } from './history.ts';

export const REGISTER_NODE = 'register';

export interface RegisterRequest {
  readonly process: string;
  readonly token: number | null;
  readonly value?: number;
}

export type RegisterReply =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly reason: string };

export class Register {
  value = 0;
  highestToken: number | null = null;
  readonly writes: RegisterWrite[] = [];

  constructor(private readonly fencing: boolean) {}

  read(request: RegisterRequest): RegisterReply {
    const refusal = this.refuse(request.token);
    return refusal ?? { ok: true, value: this.value };
  }

  write(request: RegisterRequest, timeMs: number): RegisterReply {
    // A malformed request (our clients always send a value) is refused before it is recorded as a write.
    if (request.value === undefined) return { ok: false, reason: 'a write needs a value' };
    return this.judge(request, timeMs, request.value);
  }

  /** Add one, atomically: a leader's unit of work, which cannot be lost but can come from a deposed leader. */
  increment(request: RegisterRequest, timeMs: number): RegisterReply {
    return this.judge(request, timeMs, this.value + 1);
  }

  private judge(request: RegisterRequest, timeMs: number, value: number): RegisterReply {
    const refusal = this.refuse(request.token);
    this.writes.push({ timeMs, process: request.process, value, token: request.token, accepted: refusal === null });
    if (refusal !== null) return refusal;
    this.value = value;
    return { ok: true, value };
  }

  private refuse(token: number | null): RegisterReply | null {
    if (!this.fencing) return null;
    if (token === null) return { ok: false, reason: 'no fencing token' };
    if (this.highestToken !== null && token < this.highestToken) {
      return { ok: false, reason: `stale token ${token} < ${this.highestToken}` };
    }
    this.highestToken = token;
    return null;
  }
}

/** Run `register` as the program of `host`. */
export function registerServer(host: Host, register: Register, now: () => number): void {
  new ServerEndpoint(host, (request) => {
    const body = request.body as RegisterRequest;
    const reply =
      request.op === 'write'
        ? register.write(body, now())
        : request.op === 'increment'
          ? register.increment(body, now())
          : register.read(body);
    request.reply(reply);
  });
}
