/**
 * The live tier for etcd: a real three-member cluster behind Toxiproxy (one proxy per client per
 * member). The etcd conformance suite holds LiveEtcdPort to the same contract as the simulated
 * port; the simulator's own lock recipe runs on it unchanged; the etcd3 package's Lock and
 * Election (a subject) get a smoke test. Runs when LIVE is set, like live/redis.live.test.ts
 * (which prints the loud line when it is not).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFORMANCE_CONFIG, runConformanceOutside } from '../backends/conformance.ts';
import { etcdConformance } from '../backends/etcd/conformance.ts';
import { etcd } from '../backends/etcd/index.ts';
import { etcdClient, LiveEtcdPort } from '../backends/etcd/live-port.ts';
import type { EtcdGrant } from '../backends/etcd/lock.ts';
import type { EtcdPort } from '../backends/etcd/port.ts';
import type { SystemConfig } from '../backends/system.ts';
import { ConnectionLost } from '../backends/errors.ts';
import { TimeoutError } from '../sim/errors.ts';
import { RealClock } from './clock.ts';
import { LiveRuntime } from './runtime.ts';
import { etcdLeader, startEtcdCluster, type EtcdCluster, type EtcdServer } from './servers/etcd.ts';
import { connectSubject } from './subjects/connect.ts';
import { loadSubject } from '../subjects/index.ts';
import { etcdLive } from './systems/etcd.ts';
import type { Endpoint, LiveConnection } from './system.ts';
import { Toxiproxy } from './toxiproxy.ts';
import { liveEnabled } from './gate.ts';

const enabled = liveEnabled();

/** Whether members can run in network namespaces of their own: root, and iproute2 that can list them. */
function namespacesUsable(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The run settings the recipes get: the conformance TTL, and the cluster timed as the model times it. */
const CONFIG: SystemConfig = { ...CONFORMANCE_CONFIG, name: 'live-lock' };

describe(
  'etcd live port on a real three-member cluster behind Toxiproxy',
  { skip: !enabled && 'LIVE is not set' },
  () => {
    let dir = '';
    let toxiproxy: Toxiproxy;
    let cluster: EtcdCluster;
    const connections: LiveConnection<EtcdPort>[] = [];
    const clock = new RealClock();

    /** One proxy per member for `client`, named `<client>-etcd-<i>`: the endpoints it dials. */
    async function proxiesFor(client: string): Promise<Endpoint[]> {
      return Promise.all(
        cluster.members.map(async (member) => ({
          host: '127.0.0.1',
          port: await toxiproxy.proxy(`${client}-${member.name}`, `${member.host}:${member.clientPort}`),
        })),
      );
    }

    async function connect(endpoints: readonly Endpoint[], runtimeId: string): Promise<EtcdPort> {
      const connection = await etcdLive.connect(endpoints, CONFIG, new LiveRuntime(runtimeId));
      connections.push(connection);
      return connection.ports;
    }

    const endpoints = new Map<string, Endpoint[]>();

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'lockstep-live-etcd-'));
      toxiproxy = await Toxiproxy.start(dir);
      const startedAtMs = clock.monotonic();
      cluster = await startEtcdCluster(join(dir, 'etcd'), { ttlMs: CONFIG.ttlMs });
      process.stdout.write(
        `# etcd cluster (heartbeat ${cluster.timing.heartbeatMs} ms, election ${cluster.timing.electionMs} ms) served ${Math.round(clock.monotonic() - startedAtMs)} ms after start\n`,
      );
      for (const client of ['conformance-a', 'conformance-b', 'lock-1', 'lock-2', 'faults', 'subject-1', 'subject-2'])
        endpoints.set(client, await proxiesFor(client));
    });

    after(async () => {
      for (const connection of connections) await connection.close();
      // before() may have failed before it started these.
      const startedCluster = cluster as EtcdCluster | undefined;
      const startedProxy = toxiproxy as Toxiproxy | undefined;
      const pids = [...(startedCluster?.members.map((m) => m.pid ?? undefined) ?? []), startedProxy?.process?.pid];
      await startedCluster?.stop();
      await startedProxy?.stop();
      for (const pid of pids) {
        if (pid === undefined) continue;
        assert.throws(() => process.kill(pid, 0), 'a server outlived the test');
      }
      rmSync(dir, { recursive: true, force: true });
      assert.ok(!existsSync(dir));
    });

    it('names a leader: exactly one member leads', async () => {
      const leader = await cluster.leader();
      assert.ok(leader !== null && cluster.members.includes(leader));
    });

    runConformanceOutside('etcd live port (etcd 3.4 via Toxiproxy)', etcdConformance, async () => {
      const port = await connect(endpoints.get('conformance-a')!, 'conformance-a');
      const other = await connect(endpoints.get('conformance-b')!, 'conformance-b');
      return { port, other, clock, close: async () => {} };
    });

    it('runs the simulator EtcdLock recipe: one holder at a time, and tokens grow', async () => {
      const runtimes = [new LiveRuntime('lock-1'), new LiveRuntime('lock-2')];
      const locks = await Promise.all(
        runtimes.map(async (runtime) =>
          etcd.lock(runtime, await connect(endpoints.get(runtime.id)!, runtime.id), CONFIG),
        ),
      );
      let holders = 0;
      const tokens: number[] = [];
      await Promise.all(
        locks.map(async (lock) => {
          for (let round = 0; round < 5; round++) {
            const grant = await lock.acquire();
            assert.ok(grant !== null, 'the lock is never held for long, so it must be had within the acquire timeout');
            holders++;
            assert.equal(holders, 1, 'two clients hold the lock at once');
            tokens.push(grant.token!);
            await clock.sleep(20);
            holders--;
            await lock.release(grant);
          }
        }),
      );
      assert.equal(tokens.length, 10);
      for (let i = 1; i < tokens.length; i++)
        assert.ok(tokens[i]! > tokens[i - 1]!, `tokens in grant order: ${tokens.join(', ')}`);
      for (const runtime of runtimes) assert.deepEqual(runtime.failures, []);
    });

    it('EtcdLock: a holder whose session stops keeping its lease alive loses the lock a TTL later, to a waiter with a higher token', async () => {
      const config = { ...CONFIG, name: 'live-lock-expiry' };
      const first = etcd.lock(new LiveRuntime('lock-1'), await connect(endpoints.get('lock-1')!, 'lock-1'), config);
      const second = etcd.lock(new LiveRuntime('lock-2'), await connect(endpoints.get('lock-2')!, 'lock-2'), config);
      const impatient = etcd.lock(new LiveRuntime('lock-2'), await connect(endpoints.get('lock-2')!, 'lock-2'), {
        ...config,
        acquireTimeoutMs: 300,
      });
      const held = (await first.acquire()) as EtcdGrant | null;
      assert.ok(held !== null);
      assert.equal(await impatient.acquire(), null, 'a held lock is not granted to a second client');
      const waiting = second.acquire();
      const abandonedAtMs = clock.monotonic();
      held.session.abandon();
      const next = await waiting;
      assert.ok(next !== null, 'the abandoned lease ran out, so the waiter gets the lock');
      // The last keepalive went out at most a third of the TTL before the abandon, so the lease had two thirds left.
      assert.ok(
        clock.monotonic() - abandonedAtMs >= held.session.ttlMs / 2,
        'granted before the old lease could have expired',
      );
      assert.ok(next.token! > held.token!, 'tokens grow');
      await second.release(next);
    });

    it('a silent member (timeout toxic) makes a request time out with TimeoutError; a reset connection is ConnectionLost', async () => {
      const proxy = endpoints.get('faults')![0]!;
      const port = new LiveEtcdPort([etcdClient(proxy.host, proxy.port)], 250);
      try {
        assert.equal((await port.putIfAbsent('faults/k', 'v', 0)).created, true);
        await toxiproxy.addToxic('faults-etcd-1', {
          name: 'silence',
          type: 'timeout',
          stream: 'upstream',
          attributes: { timeout: 0 },
        });
        await assert.rejects(port.get('faults/k'), (error: unknown) => error instanceof TimeoutError);
        await assert.rejects(port.keepAlive(1), (error: unknown) => error instanceof TimeoutError);
        await toxiproxy.removeToxic('faults-etcd-1', 'silence');
        await toxiproxy.setEnabled('faults-etcd-1', false);
        await assert.rejects(port.get('faults/k'), (error: unknown) => error instanceof ConnectionLost);
        await toxiproxy.setEnabled('faults-etcd-1', true);
        assert.equal((await port.get('faults/k'))?.value, 'v');
      } finally {
        port.close();
      }
    });

    it('a keepalive that times out stays on its member, as clientv3 stays on a stopped one; the next request that times out moves on', async () => {
      const proxies = endpoints.get('faults')!;
      const port = new LiveEtcdPort(
        proxies.map((p) => etcdClient(p.host, p.port)),
        500,
      );
      const proxy = `faults-${cluster.members[port.member]!.name}`;
      try {
        const lease = await port.grantLease(2000);
        const member = port.member;
        await toxiproxy.addToxic(proxy, {
          name: 'stopped',
          type: 'timeout',
          stream: 'upstream',
          attributes: { timeout: 0 },
        });
        await assert.rejects(port.keepAlive(lease.id), (error: unknown) => error instanceof TimeoutError);
        assert.equal(port.member, member, 'the keepalive stayed on its member');
        await assert.rejects(port.get('faults/k'), (error: unknown) => error instanceof TimeoutError);
        assert.notEqual(port.member, member, 'a request that timed out moved the port on');
        assert.ok(((await port.keepAlive(lease.id)) ?? 0) > 0, 'and there the lease is kept alive');
      } finally {
        await toxiproxy.removeToxic(proxy, 'stopped');
        port.close();
      }
    });

    it('a killed follower restarts with its data and catches up; meanwhile a port that used it moves to another member', async () => {
      // A follower, so that no election muddles what the port does on its own.
      const leader = await cluster.leader();
      const [down, up] = cluster.members.filter((m) => m !== leader);
      assert.ok(down !== undefined && up !== undefined);
      const port = await connect(
        [down, up].map((m) => endpoints.get('faults')![cluster.members.indexOf(m)]!),
        'faults',
      );
      assert.equal((await port.putIfAbsent('restart/before', 'v', 0)).created, true);
      await down.kill();
      let failures = 0;
      for (let i = 0; i < 4; i++) {
        try {
          await port.putIfAbsent(`restart/during-${i}`, 'v', 0);
        } catch (error) {
          assert.ok(
            error instanceof ConnectionLost || error instanceof TimeoutError,
            `a dead member fails a request as outcome unknown, not as ${String(error)}`,
          );
          failures++;
        }
      }
      assert.ok(failures <= 1, `the port kept using a dead member: ${failures} failures`);
      await down.start();
      await cluster.untilReady(10_000);
      assert.ok(await down.healthy());
      const onRestarted = new LiveEtcdPort([etcdClient(down.host, down.clientPort)], 1000);
      try {
        assert.equal((await onRestarted.get('restart/before'))?.value, 'v', 'the restarted member kept its data');
        assert.equal(
          (await onRestarted.range('restart/during-')).kvs.length,
          4 - failures,
          'and caught up on what it missed',
        );
      } finally {
        onRestarted.close();
      }
      assert.equal(await cluster.leader(), leader, 'losing a follower costs no election');
    });

    it('the etcd3 package Lock: one holder, a second acquire gives up at its timeout, and a release frees it', async () => {
      const config = { ...CONFIG, name: 'subject-lock', acquireTimeoutMs: 600 };
      const a = await connectSubject(await loadSubject('etcd3-lock'), endpoints.get('subject-1')!, config);
      const b = await connectSubject(await loadSubject('etcd3-lock'), endpoints.get('subject-2')!, config);
      try {
        const lockA = a.lock(new LiveRuntime('subject-1'));
        const lockB = b.lock(new LiveRuntime('subject-2'));
        const held = await lockA.acquire();
        assert.ok(held !== null && held.token === null);
        const askedAtMs = clock.monotonic();
        assert.equal(await lockB.acquire(), null);
        assert.ok(clock.monotonic() - askedAtMs >= config.acquireTimeoutMs - 1, 'acquire retries until its timeout');
        await lockA.release(held);
        const next = await lockB.acquire();
        assert.ok(next !== null, 'released, so free');
        await lockB.release(next);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('the etcd3 package Election: one leader; a second campaign waits, and leads once the first resigns', async () => {
      const config = { ...CONFIG, name: 'subject-election', acquireTimeoutMs: 600 };
      const a = await connectSubject(await loadSubject('etcd3-lock'), endpoints.get('subject-1')!, config);
      const b = await connectSubject(await loadSubject('etcd3-lock'), endpoints.get('subject-2')!, config);
      try {
        const leaderA = await a.election(new LiveRuntime('subject-1')).campaign();
        assert.ok(leaderA !== null && leaderA.isLeader());
        const electionB = b.election(new LiveRuntime('subject-2'));
        assert.equal(await electionB.campaign(), null, 'a second candidate does not lead while the first does');
        await leaderA.resign();
        assert.equal(leaderA.isLeader(), false);
        const leaderB = await electionB.campaign();
        assert.ok(leaderB !== null && leaderB.isLeader());
        await leaderB.resign();
      } finally {
        await a.close();
        await b.close();
      }
    });
  },
);

describe(
  'etcd members in network namespaces: partitions between members',
  { skip: !enabled ? 'LIVE is not set' : !namespacesUsable() && 'network namespaces need root and iproute2' },
  () => {
    let dir = '';
    let cluster: EtcdCluster;
    const clock = new RealClock();

    /** Poll `probe` every 50 ms until it gives a value other than null, for at most `withinMs`. */
    async function until<T>(withinMs: number, probe: () => Promise<T | null>): Promise<T | null> {
      const untilMs = clock.monotonic() + withinMs;
      for (;;) {
        const value = await probe();
        if (value !== null || clock.monotonic() > untilMs) return value;
        await clock.sleep(50);
      }
    }

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'lockstep-live-etcd-netns-'));
      const startedAtMs = clock.monotonic();
      cluster = await startEtcdCluster(join(dir, 'etcd'), { ttlMs: CONFIG.ttlMs, namespaces: true });
      process.stdout.write(
        `# etcd cluster in namespaces (${cluster.members.map((m) => m.host).join(', ')}) served ${Math.round(clock.monotonic() - startedAtMs)} ms after start\n`,
      );
    });

    after(async () => {
      // before() may have failed before it started these.
      const startedCluster = cluster as EtcdCluster | undefined;
      const pids = startedCluster?.members.map((m) => m.pid ?? undefined) ?? [];
      await startedCluster?.stop();
      for (const pid of pids) {
        if (pid === undefined) continue;
        assert.throws(() => process.kill(pid, 0), 'a server outlived the test');
      }
      const left = existsSync('/var/run/netns')
        ? readdirSync('/var/run/netns').filter((ns) => ns.startsWith(`lockstep-${process.pid}-`))
        : [];
      assert.deepEqual(left, [], 'network namespaces outlived the test');
      rmSync(dir, { recursive: true, force: true });
    });

    it('isolating the leader elects a new one among the others, which serve writes; the old one steps down, and rejoins once healed', async () => {
      const network = cluster.network!;
      const old = await cluster.leader();
      assert.ok(old !== null);
      const oldId = (await old.status())!.memberId;
      const others = cluster.members.filter((m) => m !== old);
      const portOn = (members: readonly EtcdServer[], timeoutMs: number) =>
        new LiveEtcdPort(
          members.map((m) => etcdClient(m.host, m.clientPort)),
          timeoutMs,
        );
      const majority = portOn(others, 1000);
      const isolated = portOn([old], 500);
      try {
        network.isolate(cluster.members.indexOf(old));
        const isolatedAtMs = clock.monotonic();
        const next = await until(10_000, () => etcdLeader(others));
        assert.ok(next !== null && next !== old, 'the majority elected no new leader');
        process.stdout.write(
          `# new leader ${next.name} ${Math.round(clock.monotonic() - isolatedAtMs)} ms after ${old.name} was isolated\n`,
        );
        assert.equal((await majority.putIfAbsent('netns/k', 'v', 0)).created, true, 'the majority serves writes');
        await assert.rejects(
          isolated.get('netns/k'),
          (error: unknown) => error instanceof TimeoutError || (error as Error).name === 'Unavailable',
        );
        const steppedDown = await until(5_000, async () => ((await old.status())?.leaderId !== oldId ? true : null));
        assert.ok(steppedDown, `${old.name} still believes it leads, cut off from the quorum`);

        network.healAll();
        await cluster.untilReady(10_000);
        assert.equal((await portOn([old], 1000).get('netns/k'))?.value, 'v', 'the healed member caught up');
      } finally {
        majority.close();
        isolated.close();
        network.healAll();
      }
    });

    it('a one-way cut between two followers changes no leadership', async () => {
      const network = cluster.network!;
      const leader = await cluster.leader();
      assert.ok(leader !== null);
      const [a, b] = cluster.members.filter((m) => m !== leader).map((m) => cluster.members.indexOf(m));
      network.cut(a!, b!);
      try {
        await clock.sleep(5 * cluster.timing.electionMs);
        assert.equal(await cluster.leader(), leader);
      } finally {
        network.heal(a!, b!);
      }
    });
  },
);
