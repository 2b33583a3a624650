/** A private redis-server for the live harness: its own port on 127.0.0.1, its own directory and log, no persistence. */
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort, startProcess, type Started } from './process.ts';

export interface RedisServer extends Started {
  readonly port: number;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      resolve(data.toString().startsWith('+PONG'));
      socket.destroy();
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startRedis(name: string, dir: string, options: { persist: boolean }): Promise<RedisServer> {
  const port = await freePort();
  const persistence = options.persist ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const started = await startProcess(name, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...persistence], {
    logFile: join(dir, `${name}.log`),
    ready: () => answersPing(port),
    timeoutMs: 10_000,
  });
  return { ...started, port };
}
