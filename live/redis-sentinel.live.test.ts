/**
 * redis-sentinel on real servers: three redis-server data nodes and three Sentinels started by
 * the local provider (each in a network namespace of its own when run as root), every client
 * connection through the client's own Toxiproxy proxies. The port's contract, a failover after
 * a crash and after a pause of the primary (the port and the cluster's `leader()` follow it), and
 * Jepsen's split brain: the primary cut off from the Sentinels, the replicas and c2, but not c1.
 * Runs when LIVE is set.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { runConformanceOutside } from '../backends/conformance.ts';
import { sentinelConformance } from '../backends/redis-sentinel/conformance.ts';
import { LiveSentinelPort } from '../backends/redis-sentinel/live-port.ts';
import { SENTINEL_DEFAULTS } from '../backends/system.ts';
import { TimeoutError } from '../sim/errors.ts';
import { ConnectionLost, WriteRefused } from '../backends/errors.ts';
import { RealClock } from './clock.ts';
import type { Cluster } from './cluster.ts';
import { announceLiveTier, liveEnabled } from './gate.ts';
import { ClientLinks } from './links.ts';
import { openCluster } from './providers.ts';
import { sleep } from './process.ts';
import { sentinelClient } from './systems/redis-sentinel.ts';

announceLiveTier();

const SYSTEM = 'redis-sentinel';
/** The request timeout of a run with 2 s leases (backends/timing.ts). */
const REQUEST_TIMEOUT_MS = 500;
/** Sentinel's defaults fail over in about 2 s here; a busy machine gets generous room. */
const FAILOVER_WITHIN_MS = 10_000;

describe(
  'redis-sentinel live, on three data nodes and three Sentinels',
  { skip: !liveEnabled() && 'LIVE is not set' },
  () => {
    let cluster: Cluster;
    let run = 0;
    const opened: { links: ClientLinks; clients: Redis[] }[] = [];

    /** One client's port, through proxies of its own to every data node and Sentinel (run `run`). */
    async function client(links: ClientLinks, id: string) {
      const servers = [];
      for (const [i, server] of cluster.servers(SYSTEM).entries())
        servers.push(await links.add(id, `server-${i + 1}`, server.upstream, 0));
      const sentinels = [];
      for (const [i, sentinel] of cluster.sentinels(SYSTEM).entries())
        sentinels.push(await links.add(id, `sentinel-${i + 1}`, sentinel.upstream, 0));
      const redis = sentinelClient(servers, sentinels, REQUEST_TIMEOUT_MS);
      opened.at(-1)?.clients.push(redis);
      return { redis, port: new LiveSentinelPort(redis) };
    }

    function newLinks(): ClientLinks {
      const links = new ClientLinks(cluster, ++run);
      opened.push({ links, clients: [] });
      return links;
    }

    /** A harness connection straight to data node `index` (1-based), past every proxy. */
    function direct(index: number): Redis {
      const upstream = cluster.servers(SYSTEM)[index - 1]!.upstream;
      const redis = new Redis({ ...upstream, maxRetriesPerRequest: 0, commandTimeout: 1000, lazyConnect: true });
      redis.on('error', () => {});
      opened.at(-1)?.clients.push(redis);
      return redis;
    }

    /** Poll until `leader()` names a data node other than `not`; returns it and how long that took. */
    async function failoverFrom(not: number): Promise<{ leader: number; afterMs: number }> {
      const started = performance.now();
      for (;;) {
        const leader = await cluster.leader(SYSTEM);
        if (typeof leader === 'number' && leader !== not) return { leader, afterMs: performance.now() - started };
        assert.ok(performance.now() - started < FAILOVER_WITHIN_MS, `no failover from server-${not} in time`);
        await sleep(50);
      }
    }

    /** Repeat a write until it succeeds, as a client retries after a reset or a timeout; how long it took. */
    async function untilWritten(write: () => Promise<boolean>): Promise<number> {
      const started = performance.now();
      for (;;) {
        try {
          if (await write()) return performance.now() - started;
        } catch (error) {
          if (!(error instanceof TimeoutError || error instanceof ConnectionLost || error instanceof WriteRefused))
            throw error;
        }
        assert.ok(performance.now() - started < FAILOVER_WITHIN_MS, 'the port never reached a primary');
        await sleep(20);
      }
    }

    before(async () => {
      const started = performance.now();
      cluster = await openCluster({ provider: 'local' }, [SYSTEM]);
      process.stdout.write(`# redis-sentinel cluster ready in ${Math.round(performance.now() - started)} ms\n`);
    });

    beforeEach(async () => {
      // A test that failed over or cut links leaves the cluster elsewhere: prepare puts it back.
      const started = performance.now();
      await cluster.prepare(SYSTEM, { persist: false, sentinel: SENTINEL_DEFAULTS });
      process.stdout.write(`# prepared in ${Math.round(performance.now() - started)} ms\n`);
    });

    after(async () => {
      for (const { links, clients } of opened) {
        for (const redis of clients) redis.disconnect();
        await links.remove();
      }
      // before() may have failed before it started the cluster.
      await (cluster as Cluster | undefined)?.stop();
    });

    runConformanceOutside('redis-sentinel live port (Sentinel mode via Toxiproxy)', sentinelConformance, async () => {
      const links = newLinks();
      const a = await client(links, 'c1');
      const b = await client(links, 'c2');
      await a.redis.flushall();
      return { port: a.port, other: b.port, clock: new RealClock(), close: async () => {} };
    });

    it('starts with server-1 the primary, as leader() says, and its replicas in sync', async () => {
      assert.equal(await cluster.leader(SYSTEM), 1);
      const links = newLinks();
      const { port } = await client(links, 'c1');
      assert.equal(await port.setNxPx('start:k', 'v', 10_000), true);
      assert.equal(await port.waitReplicas(2, 1000), 2);
      assert.equal(await direct(2).get('start:k'), 'v', 'a replica has the key');
      assert.equal(await direct(3).get('start:k'), 'v');
    });

    it('a crashed primary fails over to a replica within seconds, and the port follows it: its next SET goes to the new primary', async () => {
      const links = newLinks();
      const { port } = await client(links, 'c1');
      assert.equal(await port.setNxPx('crash:before', 'v', 10_000), true);
      assert.equal(await port.waitReplicas(2, 1000), 2);
      await cluster.servers(SYSTEM)[0]!.control!.kill();
      const { leader, afterMs } = await failoverFrom(1);
      process.stdout.write(`# failover after the primary's crash: server-${leader} in ${Math.round(afterMs)} ms\n`);
      assert.ok(leader === 2 || leader === 3);
      await untilWritten(() => port.setNxPx('crash:after', 'c1', 10_000));
      const promoted = direct(leader);
      assert.equal(await promoted.get('crash:after'), 'c1', 'the write landed on the new primary');
      assert.equal(await promoted.get('crash:before'), 'v', 'which had the replicated key');
      assert.equal((await promoted.role())[0], 'master');
    });

    it('leader() follows a failover away from a paused primary, and a port whose command timed out on it reconnects to the new one', async () => {
      const links = newLinks();
      const { port } = await client(links, 'c1');
      assert.equal(await port.incr('pause:n'), 1);
      await port.waitReplicas(2, 1000);
      cluster.servers(SYSTEM)[0]!.control!.pause();
      await assert.rejects(port.incr('pause:n'), TimeoutError, 'the stopped primary does not answer');
      const { leader, afterMs } = await failoverFrom(1);
      process.stdout.write(`# failover after the primary's pause: server-${leader} in ${Math.round(afterMs)} ms\n`);
      // The timed-out command closed its connection (socketTimeout): the next one asks the Sentinels.
      await untilWritten(async () => (await port.incr('pause:n')) === 2);
      assert.equal(await direct(leader).get('pause:n'), '2');
      cluster.servers(SYSTEM)[0]!.control!.resume();
    });

    it("Jepsen's split brain: server-1 cut off from the Sentinels, its replicas and c2 keeps taking c1's writes while c2 writes to the new primary", async () => {
      const links = newLinks();
      const c1 = await client(links, 'c1');
      const c2 = await client(links, 'c2');
      assert.equal(await c1.port.incr('split:c1'), 1);
      assert.equal(await c2.port.incr('split:c2'), 1);
      const peers = cluster.peers(SYSTEM);
      assert.ok(peers !== null, 'links between data nodes and Sentinels can be cut (run as root)');
      // [server-1, c1] | [server-2, server-3, sentinel-1..3, c2]: peer links 2..6 are servers 2, 3 and the Sentinels.
      for (let other = 2; other <= 6; other++) {
        await peers.cut(1, other, 'drop');
        await peers.cut(other, 1, 'drop');
      }
      const cut = ['c1|server-2', 'c1|server-3', 'c1|sentinel-1', 'c1|sentinel-2', 'c1|sentinel-3', 'c2|server-1'];
      for (const pair of cut) {
        const [who, node] = pair.split('|') as [string, string];
        await links.cut(links.get(who, node)!, 'drop');
      }
      const { leader, afterMs } = await failoverFrom(1);
      process.stdout.write(`# failover away from the cut-off primary: server-${leader} in ${Math.round(afterMs)} ms\n`);
      // c2's connection to server-1 times out and closes; it asks the Sentinels it still reaches.
      await untilWritten(async () => (await c2.port.incr('split:c2')) === 2);
      assert.equal(await c2.port.setNxPx('split:lock', 'c2', 10_000), true, 'c2 takes the lock on the new primary');
      assert.equal(await c1.port.setNxPx('split:lock', 'c1', 10_000), true, 'c1 takes it too, on the old one');
      assert.equal(await c1.port.incr('split:c1'), 2, 'c1 still writes to the old primary');
      assert.equal(await direct(1).get('split:lock'), 'c1');
      assert.equal((await direct(1).role())[0], 'master', 'the old primary still believes it leads');
      assert.equal(await direct(leader).get('split:lock'), 'c2');
      for (let other = 2; other <= 6; other++) {
        await peers.heal(1, other);
        await peers.heal(other, 1);
      }
    });

    it('a primary with min-replicas-to-write 2 refuses writes (NOREPLICAS, WriteRefused) once a replica is cut off', async () => {
      await cluster.prepare(SYSTEM, {
        persist: false,
        sentinel: { ...SENTINEL_DEFAULTS, minReplicasToWrite: 2, minReplicasMaxLagS: 1 },
      });
      const links = newLinks();
      const { port } = await client(links, 'c1');
      assert.equal(await port.setNxPx('guard:before', 'v', 10_000), true);
      const peers = cluster.peers(SYSTEM)!;
      await peers.cut(1, 3, 'drop');
      await peers.cut(3, 1, 'drop');
      const started = performance.now();
      await assert.rejects(
        async () => {
          // The primary counts a replica as good for min-replicas-max-lag (1 s) after its last ack.
          while (performance.now() - started < 5000) {
            await port.setNxPx(`guard:${Math.round(performance.now())}`, 'v', 10_000);
            await sleep(100);
          }
        },
        (error: unknown) => error instanceof WriteRefused && /NOREPLICAS/.test(error.message),
      );
      await peers.heal(1, 3);
      await peers.heal(3, 1);
    });
  },
);
