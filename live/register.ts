/**
 * The protected register, live: the same Register the simulator judges writes with, served by the
 * harness over TCP (one JSON line per request and per reply), so that each client reaches it
 * through a Toxiproxy proxy of its own and a partition can cut a client from it. Writes are timed
 * with the machine's monotonic clock, the true time of live histories.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ConnectionLost } from '../backends/errors.ts';
import type { RegisterClient } from '../runner/mutex.ts';
import type { Register, RegisterReply, RegisterRequest } from '../runner/register.ts';
import { TimeoutError } from '../sim/errors.ts';
import { machineMonotonicMs } from './clock.ts';
import type { Endpoint } from './system.ts';

interface Request {
  readonly id: number;
  readonly op: 'read' | 'write' | 'increment';
  readonly body: RegisterRequest;
}

/** Serve `register` on a free loopback port; `now` is true time in ms. */
export async function serveRegister(
  register: Register,
  now: () => number,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffered = '';
    socket.on('data', (data) => {
      buffered += data.toString();
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const request = JSON.parse(buffered.slice(0, newline)) as Request;
        buffered = buffered.slice(newline + 1);
        const reply =
          request.op === 'write'
            ? register.write(request.body, now())
            : request.op === 'increment'
              ? register.increment(request.body, now())
              : register.read(request.body);
        socket.write(`${JSON.stringify({ id: request.id, reply })}\n`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('register: no address');
  return {
    port: address.port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A client of the live register: requests time out after `timeoutMs` of the client's running time
 * (TimeoutError: the write may or may not have happened; see stallTolerantTimeout), a connection
 * that drops fails its requests with ConnectionLost, and the next request opens a new connection.
 */
export function registerClient(
  endpoint: Endpoint,
  process: string,
  timeoutMs: number,
): RegisterClient & { open(): Promise<void>; close(): void } {
  let socket: Socket | null = null;
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (reply: RegisterReply) => void; reject: (error: Error) => void; timer: Timer }
  >();
  const fail = (error: Error) => {
    for (const [id, call] of pending) {
      call.timer.clear();
      call.reject(error);
      pending.delete(id);
    }
  };
  const connection = (): Socket => {
    if (socket !== null && !socket.destroyed) return socket;
    const fresh = createConnection({ host: endpoint.host, port: endpoint.port });
    fresh.setNoDelay(true);
    let buffered = '';
    fresh.on('data', (data) => {
      buffered += data.toString();
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const { id, reply } = JSON.parse(buffered.slice(0, newline)) as { id: number; reply: RegisterReply };
        buffered = buffered.slice(newline + 1);
        const call = pending.get(id);
        if (call === undefined) continue;
        pending.delete(id);
        call.timer.clear();
        call.resolve(reply);
      }
    });
    const lost = (why: string) => {
      if (socket === fresh) socket = null;
      fresh.destroy();
      fail(new ConnectionLost(`register: ${why}`));
    };
    fresh.on('error', (error) => lost(error.message));
    fresh.on('close', () => lost('connection closed'));
    socket = fresh;
    return fresh;
  };
  const call = (op: Request['op'], body: RegisterRequest): Promise<RegisterReply> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = stallTolerantTimeout(timeoutMs, () => {
        if (!pending.delete(id)) return;
        reject(new TimeoutError(`register: no answer to ${op} within ${timeoutMs}ms`));
      });
      pending.set(id, { resolve, reject, timer });
      connection().write(`${JSON.stringify({ id, op, body })}\n`);
    });
  return {
    /** Connect now, so that the first request does not wait for a connection (a pause then would time it out). */
    open: () =>
      new Promise<void>((resolve, reject) => {
        const socket = connection();
        if (!socket.connecting) {
          resolve();
          return;
        }
        socket.once('connect', () => resolve());
        socket.once('error', reject);
      }),
    read: (token) => call('read', { process, token }),
    write: (value, token) => call('write', { process, token, value }),
    increment: (token) => call('increment', { process, token }),
    close: () => {
      socket?.destroy();
      fail(new ConnectionLost('register: client closed'));
    },
  };
}

interface Timer {
  clear(): void;
}

/** How much later than due a timer may fire before its process is taken to have been stopped. */
const STALLED_MS = 20;

/**
 * A timeout that counts only time in which the process ran. A timer that fires well after it was
 * due means the process was stopped (a SIGSTOP, the scenario's pause) or starved: the request may
 * not even have been sent before it stopped, and if it was, the answer waiting in the socket is
 * read only after the timers have run. Either way the stall is not the register failing to answer,
 * so the request gets its whole time again. On a machine that keeps its timers, it times out on time.
 */
export function stallTolerantTimeout(ms: number, expire: () => void): Timer {
  let timer: NodeJS.Timeout;
  // Node's timers count whole milliseconds on its loop's own clock, so one may fire a little
  // before the due time kept here: it then waits out the rest.
  const arm = (dueMs: number) => {
    timer = setTimeout(
      () => {
        const lateMs = machineMonotonicMs() - dueMs;
        if (lateMs < 0) arm(dueMs);
        else if (lateMs > STALLED_MS) arm(machineMonotonicMs() + ms);
        else expire();
      },
      Math.max(0, dueMs - machineMonotonicMs()),
    );
  };
  arm(machineMonotonicMs() + ms);
  return { clear: () => clearTimeout(timer) };
}
