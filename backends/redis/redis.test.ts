import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sim } from '../../sim/sim.ts';
import { runConformanceInSim } from '../conformance.ts';
import { electionSuite } from '../../test/suites/election-suite.ts';
import { lockSuite } from '../../test/suites/lock-suite.ts';
import { redisConformance } from './conformance.ts';
import { redis } from './index.ts';
import { RedisModel } from './server.ts';
import { SimRedisPort } from './sim-port.ts';
import { RedisLock } from './lock.ts';
import { RecipeConfigError } from '../recipe.ts';

describe('redis port conformance', () => runConformanceInSim(redis, redisConformance));

describe('redis server model', () => {
  it('expires keys by its wall clock, so a jump forward expires them early', () => {
    const model = new RedisModel(new Map());
    assert.equal(model.execute({ op: 'set-nx-px', key: 'k', value: 'v', ttlMs: 1000 }, 0), true);
    assert.equal(model.execute({ op: 'get', key: 'k' }, 999), 'v');
    assert.equal(model.execute({ op: 'get', key: 'k' }, 1000), null);
  });

  it('a wall-clock jump on the server node expires a lock key; a monotonic-only drift does not jump it', async () => {
    const sim = new Sim({ seed: 1 });
    sim.addNode('server-1', (host) =>
      redis.bootServer(host, 1, ['server-1'], { ttlMs: 1000, fencing: false, acquireTimeoutMs: 1000, name: 'x' }),
    );
    const seen: (string | null)[] = [];
    sim.addNode('c1', (host) =>
      host.spawn('probe', async () => {
        const port = new SimRedisPort(host, 'server-1', 200);
        await port.setNxPx('k', 'v', 10_000);
        await host.sleep(100);
        seen.push(await port.get('k'));
        await host.sleep(100);
        seen.push(await port.get('k'));
      }),
    );
    sim.at(150, 'jump', () => sim.jumpClock('server-1', 20_000));
    await sim.run();
    assert.deepEqual(seen, ['v', null]);
  });

  it('a crash loses every key unless the restart persists (AOF, fsync always)', async () => {
    for (const persist of [false, true]) {
      const sim = new Sim({ seed: 1 });
      sim.addNode('server-1', (host) =>
        redis.bootServer(host, 1, ['server-1'], { ttlMs: 1000, fencing: false, acquireTimeoutMs: 1000, name: 'x' }),
      );
      let after: string | null | undefined;
      sim.addNode('c1', (host) =>
        host.spawn('probe', async () => {
          const port = new SimRedisPort(host, 'server-1', 200);
          await port.setNxPx('k', 'v', 60_000);
          await host.sleep(1000);
          after = await port.get('k');
        }),
      );
      sim.at(100, 'crash', () => sim.crash('server-1'));
      sim.at(200, 'restart', () => sim.restart('server-1', { persist }));
      await sim.run();
      assert.equal(after, persist ? 'v' : null);
    }
  });
});

describe('redis recipes', () => {
  it('refuse impossible parameters, naming them', () => {
    const sim = new Sim({ seed: 1 });
    const host = sim.addNode('c1');
    const port = new SimRedisPort(host, 'c1', 100);
    const base = { name: 'l', ttlMs: 1000, fencing: false, acquireTimeoutMs: 1000, retryDelayMs: 10 };
    assert.throws(
      () => new RedisLock(host, port, { ...base, ttlMs: 0 }),
      new RecipeConfigError('ttlMs must be a finite number > 0, got 0'),
    );
    assert.throws(
      () => new RedisLock(host, port, { ...base, retryDelayMs: -5 }),
      /retryDelayMs must be a finite number > 0, got -5/,
    );
    assert.throws(() => new RedisLock(host, port, { ...base, name: '' }), /name must be a non-empty string/);
  });
});

lockSuite(redis, { pauseBeyondTtl: 'unsafe', partitionBeyondTtl: 'unsafe', crashRecoveryMs: [800, 1100] });
// A crashed leader's key lives on from its last renewal, up to ttl/3 before the crash: failover takes 2/3 to 1 TTL.
electionSuite(redis, { pauseBeyondTtl: 'unsafe', failoverMs: [600, 1100] });
