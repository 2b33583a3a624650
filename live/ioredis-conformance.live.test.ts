/**
 * The ioredis conformance cases (subjects/ioredis-conformance.ts) with ioredis on a real
 * redis-server: the same expectations the simulated client and server are held to in
 * subjects/ioredis-conformance.test.ts, so that each expectation is known to be what Redis says.
 * Runs when LIVE is set (LIVE=required: a redis-server that cannot be started fails the suite);
 * otherwise skipped, quietly (redis.live.test.ts prints the line saying the tier was skipped).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { IOREDIS_CASES, namespace, runCase, type CaseWorld } from '../subjects/ioredis-conformance.ts';
import { liveEnabled } from './gate.ts';
import { startRedis, type RedisServer } from './redis-server.ts';

/** Keys and scripts of this run: a rerun on the same server starts from none of them. */
const RUN = `${process.pid}-${Date.now().toString(36)}`;

const REAL_TIME: CaseWorld = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

describe('ioredis on a real redis-server: the conformance cases', { skip: !liveEnabled() && 'LIVE is not set' }, () => {
  let dir = '';
  let server: RedisServer | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-ioredis-conformance-'));
    server = await startRedis('conformance', dir, { persist: false });
  });

  after(async () => {
    const pid = server?.pid ?? undefined;
    await server?.stop();
    if (pid !== undefined) assert.throws(() => process.kill(pid, 0), 'the redis-server outlived the test');
    rmSync(dir, { recursive: true, force: true });
    assert.ok(!existsSync(dir));
  });

  IOREDIS_CASES.forEach((testCase, i) => {
    it(testCase.name, async () => {
      assert.ok(server !== undefined, 'no redis-server');
      // A connection per case, as the simulated client is: what a script cache per connection
      // (defineCommand's) holds starts empty in both.
      const client = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 0 });
      try {
        await runCase(client, testCase, namespace(RUN, i), REAL_TIME);
      } finally {
        client.disconnect();
      }
    });
  });
});
