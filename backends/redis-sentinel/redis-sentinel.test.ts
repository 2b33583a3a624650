import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sim } from '../../sim/sim.ts';
import type { Host } from '../../sim/node.ts';
import { runConformanceInSim } from '../conformance.ts';
import { electionSuite } from '../../test/suites/election-suite.ts';
import { lockSuite } from '../../test/suites/lock-suite.ts';
import { SENTINEL_DEFAULTS, sentinelIds, serverIds, type SentinelOptions, type SystemConfig } from '../system.ts';
import { sentinelConformance } from './conformance.ts';
import { redisSentinel } from './index.ts';
import type { SentinelPort } from './port.ts';
import { DATA_ROLE, DATA_STATE, type DataRole, type DataState } from './server.ts';

describe('redis-sentinel port conformance', () => runConformanceInSim(redisSentinel, sentinelConformance));

const SERVERS = serverIds(3);
const SENTINELS = sentinelIds(3);

/** A primary, two replicas and three Sentinels, and a client `c1` whose body gets its port. */
function cluster(
  body: (port: SentinelPort, host: Host, sim: Sim) => Promise<void>,
  sentinel: Partial<SentinelOptions> = {},
  seed = 1,
): Sim {
  const config: SystemConfig = {
    ttlMs: 2000,
    fencing: false,
    acquireTimeoutMs: 8000,
    name: 'l',
    sentinel: { ...SENTINEL_DEFAULTS, ...sentinel },
  };
  const sim = new Sim({ seed, network: { latency: { minMs: 1, maxMs: 3 } } });
  SERVERS.forEach((id, i) => sim.addNode(id, (host) => redisSentinel.bootServer(host, i + 1, SERVERS, config)));
  SENTINELS.forEach((id, i) =>
    sim.addNode(id, (host) => redisSentinel.sentinels?.boot(host, i + 1, SERVERS, SENTINELS, config)),
  );
  sim.addNode('c1', (host) => host.spawn('test', () => body(redisSentinel.simPorts(host, SERVERS, config), host, sim)));
  return sim;
}

function leaderOf(sim: Sim): string | null {
  return redisSentinel.leader?.(SERVERS, (id) => sim.host(id)) ?? null;
}

function stateOf(sim: Sim, server: string): DataState {
  return sim.host(server).disk.get(DATA_STATE) as DataState;
}

function roleOf(sim: Sim, server: string): DataRole {
  return sim.host(server).config.get(DATA_ROLE) as DataRole;
}

/** A call's outcome: its value, or the name of the error it threw. */
async function outcome<T>(call: () => PromiseLike<T>): Promise<T | string> {
  try {
    return await call();
  } catch (error) {
    return (error as Error).name;
  }
}

describe('redis-sentinel model', () => {
  it('replicates a write to both replicas within a few milliseconds, with its absolute expiry', async () => {
    const sim = cluster(async (port, host) => {
      await host.sleep(1500);
      assert.equal(await port.setNxPx('k', 'v', 60_000), true);
      await host.sleep(20);
    });
    await sim.run({ untilMs: 2000 });
    const primary = stateOf(sim, 'server-1').data.get('k');
    assert.ok(primary !== undefined);
    for (const replica of ['server-2', 'server-3']) assert.deepEqual(stateOf(sim, replica).data.get('k'), primary);
  });

  it('fails over within a few seconds of the primary crashing, and the port follows to the new primary', async () => {
    const seen: { atMs: number; leader: string | null; set: boolean | string }[] = [];
    const sim = cluster(async (port, host, sim) => {
      assert.equal(await port.setNxPx('before', 'v', 60_000), true);
      await host.sleep(200);
      sim.crash('server-1');
      for (let i = 0; i < 10; i++) {
        await host.sleep(500);
        seen.push({
          atMs: sim.nowMs,
          leader: leaderOf(sim),
          set: await outcome(() => port.setNxPx(`k${i}`, 'v', 60_000)),
        });
      }
    });
    await sim.run({ untilMs: 20_000 });
    const switched = seen.find((s) => s.leader !== 'server-1');
    assert.ok(switched !== undefined, JSON.stringify(seen));
    // down-after (1 s), a second of asking, the vote, then the promoted replica seen as primary.
    assert.ok(switched.atMs > 1200 && switched.atMs < 4500, `failover seen at ${switched.atMs} ms`);
    assert.ok(['server-2', 'server-3'].includes(switched.leader ?? ''));
    const last = seen.at(-1);
    assert.ok(last?.leader != null, JSON.stringify(seen));
    assert.equal(last.set, true, JSON.stringify(seen));
    // The new primary has what was replicated before the crash.
    assert.equal(stateOf(sim, last.leader).data.get('before')?.value, 'v');
  });

  it('a write the primary acknowledged but never replicated is lost in the failover', async () => {
    let after: string | null = 'unset';
    const sim = cluster(async (port, host, sim) => {
      await host.sleep(1500);
      sim.partition('server-1', 'server-2', { mode: 'drop' });
      sim.partition('server-1', 'server-3', { mode: 'drop' });
      assert.equal(await port.setNxPx('lock', 'mine', 60_000), true);
      sim.crash('server-1');
      await host.sleep(5000);
      after = await port.get('lock');
    });
    await sim.run({ untilMs: 10_000 });
    assert.notEqual(leaderOf(sim), 'server-1');
    assert.equal(after, null);
  });

  it('the old primary, back as a primary after a partition, is demoted about eight seconds later and loses what it took alone', async () => {
    const sim = cluster(async (port, host, sim) => {
      await host.sleep(1500);
      assert.equal(await port.setNxPx('before', 'v', 60_000), true);
      // The primary is cut off from everyone but this client, which keeps writing to it.
      for (const other of [...SERVERS.slice(1), ...SENTINELS]) sim.partition('server-1', other, { mode: 'drop' });
      await host.sleep(4000);
      assert.notEqual(leaderOf(sim), 'server-1');
      assert.equal(await port.setNxPx('alone', 'v', 60_000), true, 'the old primary still takes writes');
      for (const other of [...SERVERS.slice(1), ...SENTINELS]) sim.heal('server-1', other);
      await host.sleep(6000);
      assert.equal(roleOf(sim, 'server-1').replicaOf, null, 'demoted too soon');
      await host.sleep(5000);
      assert.equal(roleOf(sim, 'server-1').replicaOf, leaderOf(sim), 'not demoted');
      assert.equal(await port.get('alone'), null);
    });
    await sim.run({ untilMs: 20_000 });
  });

  it('a pause of the primary shorter than down-after-milliseconds fails nothing over; a longer one does', async () => {
    for (const [pauseMs, failsOver] of [
      [600, false],
      [3000, true],
    ] as const) {
      const sim = cluster(async (_port, host, sim) => {
        await host.sleep(1500);
        sim.pause('server-1');
        await host.sleep(pauseMs);
        sim.resume('server-1');
        await host.sleep(4000);
      });
      await sim.run({ untilMs: 10_000 });
      assert.equal(leaderOf(sim) !== 'server-1', failsOver, `pause of ${pauseMs} ms`);
    }
  });

  it('one Sentinel alone cannot fail over: the quorum is two', async () => {
    const sim = cluster(async (_port, host, sim) => {
      await host.sleep(1500);
      sim.partition('sentinel-1', 'server-1', { mode: 'drop' });
      await host.sleep(8000);
    });
    await sim.run({ untilMs: 10_000 });
    assert.equal(leaderOf(sim), 'server-1');
    assert.equal(roleOf(sim, 'server-1').replicaOf, null);
  });

  it('min-replicas-to-write refuses writes once no replica acked within the max lag, and takes them again after', async () => {
    const outcomes: (boolean | string)[] = [];
    const sim = cluster(
      async (port, host, sim) => {
        await host.sleep(1500);
        outcomes.push(await outcome(() => port.setNxPx('a', 'v', 60_000)));
        for (const replica of ['server-2', 'server-3']) sim.partition('server-1', replica, { mode: 'drop' });
        await host.sleep(3500);
        outcomes.push(await outcome(() => port.setNxPx('b', 'v', 60_000)));
        for (const replica of ['server-2', 'server-3']) sim.heal('server-1', replica);
        await host.sleep(1500);
        outcomes.push(await outcome(() => port.setNxPx('c', 'v', 60_000)));
      },
      { minReplicasToWrite: 1, minReplicasMaxLagS: 1 },
    );
    await sim.run({ untilMs: 10_000 });
    assert.deepEqual(outcomes, [true, 'WriteRefused', true]);
  });

  it('WAIT counts no replica while the replication links are cut, and both once they heal', async () => {
    const counts: number[] = [];
    const sim = cluster(async (port, host, sim) => {
      await host.sleep(1500);
      for (const replica of ['server-2', 'server-3']) sim.partition('server-1', replica, { mode: 'drop' });
      await port.setNxPx('k', 'v', 60_000);
      counts.push(await port.waitReplicas(1, 200));
      for (const replica of ['server-2', 'server-3']) sim.heal('server-1', replica);
      // The missing write reaches each replica at its next ack, within a second.
      counts.push(await port.waitReplicas(2, 1500));
    });
    await sim.run({ untilMs: 10_000 });
    assert.deepEqual(counts, [0, 2]);
  });

  it('a primary restarted without persistence before Sentinel notices comes back empty, and its replicas follow it', async () => {
    let after: string | null = 'unset';
    const sim = cluster(async (port, host, sim) => {
      await host.sleep(1500);
      assert.equal(await port.setNxPx('k', 'v', 60_000), true);
      await host.sleep(100);
      sim.crash('server-1');
      sim.restart('server-1', { persist: false });
      await host.sleep(3000);
      after = await port.get('k');
    });
    await sim.run({ untilMs: 6000 });
    assert.equal(leaderOf(sim), 'server-1');
    assert.equal(after, null);
    for (const replica of ['server-2', 'server-3']) assert.equal(stateOf(sim, replica).data.get('k'), undefined);
  });
});

describe('redis-sentinel restarts', () => {
  it('a promoted replica restarted without persistence keeps its rewritten role: it comes back a primary, empty', async () => {
    const seen: { promoted: string | null } = { promoted: null };
    const sim = cluster(async (port, host, sim) => {
      await host.sleep(1500);
      assert.equal(await port.setNxPx('k', 'v', 60_000), true);
      await host.sleep(100);
      sim.crash('server-1');
      await host.sleep(5000);
      const promoted = leaderOf(sim);
      assert.ok(promoted !== null && promoted !== 'server-1');
      seen.promoted = promoted;
      sim.crash(promoted);
      sim.restart(promoted, { persist: false });
      await host.sleep(200);
    });
    await sim.run({ untilMs: 8000 });
    const { promoted } = seen;
    assert.ok(promoted !== null);
    assert.equal(roleOf(sim, promoted).replicaOf, null);
    assert.equal(stateOf(sim, promoted).data.size, 0);
  });
});

describe('redis-sentinel lock', () => {
  it('with WAIT 1, a grant no replica acknowledges is released and tried again; the first grant comes once a replica has it', async () => {
    const config: SystemConfig = {
      ttlMs: 2000,
      fencing: true,
      acquireTimeoutMs: 8000,
      name: 'l',
      sentinel: { ...SENTINEL_DEFAULTS, waitReplicas: 1 },
    };
    let grantedAtMs = -1;
    let keyWhileCut: string | null | undefined;
    const sim = cluster(async (port, host, sim) => {
      await host.sleep(1500);
      for (const replica of ['server-2', 'server-3']) sim.partition('server-1', replica, { mode: 'drop' });
      sim.after(1000, 'heal', () => {
        keyWhileCut = stateOf(sim, 'server-1').data.get('l')?.value ?? null;
        for (const replica of ['server-2', 'server-3']) sim.heal('server-1', replica);
      });
      const grant = await redisSentinel.lock(host, port, config).acquire();
      assert.ok(grant !== null);
      grantedAtMs = sim.nowMs;
      // Every attempt took a token before its WAIT: the refused ones used some up.
      assert.ok(grant.token !== null && grant.token > 1, `token ${String(grant.token)}`);
      await host.sleep(10);
    }, config.sentinel);
    await sim.run({ untilMs: 10_000 });
    assert.ok(grantedAtMs > 2500, `granted at ${grantedAtMs} ms, while the replicas were cut off`);
    assert.ok(grantedAtMs < 4000, `granted at ${grantedAtMs} ms`);
    // A refused grant is deleted at once: nothing of it is left on the primary between attempts.
    assert.equal(keyWhileCut, null);
    for (const replica of ['server-2', 'server-3']) assert.ok(stateOf(sim, replica).data.has('l'));
  });

  it('a write refused by a guarded primary (NOREPLICAS) is an acquire not won, not an error', async () => {
    const config: SystemConfig = {
      ttlMs: 1000,
      fencing: false,
      acquireTimeoutMs: 1500,
      name: 'l',
      sentinel: { ...SENTINEL_DEFAULTS, minReplicasToWrite: 2, minReplicasMaxLagS: 1 },
    };
    let outcome: unknown = 'unset';
    const sim = cluster(async (port, host, sim) => {
      await host.sleep(1500);
      sim.crash('server-3');
      await host.sleep(3000);
      outcome = await redisSentinel.lock(host, port, config).acquire();
    }, config.sentinel);
    await sim.run({ untilMs: 10_000 });
    assert.equal(outcome, null);
  });
});

// The holder's key lives on for its TTL after a client crash, as on single Redis.
lockSuite(redisSentinel, { pauseBeyondTtl: 'unsafe', partitionBeyondTtl: 'unsafe', crashRecoveryMs: [800, 1100] });
electionSuite(redisSentinel, { pauseBeyondTtl: 'unsafe', failoverMs: [600, 1100] });
