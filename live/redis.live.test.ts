/**
 * The live tier, first slice: the Redis port against a real redis-server behind Toxiproxy.
 * Runs when LIVE is set (LIVE=required fails if a server cannot be had); otherwise skipped with
 * one loud line. Install the servers with scripts/install-servers.sh.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { runConformanceOutside } from '../backends/conformance.ts';
import { redisConformance } from '../backends/redis/conformance.ts';
import { LiveRedisPort } from '../backends/redis/live-port.ts';
import { TimeoutError } from '../sim/errors.ts';
import { ConnectionLost } from '../backends/errors.ts';
import { RealClock } from './clock.ts';
import { LiveRuntime } from './runtime.ts';
import { RedisLock } from '../backends/redis/lock.ts';
import { startRedis, type RedisServer } from './redis-server.ts';
import { Toxiproxy } from './toxiproxy.ts';
import { announceLiveTier, liveEnabled } from './gate.ts';

announceLiveTier();
const enabled = liveEnabled();

const REQUEST_TIMEOUT_MS = 500;

describe('redis live port on a real redis-server behind Toxiproxy', { skip: !enabled && 'LIVE is not set' }, () => {
  let dir = '';
  let toxiproxy: Toxiproxy;
  let server: RedisServer;
  let proxyPort = 0;
  const clients: Redis[] = [];
  const connect = () => {
    const client = new Redis({
      host: '127.0.0.1',
      port: proxyPort,
      commandTimeout: REQUEST_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      lazyConnect: false,
    });
    // Connection errors reach the commands that suffer them; the event itself is only noise.
    client.on('error', () => {});
    clients.push(client);
    return client;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-live-'));
    toxiproxy = await Toxiproxy.start(dir);
    server = await startRedis('redis-1', dir, { persist: false });
    proxyPort = await toxiproxy.proxy('c1-redis-1', `127.0.0.1:${server.port}`);
  });

  after(async () => {
    for (const client of clients) client.disconnect();
    // before() may have failed before it started these.
    const startedServer = server as RedisServer | undefined;
    const startedProxy = toxiproxy as Toxiproxy | undefined;
    const pids = [startedServer?.pid ?? undefined, startedProxy?.process?.pid];
    await startedServer?.stop();
    await startedProxy?.stop();
    for (const pid of pids) {
      if (pid === undefined) continue;
      assert.throws(() => process.kill(pid, 0), 'a server outlived the test');
    }
    rmSync(dir, { recursive: true, force: true });
    assert.ok(!existsSync(dir));
  });

  runConformanceOutside('redis live port (redis-server via Toxiproxy)', redisConformance, async () => {
    const a = connect();
    const b = connect();
    await a.flushall();
    return { port: new LiveRedisPort(a), other: new LiveRedisPort(b), clock: new RealClock(), close: async () => {} };
  });

  it('runs the same RedisLock recipe as the simulator: one holder at a time, and the lease runs out by itself', async () => {
    const options = { name: 'live-lock', ttlMs: 400, fencing: true, acquireTimeoutMs: 150, retryDelayMs: 20 };
    const first = new RedisLock(new LiveRuntime('c1'), new LiveRedisPort(connect()), options);
    const second = new RedisLock(new LiveRuntime('c2'), new LiveRedisPort(connect()), options);
    const held = await first.acquire();
    assert.ok(held !== null && typeof held.token === 'number');
    assert.equal(await second.acquire(), null, 'a second client must not get a held lock');
    await new RealClock().sleep(450);
    const after = await second.acquire();
    assert.ok(after !== null, 'the lease ran out, so the lock is free again');
    assert.ok(after.token! > held.token, 'tokens grow');
    await second.release(after);
    const third = await first.acquire();
    assert.ok(third !== null, 'released, so free at once');
    await first.release(third);
  });

  it('a timeout toxic (silence, a drop partition) makes a command time out with TimeoutError; removing it heals', async () => {
    const port = new LiveRedisPort(connect());
    assert.equal(await port.incr('silence-check'), 1);
    await toxiproxy.addToxic('c1-redis-1', {
      name: 'silence',
      type: 'timeout',
      stream: 'upstream',
      attributes: { timeout: 0 },
    });
    await assert.rejects(port.incr('silence-check'), (error: unknown) => error instanceof TimeoutError);
    await toxiproxy.removeToxic('c1-redis-1', 'silence');
    assert.equal(await new LiveRedisPort(connect()).incr('silence-check'), 2);
  });

  it('a disabled proxy resets the connection: ConnectionLost, and a new connection works once it is enabled', async () => {
    const port = new LiveRedisPort(connect());
    assert.equal(await port.incr('reset-check'), 1);
    await toxiproxy.setEnabled('c1-redis-1', false);
    await assert.rejects(port.incr('reset-check'), (error: unknown) => error instanceof ConnectionLost);
    await toxiproxy.setEnabled('c1-redis-1', true);
    assert.equal(await new LiveRedisPort(connect()).incr('reset-check'), 2);
  });
});
