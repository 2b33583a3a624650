/**
 * The live tier for ZooKeeper: the live port against a real 3-server ensemble, every client
 * connection and every link between the servers through a Toxiproxy proxy of its own. Runs when
 * LIVE is set, like redis.live.test.ts (which prints the line saying the tier was skipped).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFORMANCE_CONFIG, runConformanceOutside } from '../backends/conformance.ts';
import type { SystemConfig } from '../backends/system.ts';
import { zookeeperConformance } from '../backends/zookeeper/conformance.ts';
import { zookeeper } from '../backends/zookeeper/index.ts';
import type { ZooKeeperGrant } from '../backends/zookeeper/lock.ts';
import { isZooKeeperError, type ZooKeeperPort } from '../backends/zookeeper/port.ts';
import { RealClock } from './clock.ts';
import { LiveRuntime } from './runtime.ts';
import { fourLetterWord, startZooKeeperEnsemble, type ZooKeeperEnsemble } from './servers/zookeeper.ts';
import type { LiveConnection } from './system.ts';
import { zookeeperLive } from './systems/zookeeper.ts';
import { Toxiproxy } from './toxiproxy.ts';
import { liveEnabled } from './gate.ts';

const enabled = liveEnabled();

const SERVERS = [0, 1, 2];

/** Whether servers can run in network namespaces of their own: root, and iproute2 that can list them. */
function namespacesUsable(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The network namespaces this process made (netns.ts names them lockstep-<pid>-...), as `ip netns list` shows them. */
function ourNamespaces(): string[] {
  const listed = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return listed
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => name.startsWith(`lockstep-${process.pid}-`));
}

describe(
  'zookeeper live port on a real 3-server ensemble behind Toxiproxy',
  { skip: !enabled && 'LIVE is not set' },
  () => {
    let dir = '';
    let toxiproxy: Toxiproxy;
    let ensemble: ZooKeeperEnsemble;
    /** The proxies of each directed link between servers, by `${from}-${to}`. */
    const peerProxies = new Map<string, string[]>();
    const connections: LiveConnection<ZooKeeperPort>[] = [];
    let clients = 0;

    /** A new client with a proxy of its own to every server. */
    const connect = async (config: SystemConfig = CONFORMANCE_CONFIG): Promise<ZooKeeperPort> => {
      const name = `c${++clients}`;
      const endpoints = await Promise.all(
        ensemble.servers.map(async (server) => ({
          host: '127.0.0.1',
          port: await toxiproxy.proxy(`${name}-${server.name}`, `127.0.0.1:${server.clientPort}`),
        })),
      );
      const connection = await zookeeperLive.connect(endpoints, config, new LiveRuntime(name));
      connections.push(connection);
      return connection.ports;
    };

    /** Cut (false) or heal (true) both directions of every link between `a` and each of `others`, all at once. */
    const setLinks = async (a: number, others: readonly number[], enabled: boolean) => {
      const names = others.flatMap((b) => [...peerProxies.get(`${a}-${b}`)!, ...peerProxies.get(`${b}-${a}`)!]);
      await Promise.all(names.map((name) => toxiproxy.setEnabled(name, enabled)));
      if (!enabled) for (const b of others) await ensemble.dropDirectElectionLinks(a, b);
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'lockstep-live-zookeeper-'));
      toxiproxy = await Toxiproxy.start(dir);
      const startedMs = performance.now();
      ensemble = await startZooKeeperEnsemble(dir, {
        peerPort: async (from, to, port) => {
          const name = `peer-${from + 1}-${to + 1}-${port}`;
          const key = `${from}-${to}`;
          peerProxies.set(key, [...(peerProxies.get(key) ?? []), name]);
          return toxiproxy.proxy(name, `127.0.0.1:${port}`);
        },
      });
      process.stdout.write(`# zookeeper ensemble ready in ${Math.round(performance.now() - startedMs)} ms\n`);
    });

    after(async () => {
      await Promise.all(connections.map((connection) => connection.close()));
      // before() may have failed before it started these.
      const startedEnsemble = ensemble as ZooKeeperEnsemble | undefined;
      const startedProxy = toxiproxy as Toxiproxy | undefined;
      const pids = [...(startedEnsemble?.servers.map((server) => server.pid) ?? []), startedProxy?.process?.pid];
      await startedEnsemble?.stop();
      await startedProxy?.stop();
      for (const pid of pids) {
        if (pid === null || pid === undefined) continue;
        assert.throws(() => process.kill(pid, 0), 'a server outlived the test');
      }
      rmSync(dir, { recursive: true, force: true });
      assert.ok(!existsSync(dir));
    });

    runConformanceOutside('zookeeper live port (3 servers via Toxiproxy)', zookeeperConformance, async () => {
      const port = await connect();
      const other = await connect();
      return { port, other, clock: new RealClock(), close: async () => {} };
    });

    it('runs the same ZooKeeperLock recipe as the simulator: one holder at a time, and tokens grow', async () => {
      const config: SystemConfig = { ttlMs: 1000, fencing: true, acquireTimeoutMs: 5000, name: 'live-lock' };
      const runtimes = [new LiveRuntime('c-lock-1'), new LiveRuntime('c-lock-2')];
      const locks = await Promise.all(
        runtimes.map(async (runtime) => zookeeper.lock(runtime, await connect(config), config)),
      );
      const tokens: number[] = [];
      let holder: number | null = null;
      await Promise.all(
        locks.map(async (lock, i) => {
          for (let round = 0; round < 5; round++) {
            const grant = await lock.acquire();
            assert.ok(grant !== null, `client ${i + 1} got no grant within ${config.acquireTimeoutMs} ms`);
            assert.equal(
              holder,
              null,
              `client ${i + 1} was granted the lock while client ${(holder ?? 0) + 1} held it`,
            );
            holder = i;
            tokens.push(grant.token!);
            await new RealClock().sleep(20);
            holder = null;
            await lock.release(grant);
          }
        }),
      );
      assert.equal(tokens.length, 10);
      for (let k = 1; k < tokens.length; k++)
        assert.ok(tokens[k]! > tokens[k - 1]!, `tokens in grant order: ${tokens.join(' ')}`);
      for (const runtime of runtimes) assert.deepEqual(runtime.failures, []);
    });

    it('a holder whose session expires loses the lock: the waiter gets it, with a larger token', async () => {
      const config: SystemConfig = { ttlMs: 1000, fencing: true, acquireTimeoutMs: 5000, name: 'live-lock-expiry' };
      const holderPort = await connect(config);
      const holder = zookeeper.lock(new LiveRuntime('c-holder'), holderPort, config);
      const waiter = zookeeper.lock(new LiveRuntime('c-waiter'), await connect(config), config);
      const held = (await holder.acquire()) as ZooKeeperGrant | null;
      assert.ok(held !== null);
      const waiting = waiter.acquire();
      await new RealClock().sleep(200);
      await holderPort.expireSession();
      assert.equal(held.hold.held(), false, 'the holder still trusts a grant of an expired session');
      const next = await waiting;
      assert.ok(next !== null, 'the waiter did not get the lock after the holder expired');
      assert.ok(next.token! > held.token!, `token ${next.token} after ${held.token}`);
      await waiter.release(next);
    });

    it('cutting the leader off from both followers elects a new leader among them; healed, the old one follows it', async () => {
      const port = await connect();
      const oldLeader = await ensemble.waitForLeader();
      const others = SERVERS.filter((i) => i !== oldLeader);
      const cutMs = performance.now();
      await setLinks(oldLeader, others, false);
      const newLeader = await ensemble.waitForLeader(others, 15_000);
      const electedMs = performance.now() - cutMs;
      assert.notEqual(newLeader, oldLeader);
      assert.ok(
        await eventually(async () => (await ensemble.servers[oldLeader]!.mode()) === null, 5000),
        'a leader without a quorum still serves',
      );
      await retry(() => port.create('/partition-write', 'persistent'));
      await setLinks(oldLeader, others, true);
      assert.equal(
        await ensemble.waitForLeader(SERVERS, 15_000),
        newLeader,
        'the healed old leader took the lead back',
      );
      assert.notEqual(await port.exists('/partition-write'), null);
      process.stdout.write(`# zookeeper: new leader elected ${Math.round(electedMs)} ms after the cut\n`);
    });
  },
);

describe(
  'zookeeper ensemble in network namespaces: partitions between servers',
  { skip: !enabled ? 'LIVE is not set' : !namespacesUsable() && 'network namespaces need root and iproute2' },
  () => {
    let dir = '';
    let ensemble: ZooKeeperEnsemble;
    const connections: LiveConnection<ZooKeeperPort>[] = [];
    let clients = 0;

    /** A new client straight to the namespace addresses of `servers` (all by default): no proxy in between. */
    const connect = async (servers: readonly number[] = SERVERS): Promise<ZooKeeperPort> => {
      const name = `ns-c${++clients}`;
      const endpoints = servers.map((i) => ({ host: ensemble.host(i), port: ensemble.servers[i]!.clientPort }));
      const connection = await zookeeperLive.connect(endpoints, CONFORMANCE_CONFIG, new LiveRuntime(name));
      connections.push(connection);
      return connection.ports;
    };

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'lockstep-live-zookeeper-netns-'));
      const startedMs = performance.now();
      ensemble = await startZooKeeperEnsemble(dir, { namespaces: true });
      const hosts = SERVERS.map((i) => ensemble.host(i)).join(', ');
      process.stdout.write(
        `# zookeeper ensemble in namespaces (${hosts}) ready in ${Math.round(performance.now() - startedMs)} ms\n`,
      );
    });

    after(async () => {
      await Promise.all(connections.map((connection) => connection.close()));
      // before() may have failed before it started these.
      const startedEnsemble = ensemble as ZooKeeperEnsemble | undefined;
      const pids = startedEnsemble?.servers.map((server) => server.pid) ?? [];
      await startedEnsemble?.stop();
      for (const pid of pids) {
        if (pid === null) continue;
        assert.throws(() => process.kill(pid, 0), 'a server outlived the test');
      }
      assert.deepEqual(ourNamespaces(), [], 'network namespaces outlived the test');
      rmSync(dir, { recursive: true, force: true });
      assert.ok(!existsSync(dir));
    });

    it('every server listens on its namespace address, as the java process itself (SIGSTOP reaches it)', async () => {
      const network = ensemble.network;
      assert.ok(network !== null);
      for (const server of ensemble.servers) {
        assert.equal(server.host, network.addresses[server.index]);
        assert.notEqual(server.host, '127.0.0.1');
        assert.match(await fourLetterWord(server.host, server.clientPort, 'srvr'), /^Mode: (leader|follower)$/m);
        // ip netns exec execs in place: the pid the harness holds is java's.
        assert.equal(readFileSync(`/proc/${server.pid}/comm`, 'utf8').trim(), 'java');
      }
      const leader = await ensemble.waitForLeader();
      const follower = ensemble.servers.find((server) => server.index !== leader)!;
      follower.pause();
      try {
        assert.ok(
          await eventually(() => processState(follower.pid!) === 'T', 2000),
          `${follower.name} did not stop on SIGSTOP`,
        );
      } finally {
        follower.resume();
      }
      assert.ok(
        await eventually(() => processState(follower.pid!) !== 'T', 2000),
        `${follower.name} did not continue on SIGCONT`,
      );
      await ensemble.waitForLeader(SERVERS, 15_000);

      const port = await connect();
      await retry(() => port.create('/netns-hello', 'persistent'));
      assert.notEqual(await port.exists('/netns-hello'), null);
    });

    it('isolating the leader elects a new leader among the other two; healed, the old one follows it', async () => {
      const network = ensemble.network!;
      const port = await connect();
      const oldLeader = await ensemble.waitForLeader();
      const others = SERVERS.filter((i) => i !== oldLeader);
      try {
        const cutMs = performance.now();
        network.isolate(oldLeader);
        const newLeader = await ensemble.waitForLeader(others, 15_000);
        const electedMs = performance.now() - cutMs;
        assert.notEqual(newLeader, oldLeader);
        assert.ok(
          await eventually(async () => (await ensemble.servers[oldLeader]!.mode()) === null, 5000),
          'a leader without a quorum still serves',
        );
        await retry(() => port.create('/netns-partition-write', 'persistent'));

        const healMs = performance.now();
        network.healAll();
        assert.equal(
          await ensemble.waitForLeader(SERVERS, 15_000),
          newLeader,
          'the healed old leader took the lead back',
        );
        const rejoinedMs = performance.now() - healMs;
        assert.equal(await ensemble.servers[oldLeader]!.mode(), 'follower');
        // A client of the old leader alone sees the write the majority made while it was cut off.
        const onOld = await connect([oldLeader]);
        assert.notEqual(await onOld.exists('/netns-partition-write'), null, 'the healed old leader did not catch up');
        process.stdout.write(
          `# zookeeper in namespaces: ${ensemble.servers[newLeader]!.name} elected ${Math.round(electedMs)} ms after ${ensemble.servers[oldLeader]!.name} was isolated; it followed ${Math.round(rejoinedMs)} ms after the heal\n`,
        );
      } finally {
        network.healAll();
      }
    });
  },
);

/** The state letter of process `pid` (/proc/<pid>/stat): T when stopped. */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

/** Whether `check` holds within `timeoutMs`, polled every 50 ms. */
async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) return false;
    await new RealClock().sleep(50);
  }
  return true;
}

/** Create while the outcome is unknown (ConnectionLoss), as a recipe would; at most 10 tries. NodeExists: an earlier try did it. */
async function retry(create: () => Promise<unknown>): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      await create();
      return;
    } catch (error) {
      if (isZooKeeperError(error, 'NodeExists')) return;
      if (!isZooKeeperError(error, 'ConnectionLoss') || tries >= 10) throw error;
      await new RealClock().sleep(100);
    }
  }
}
