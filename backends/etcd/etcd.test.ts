import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sim } from '../../sim/sim.ts';
import type { ClockConfig } from '../../sim/clock.ts';
import type { Host } from '../../sim/node.ts';
import { runConformanceInSim } from '../conformance.ts';
import { electionSuite } from '../../test/suites/election-suite.ts';
import { lockSuite } from '../../test/suites/lock-suite.ts';
import { RecipeConfigError, type Grant, type Leadership } from '../recipe.ts';
import { serverIds, type EtcdMutex, type SystemConfig } from '../system.ts';
import { etcdConformance } from './conformance.ts';
import { EtcdElection } from './election.ts';
import { etcd, etcdLockOptions, etcdRequestTimeoutMs } from './index.ts';
import { EtcdLock, type EtcdGrant } from './lock.ts';
import type { KeyValue } from './port.ts';
import { isTransient } from './client/session.ts';
import { SimEtcdPort } from './sim-port.ts';

const CONFIG: SystemConfig = { ttlMs: 1000, fencing: true, acquireTimeoutMs: 3000, name: 'model' };
/** By then the cluster has elected its first leader: elections take 250..500 ms at this TTL. */
const SETTLED_MS = 1000;

/** Three etcd members; clients added later reach them through their own SimEtcdPort. */
function cluster(seed: number) {
  const sim = new Sim({ seed, network: { latency: { minMs: 1, maxMs: 3 } } });
  const servers = serverIds(etcd.serverCount(CONFIG));
  servers.forEach((id, i) => sim.addNode(id, (host) => etcd.bootServer(host, i + 1, servers, CONFIG)));
  const client = (id: string, body: (host: Host, port: SimEtcdPort) => Promise<void>, clock: ClockConfig = {}) =>
    sim.addNode(id, {
      ...clock,
      factory: (host) =>
        host.spawn(id, () => body(host, new SimEtcdPort(host, servers, etcdRequestTimeoutMs(CONFIG.ttlMs)))),
    });
  const leader = () => etcd.leader!(servers, (id) => sim.host(id));
  return { sim, servers, client, leader };
}

/** Call `operation` until it answers, across timeouts, resets and elections (a test's patience, bounded). */
async function retrying<T>(host: Host, operation: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isTransient(error) || attempt >= 100) throw error;
      await host.sleep(20);
    }
  }
}

/**
 * A holder keeps the lock for 1.55 s; a waiter queued behind it goes deaf to the servers' side (its
 * keepalives stop arriving) until just before the release, so its lease is revoked while it waits.
 * Its clock runs at half speed: by its count its lease has half a TTL left when the server revokes
 * it, so only a look at its own key can tell. What it is granted on, and whether that key exists.
 */
async function waiterWhoseLeaseRanOut(
  etcdMutex: EtcdMutex,
): Promise<{ token: number | null; kv: KeyValue | null } | null> {
  const { sim, servers, client } = cluster(6);
  await sim.run({ untilMs: SETTLED_MS });
  const releaseAtMs = SETTLED_MS + 1550;
  let granted: { token: number | null; kv: KeyValue | null } | null = null;
  client('holder', async (host, port) => {
    const lock = new EtcdLock(host, port, etcdLockOptions(CONFIG));
    const grant = await lock.acquire();
    await host.sleep(releaseAtMs - sim.nowMs);
    await lock.release(grant!);
  });
  client(
    'waiter',
    async (host, port) => {
      await host.sleep(50);
      // One long watch, so the waiter hears of the release without going round its loop.
      const grant = await new EtcdLock(host, port, {
        ...etcdLockOptions({ ...CONFIG, etcdMutex }),
        watchSliceMs: 10_000,
        acquireTimeoutMs: 10_000,
      }).acquire();
      granted = { token: grant?.token ?? null, kv: await retrying(host, () => port.get((grant as EtcdGrant).key)) };
    },
    { driftPpm: -500_000 },
  );
  // The waiter's keepalives stop arriving; what the servers send it (the watch event) still does.
  sim.at(SETTLED_MS + 500, 'mute-waiter', () => servers.forEach((id) => sim.partition('waiter', id, { oneWay: true })));
  sim.at(releaseAtMs - 50, 'unmute-waiter', () => servers.forEach((id) => sim.heal('waiter', id, { oneWay: true })));
  await sim.run({ untilMs: SETTLED_MS + 8 * CONFIG.ttlMs });
  return granted;
}

interface Sighting {
  /** Since the lease was asked for. */
  readonly atMs: number;
  readonly present: boolean;
}

/** Client c1 puts key `k` under a new lease, then looks for it every 100 ms for `forMs`; the array fills as it looks. */
function watchLeasedKey(client: ReturnType<typeof cluster>['client'], forMs: number): Sighting[] {
  const seen: Sighting[] = [];
  client('c1', async (host, port) => {
    const sentAtMs = host.clock.monotonic();
    const lease = await retrying(host, () => port.grantLease(CONFIG.ttlMs));
    await retrying(host, () => port.putIfAbsent('k', '', lease.id));
    while (host.clock.monotonic() - sentAtMs < forMs) {
      const kv = await retrying(host, () => port.get('k'));
      seen.push({ atMs: host.clock.monotonic() - sentAtMs, present: kv !== null });
      await host.sleep(100);
    }
  });
  return seen;
}

describe('etcd port conformance', () => runConformanceInSim(etcd, etcdConformance));

describe('etcd server model', () => {
  it('a wall-clock jump of an hour on every member leaves a lease alone: it still expires a TTL after its last keepalive', async () => {
    const { sim, servers, client } = cluster(1);
    await sim.run({ untilMs: SETTLED_MS });
    const seen = watchLeasedKey(client, 2 * CONFIG.ttlMs);
    sim.at(SETTLED_MS + 200, 'jump', () => servers.forEach((id) => sim.jumpClock(id, 3_600_000)));
    await sim.run({ untilMs: SETTLED_MS + 3 * CONFIG.ttlMs });
    const firstGone = seen.find((s) => !s.present);
    assert.ok(
      seen.some((s) => s.present && s.atMs > 300),
      'the key was not seen after the jump',
    );
    assert.ok(firstGone !== undefined, 'the lease never expired');
    assert.ok(
      firstGone.atMs >= CONFIG.ttlMs && firstGone.atMs <= CONFIG.ttlMs + 150,
      `the key went ${firstGone.atMs}ms after the grant`,
    );
  });

  it('a leader crash elects another leader, and its leases survive with a fresh TTL instead of expiring', async () => {
    const { sim, client, leader } = cluster(2);
    await sim.run({ untilMs: SETTLED_MS });
    const crashed = leader();
    assert.ok(crashed !== null, 'no leader after the first election');
    const seen = watchLeasedKey(client, 4 * CONFIG.ttlMs);
    // 0.6 TTL into the lease: without a fresh TTL, it would run out during the election.
    sim.at(SETTLED_MS + 0.6 * CONFIG.ttlMs, 'crash', () => sim.crash(crashed));
    await sim.run({ untilMs: SETTLED_MS + 5 * CONFIG.ttlMs });
    const now = leader();
    assert.ok(now !== null && now !== crashed, `leader after the crash: ${String(now)}`);
    const pastOldDeadline = seen.find((s) => s.atMs > CONFIG.ttlMs + 200);
    assert.equal(
      pastOldDeadline?.present,
      true,
      `the key was gone ${pastOldDeadline?.atMs}ms after the grant, past its first TTL`,
    );
    assert.equal(seen.at(-1)?.present, false, 'the lease never expired under the new leader');
  });

  it('keeps a lease alive on the member it uses even while that member is stopped, so the lease runs out', async () => {
    for (const seed of [1, 2, 3]) {
      const { sim, client } = cluster(seed);
      await sim.run({ untilMs: SETTLED_MS });
      const members: string[] = [];
      let paused = '';
      let afterResume: number | null | undefined;
      client('c1', async (host, port) => {
        const lease = await retrying(host, () => port.grantLease(CONFIG.ttlMs));
        paused = port.member;
        sim.pause(paused);
        sim.after(3 * CONFIG.ttlMs, 'resume', () => sim.resume(paused));
        // Keepalives every third of a TTL, as a session sends them, while the member is stopped.
        while (sim.nowMs < SETTLED_MS + 3 * CONFIG.ttlMs) {
          await host.sleep(CONFIG.ttlMs / 3);
          members.push(port.member);
          await port.keepAlive(lease.id).catch((error: unknown) => {
            if (!isTransient(error)) throw error;
          });
        }
        await host.sleep(CONFIG.ttlMs);
        afterResume = await retrying(host, () => port.keepAlive(lease.id));
      });
      await sim.run({ untilMs: SETTLED_MS + 6 * CONFIG.ttlMs });
      assert.ok(
        members.length >= 5 && members.every((m) => m === paused),
        `seed ${seed}: keepalives went to ${members.join(', ')}, the stopped member was ${paused}`,
      );
      assert.equal(afterResume, null, `seed ${seed}: the lease outlived a stopped member by ${String(afterResume)} ms`);
    }
  });

  it('a lease that expired on the leader cannot be kept alive, even before its revoke can commit', async () => {
    const { sim, servers, client, leader } = cluster(5);
    await sim.run({ untilMs: SETTLED_MS });
    const only = leader()!;
    let grantedAtMs = -1;
    let late: number | null | undefined;
    client('c1', async (host, port) => {
      const lease = await retrying(host, () => port.grantLease(CONFIG.ttlMs));
      grantedAtMs = sim.nowMs;
      await host.sleep(CONFIG.ttlMs + 100);
      late = await port.keepAlive(lease.id);
    });
    for (const id of servers.filter((id) => id !== only)) sim.partition('c1', id);
    // Cut the leader off from its followers just before the lease runs out: its revoke cannot
    // commit, and it goes on leading for an election timeout, long enough to hear the keepalive.
    sim.at(SETTLED_MS + CONFIG.ttlMs - 100, 'isolate-leader', () =>
      servers.filter((id) => id !== only).forEach((id) => sim.partition(only, id)),
    );
    await sim.run({ untilMs: SETTLED_MS + 2 * CONFIG.ttlMs });
    assert.ok(grantedAtMs > 0 && grantedAtMs < SETTLED_MS + 50, `granted at ${grantedAtMs}ms`);
    assert.equal(late, null, `the expired lease was renewed for ${String(late)}ms`);
  });

  it('a waiter whose lease ran out while it waited is not granted on its deleted key, though its slow clock still counts the session alive', async () => {
    const result = await waiterWhoseLeaseRanOut('3.5');
    assert.ok(result !== null && result.token !== null, 'the waiter never got the lock');
    assert.equal(result.kv?.createRevision, result.token, 'the waiter was granted on a key that no longer exists');
  });

  it("as etcd 3.4.3's Mutex (etcdMutex '3.4.3'), the same waiter is granted on its deleted key: etcd-io/etcd#11456", async () => {
    const result = await waiterWhoseLeaseRanOut('3.4.3');
    assert.ok(result !== null && result.token !== null, 'the waiter never got the lock');
    assert.equal(result.kv, null, 'the key it holds by was still there');
  });

  it('a member cut off in a minority, with its client, grants no lock; the majority side does', async () => {
    const { sim, servers, client, leader } = cluster(3);
    await sim.run({ untilMs: SETTLED_MS });
    // Cut off the leader itself: it has to notice by CheckQuorum before anyone else can lead.
    const isolated = leader()!;
    const grants = new Map<string, Grant | null>();
    for (const id of ['minority-client', 'majority-client']) {
      client(id, async (host, port) => {
        grants.set(id, await new EtcdLock(host, port, etcdLockOptions(CONFIG)).acquire());
      });
    }
    sim.partition('majority-client', isolated);
    for (const id of servers.filter((id) => id !== isolated)) {
      sim.partition(isolated, id);
      sim.partition('minority-client', id);
    }
    await sim.run({ untilMs: SETTLED_MS + CONFIG.acquireTimeoutMs + 1000 });
    assert.equal(grants.get('minority-client'), null, 'the minority side granted a lock');
    assert.equal(typeof grants.get('majority-client')?.token, 'number', 'the majority side granted nothing');
  });

  it('an isolated leader steps down by its own clock within a TTL, its key is deleted, and the next candidate wins with a higher token', async () => {
    const { sim, servers, client } = cluster(4);
    await sim.run({ untilMs: SETTLED_MS });
    let first: Leadership | null = null;
    let steppedDownMs = -1;
    let second: { token: number | null; atMs: number; keys: string[] } | null = null;
    client('a', async (host, port) => {
      first = await new EtcdElection(host, port, etcdLockOptions(CONFIG)).campaign();
      while (first?.isLeader() === true) await host.sleep(5);
      steppedDownMs = sim.nowMs;
    });
    client('b', async (host, port) => {
      await host.sleep(200);
      const leadership = await new EtcdElection(host, port, {
        ...etcdLockOptions(CONFIG),
        acquireTimeoutMs: 5 * CONFIG.ttlMs,
      }).campaign();
      const { kvs } = await retrying(host, () => port.range(`${CONFIG.name}/`));
      second = { token: leadership?.token ?? null, atMs: sim.nowMs, keys: kvs.map((kv) => kv.key) };
    });
    const isolatedAtMs = SETTLED_MS + 500;
    sim.at(isolatedAtMs, 'isolate', () => servers.forEach((id) => sim.partition('a', id)));
    await sim.run({ untilMs: SETTLED_MS + 5 * CONFIG.ttlMs });
    const won = first as Leadership | null;
    const next = second as { token: number | null; atMs: number; keys: string[] } | null;
    assert.ok(
      won !== null && next !== null && won.token !== null && next.token !== null,
      'an election did not complete',
    );
    assert.ok(
      steppedDownMs > isolatedAtMs && steppedDownMs <= isolatedAtMs + CONFIG.ttlMs,
      `stepped down ${steppedDownMs - isolatedAtMs}ms after isolation`,
    );
    assert.ok(next.atMs > steppedDownMs, 'the next candidate won while the isolated leader still believed it led');
    assert.ok(next.token > won.token);
    assert.equal(next.keys.length, 1, `keys left under the election prefix: ${next.keys.join(', ')}`);
  });
});

describe('etcd recipes', () => {
  it('refuse impossible parameters, naming them', () => {
    const sim = new Sim({ seed: 1 });
    const host = sim.addNode('c1');
    const port = new SimEtcdPort(host, ['server-1'], 100);
    const base = etcdLockOptions(CONFIG);
    assert.throws(
      () => new EtcdLock(host, port, { ...base, ttlMs: 0 }),
      new RecipeConfigError('ttlMs must be a finite number > 0, got 0'),
    );
    assert.throws(
      () => new EtcdLock(host, port, { ...base, retryDelayMs: -5 }),
      /retryDelayMs must be a finite number > 0, got -5/,
    );
    assert.throws(
      () => new EtcdElection(host, port, { ...base, watchSliceMs: Number.NaN }),
      /watchSliceMs must be a finite number > 0, got NaN/,
    );
    assert.throws(() => new EtcdLock(host, port, { ...base, acquireTimeoutMs: Infinity }), /acquireTimeoutMs/);
  });
});

/*
 * A crashed holder's lease was last renewed at most a third of a TTL before the crash, and a
 * renewal already on its way may still land: the lease runs out between 2/3 TTL and one TTL
 * (plus a trip) after the crash. The leader notices within a heartbeat, commits the revoke, and
 * the next waiter hears of it and checks its place in a few round trips.
 */
lockSuite(etcd, { pauseBeyondTtl: 'unsafe', partitionBeyondTtl: 'unsafe', crashRecoveryMs: [650, 1150] });
// The same clock runs for a crashed leader: its key goes between 2/3 TTL and one TTL after the crash.
electionSuite(etcd, { pauseBeyondTtl: 'unsafe', failoverMs: [650, 1150] });
