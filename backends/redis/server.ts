/**
 * A Redis server, as far as locks need one.
 *
 * Fault model. One node, single-threaded, so commands are atomic and totally ordered.
 *   - Keys expire by the server's *wall* clock: Redis 7.0 compares a key's absolute expiry time
 *     with gettimeofday. A wall-clock jump forward therefore expires keys early; a jump back
 *     keeps them alive longer. Expiry is judged whenever a key is touched, which is what a client
 *     can observe of Redis's lazy and active expiry alike.
 *   - A crash loses every key, unless the restart persists, which stands for AOF with
 *     `appendfsync always`: every acknowledged write is on disk, expiry times stored as absolute
 *     wall-clock times, exactly as the AOF rewrites PEXPIRE into PEXPIREAT.
 *   - Pauses and partitions come from the kernel.
 * Left out: replication (RedLock uses independent masters), eviction, memory limits, cluster.
 */
import type { Host } from '../../sim/node.ts';
import { ServerEndpoint, type Incoming } from '../shared/endpoint/endpoint.ts';
import { RedisCommands } from './commands.ts';
import { liveEntry, type Entry } from './keyspace.ts';
import { toWire, type WireReply } from './reply.ts';

export type { Entry } from './keyspace.ts';

export type RedisCommand =
  | { op: 'set-nx-px'; key: string; value: string; ttlMs: number }
  | { op: 'get'; key: string }
  | { op: 'del-if-equal'; key: string; value: string }
  | { op: 'pexpire-if-equal'; key: string; value: string; ttlMs: number }
  | { op: 'incr'; key: string }
  | { op: 'pttl'; key: string }
  /** Any command, as a client library sends it (commands.ts): lock libraries under test use this. */
  | { op: 'cmd'; args: string[] };

export type RedisReply = boolean | WireReply;

const DATA = 'redis.data';

/** The keyspace and its commands: a pure function of (state, command, wall time). */
export class RedisModel {
  private readonly commands: RedisCommands;

  /** `scripts`: the Lua scripts the server knows (volatile: a restart forgets them, as Redis does). */
  constructor(
    private readonly data: Map<string, Entry>,
    scripts = new Map<string, string>(),
  ) {
    this.commands = new RedisCommands(data, scripts);
  }

  execute(command: RedisCommand, wallMs: number): RedisReply {
    switch (command.op) {
      case 'cmd':
        return toWire(this.commands.execute(command.args, wallMs));
      case 'set-nx-px': {
        if (this.live(command.key, wallMs) !== undefined) return false;
        this.data.set(command.key, { value: command.value, expiresAtMs: wallMs + command.ttlMs });
        return true;
      }
      case 'get':
        return this.live(command.key, wallMs)?.value ?? null;
      case 'del-if-equal': {
        if (this.live(command.key, wallMs)?.value !== command.value) return false;
        this.data.delete(command.key);
        return true;
      }
      case 'pexpire-if-equal': {
        const entry = this.live(command.key, wallMs);
        if (entry?.value !== command.value) return false;
        entry.expiresAtMs = wallMs + command.ttlMs;
        return true;
      }
      case 'incr': {
        const entry = this.live(command.key, wallMs);
        const next = (entry === undefined ? 0 : Number(entry.value)) + 1;
        if (!Number.isSafeInteger(next)) throw new Error('ERR value is not an integer or out of range');
        this.data.set(command.key, { value: String(next), expiresAtMs: entry?.expiresAtMs ?? null });
        return next;
      }
      case 'pttl': {
        const entry = this.live(command.key, wallMs);
        if (entry === undefined) return -2;
        return entry.expiresAtMs === null ? -1 : Math.max(0, Math.round(entry.expiresAtMs - wallMs));
      }
    }
  }

  private live(key: string, wallMs: number): Entry | undefined {
    return liveEntry(this.data, key, wallMs);
  }
}

/** Boot a Redis server on `host`. Its keyspace lives on the host's disk: see the fault model. */
export function redisServer(host: Host): void {
  let data = host.disk.get(DATA) as Map<string, Entry> | undefined;
  if (data === undefined) {
    data = new Map();
    host.disk.set(DATA, data);
  }
  const model = new RedisModel(data);
  new ServerEndpoint(host, (request: Incoming) => {
    try {
      request.reply(model.execute(request.body as RedisCommand, host.clock.now()));
    } catch (error) {
      request.fail((error as Error).message);
    }
  });
}
