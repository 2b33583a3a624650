import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sim } from '../../sim/sim.ts';
import type { Host } from '../../sim/node.ts';
import { electionSuite } from '../../test/suites/election-suite.ts';
import { lockSuite } from '../../test/suites/lock-suite.ts';
import { runConformanceInSim } from '../conformance.ts';
import { serverIds } from '../system.ts';
import type { RedisPort } from '../redis/port.ts';
import { SimRedisPort } from '../redis/sim-port.ts';
import { redlock } from './index.ts';
import { redlockConformance } from './conformance.ts';
import { Redlock, type RedlockGrant, type RedlockOptions } from './lock.ts';

const NODES = serverIds(5);
const OPTIONS: RedlockOptions = {
  name: 'l',
  ttlMs: 1000,
  fencing: false,
  acquireTimeoutMs: 300,
  requestTimeoutMs: 20,
  retryDelayMs: 20,
};

/** Five Redis nodes and a function to run client code against them. */
function world(seed: number, latencyMs = { minMs: 1, maxMs: 3 }) {
  const sim = new Sim({ seed, network: { latency: latencyMs } });
  NODES.forEach((id, i) =>
    sim.addNode(id, (host) =>
      redlock.bootServer(host, i + 1, NODES, { ttlMs: 1000, fencing: false, acquireTimeoutMs: 1000, name: 'l' }),
    ),
  );
  const client = (
    id: string,
    body: (host: Host, ports: RedisPort[]) => Promise<void>,
    requestTimeoutMs = OPTIONS.requestTimeoutMs,
  ) =>
    sim.addNode(id, (host) =>
      host.spawn(id, () =>
        body(
          host,
          NODES.map((n) => new SimRedisPort(host, n, requestTimeoutMs)),
        ),
      ),
    );
  return { sim, client };
}

describe('redlock port conformance', () => runConformanceInSim(redlock, redlockConformance));

describe('redlock algorithm', () => {
  it('refuses fewer than 3 nodes, and a per-node timeout that is not small next to the TTL', () => {
    const sim = new Sim({ seed: 1 });
    const host = sim.addNode('c1');
    const ports = NODES.map((n) => new SimRedisPort(host, n, 20));
    assert.throws(() => new Redlock(host, ports.slice(0, 2), OPTIONS), /nodes must be at least 3 .* got 2/);
    assert.throws(
      () => new Redlock(host, ports, { ...OPTIONS, requestTimeoutMs: 1000 }),
      /requestTimeoutMs \(1000\) must be smaller than ttlMs \(1000\)/,
    );
    assert.throws(
      () => new Redlock(host, ports, { ...OPTIONS, ttlMs: -1 }),
      /ttlMs must be a finite number > 0, got -1/,
    );
  });

  it('needs a majority: with three of five nodes down it never grants', async () => {
    const { sim, client } = world(1);
    let grant: RedlockGrant | null | undefined;
    client('c1', async (host, ports) => {
      grant = await new Redlock(host, ports, OPTIONS).acquire();
    });
    sim.at(0, 'crash', () => ['server-1', 'server-2', 'server-3'].forEach((id) => sim.crash(id)));
    await sim.run();
    assert.equal(grant, null);
  });

  it('grants with validity = ttl - elapsed - drift when a majority answers in time', async () => {
    const { sim, client } = world(1, { minMs: 10, maxMs: 10 });
    // Assigned inside a node's code: the assertion keeps TypeScript from narrowing it to null here.
    let grant = null as RedlockGrant | null;
    client(
      'c1',
      async (host, ports) => {
        grant = await new Redlock(host, ports, { ...OPTIONS, requestTimeoutMs: 50 }).acquire();
      },
      50,
    );
    await sim.run();
    assert.ok(grant !== null);
    const g = grant;
    // Every node answers at the same instant; the round ends at the third yes, a majority.
    assert.equal(g.won.length, 3);
    // The round took one 20 ms round trip; drift is 1% of 1000 + 2 = 12 ms; the boot took no time.
    assert.equal(g.validUntilMs, 0 + 1000 - 20 - 12);
  });

  it('rejects a lock whose validity expired during acquisition, and releases every node it reached', async () => {
    const { sim, client } = world(1, { minMs: 495, maxMs: 495 });
    const released: boolean[] = [];
    let grant: RedlockGrant | null | undefined;
    client(
      'c1',
      async (host, ports) => {
        const spied = ports.map((port) => spyOnDelete(port, released));
        grant = await new Redlock(host, spied, { ...OPTIONS, requestTimeoutMs: 999, acquireTimeoutMs: 1 }).acquire();
      },
      999,
    );
    await sim.run();
    assert.equal(grant, null, 'every node said yes, but 990 ms of round trip + 12 ms drift leave no validity');
    assert.deepEqual(released, [true, true, true, true, true]);
  });

  it('grants the same lock twice when a node of the first majority jumps its wall clock forward (Kleppmann), and not without the jump', async () => {
    for (const jumpMs of [2000, 0]) {
      const { sim, client } = world(3);
      const grants: Record<string, RedlockGrant | null> = {};
      const options = { ...OPTIONS, acquireTimeoutMs: 200 };
      client('c1', async (host, ports) => {
        grants.c1 = await new Redlock(host, ports, options).acquire();
      });
      client('c2', async (host, ports) => {
        await host.sleep(100);
        grants.c2 = await new Redlock(host, ports, options).acquire();
      });
      splitMajorities(sim);
      sim.at(50, 'jump', () => sim.jumpClock('server-3', jumpMs));
      await sim.run();
      assert.ok(grants.c1, 'c1 won first');
      if (jumpMs === 0) {
        assert.equal(grants.c2, null, 'without the jump, server-3 keeps c1 in the lock');
      } else {
        assert.ok(grants.c2, 'after the jump, c2 won a majority too');
        assert.ok(sim.nowMs < grants.c1.validUntilMs, 'c1 still believed it held the lock when c2 won it');
      }
    }
  });

  it('grants twice when a node of the majority restarts at once without persistence, and not when the restart waits out the TTL', async () => {
    for (const [restartAfterMs, expectSecond] of [
      [1, true],
      [1100, false],
    ] as const) {
      const { sim, client } = world(4);
      const grants: Record<string, RedlockGrant | null> = {};
      client('c1', async (host, ports) => {
        grants.c1 = await new Redlock(host, ports, OPTIONS).acquire();
      });
      client('c2', async (host, ports) => {
        await host.sleep(100);
        grants.c2 = await new Redlock(host, ports, { ...OPTIONS, acquireTimeoutMs: 500 }).acquire();
      });
      splitMajorities(sim);
      sim.at(50, 'crash', () => sim.crash('server-3'));
      sim.at(50 + restartAfterMs, 'restart', () => sim.restart('server-3', { persist: false }));
      await sim.run();
      assert.ok(grants.c1, 'c1 won first');
      assert.equal(
        grants.c2 !== null,
        expectSecond,
        `restart after ${restartAfterMs} ms: c2 ${grants.c2 ? 'won' : 'did not win'}`,
      );
    }
  });
});

/** c1 reaches only servers 1-3, c2 only servers 3-5: server-3 is in both majorities. */
function splitMajorities(sim: Sim): void {
  for (const id of ['server-4', 'server-5']) sim.partition('c1', id);
  for (const id of ['server-1', 'server-2']) sim.partition('c2', id);
}

function spyOnDelete(port: RedisPort, released: boolean[]): RedisPort {
  return {
    setNxPx: (k, v, t) => port.setNxPx(k, v, t),
    extendIfEqual: (k, v, t) => port.extendIfEqual(k, v, t),
    incr: (k) => port.incr(k),
    get: (k) => port.get(k),
    pttl: (k) => port.pttl(k),
    deleteIfEqual: async (k, v) => {
      const deleted = await port.deleteIfEqual(k, v);
      released.push(deleted);
      return deleted;
    },
  };
}

lockSuite(redlock, { pauseBeyondTtl: 'unsafe', partitionBeyondTtl: 'unsafe', crashRecoveryMs: [700, 1200] });
// A crashed leader's key lives on from its last renewal, up to ttl/3 before the crash: failover takes 2/3 to 1 TTL.
electionSuite(redlock, { pauseBeyondTtl: 'unsafe', failoverMs: [600, 1200] });
