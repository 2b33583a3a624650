/**
 * A private redis-server for the live harness: its own port on 127.0.0.1, its own directory and
 * log. With persistence on it keeps an append-only file synced on every write (appendfsync
 * always), so a crash loses nothing acknowledged; off, it keeps nothing on disk, so a restart
 * comes back empty.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ask, freePort, ManagedServer } from './process.ts';

export class RedisServer extends ManagedServer {
  private constructor(
    name: string,
    readonly dir: string,
    readonly port: number,
    persist: boolean,
  ) {
    super(RedisServer.spec(name, dir, port, persist));
    this.persistValue = persist;
  }

  private persistValue: boolean;

  static async create(name: string, dir: string, persist = false): Promise<RedisServer> {
    return new RedisServer(name, dir, await freePort(), persist);
  }

  private static spec(name: string, dir: string, port: number, persist: boolean) {
    const persistence = persist
      ? ['--appendonly', 'yes', '--appendfsync', 'always', '--appenddirname', `${name}-aof`]
      : ['--appendonly', 'no'];
    return {
      name,
      command: 'redis-server',
      args: [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--dir',
        dir,
        '--dbfilename',
        `${name}.rdb`,
        ...persistence,
      ],
      logFile: join(dir, `${name}.log`),
      ready: async () =>
        (await ask(port, 'PING\r\n', { complete: (a) => a.includes('\r\n'), timeoutMs: 500 })).startsWith('+PONG'),
      timeoutMs: 10_000,
    };
  }

  get persist(): boolean {
    return this.persistValue;
  }

  /** Takes effect at the next start. */
  setPersist(persist: boolean): void {
    this.persistValue = persist;
    this.spec = RedisServer.spec(this.name, this.dir, this.port, persist);
  }

  /** Throw away what the server keeps on disk (it must not be running). */
  wipe(): void {
    rmSync(join(this.dir, `${this.name}-aof`), { recursive: true, force: true });
    rmSync(join(this.dir, `${this.name}.rdb`), { force: true });
  }
}

export async function startRedis(name: string, dir: string, options: { persist: boolean }): Promise<RedisServer> {
  const server = await RedisServer.create(name, dir, options.persist);
  await server.start();
  return server;
}
