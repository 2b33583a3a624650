import assert from 'node:assert/strict';
import type { Clock } from '../../sim/clock.ts';
import type { ConformanceCase } from '../conformance.ts';
import type { EtcdPort } from './port.ts';

/** etcd counts TTLs in seconds and will not grant much under two: the cases use leases it honours as asked. */
const TTL_MS = 2000;
/** How late a lease may be revoked: etcd looks for expired leases every 500 ms, then commits the revoke. */
const REVOKE_SLACK_MS = 1000;
const POLL_MS = 100;
const AVAILABLE_WITHIN_MS = 10_000;
const HISTORY_SETTLE_MS = 500;

/** When `key` is first seen gone, polling from now until `untilMs` (local monotonic); null if never. */
async function goneAt(port: EtcdPort, clock: Clock, key: string, untilMs: number): Promise<number | null> {
  while (clock.monotonic() < untilMs) {
    if ((await port.get(key)) === null) return clock.monotonic();
    await clock.sleep(POLL_MS);
  }
  return null;
}

/**
 * Until the cluster has a leader, every request is refused as Unavailable (that is the port's
 * contract, not a failure), and a cluster that has just booted has none yet: wait for one.
 */
async function untilAvailable(port: EtcdPort, clock: Clock): Promise<void> {
  const untilMs = clock.monotonic() + AVAILABLE_WITHIN_MS;
  for (;;) {
    try {
      await port.get('conformance/ready');
      return;
    } catch (error) {
      if ((error as Error).name !== 'Unavailable' || clock.monotonic() >= untilMs) throw error;
      await clock.sleep(POLL_MS);
    }
  }
}

const cases: ConformanceCase<EtcdPort>[] = [
  {
    name: 'create-if-absent creates once; a second attempt reports the first create revision',
    async run({ port, other }) {
      const first = await port.putIfAbsent('c1/k', 'a', 0);
      assert.equal(first.created, true);
      const second = await other.putIfAbsent('c1/k', 'b', 0);
      assert.equal(second.created, false);
      assert.equal(second.createRevision, first.createRevision);
      const kv = await other.get('c1/k');
      assert.equal(kv?.value, 'a');
      assert.equal(kv.createRevision, first.createRevision);
    },
  },
  {
    name: 'create revisions increase with every write, from any client',
    async run({ port, other }) {
      const x = (await port.putIfAbsent('c2/x', '', 0)).createRevision;
      const y = (await other.putIfAbsent('c2/y', '', 0)).createRevision;
      const z = (await port.putIfAbsent('c2/z', '', 0)).createRevision;
      assert.ok(x < y && y < z, `create revisions ${[x, y, z].join(', ')}`);
      assert.equal(await port.delete('c2/x'), true);
      const again = await port.putIfAbsent('c2/x', '', 0);
      assert.ok(again.created && again.createRevision > z, 'a key made again gets a new, higher create revision');
    },
  },
  {
    name: 'a prefix range is sorted by create revision, not by name, and can stop below a create revision',
    async run({ port }) {
      const c = (await port.putIfAbsent('c3/p/c', '', 0)).createRevision;
      await port.putIfAbsent('c3/p/a', '', 0);
      const b = (await port.putIfAbsent('c3/p/b', '', 0)).createRevision;
      await port.putIfAbsent('c3/pq', '', 0);
      const all = await port.range('c3/p/');
      assert.deepEqual(
        all.kvs.map((kv) => kv.key),
        ['c3/p/c', 'c3/p/a', 'c3/p/b'],
      );
      assert.ok(all.revision >= b);
      const below = await port.range('c3/p/', { maxCreateRevision: b - 1 });
      assert.deepEqual(
        below.kvs.map((kv) => kv.key),
        ['c3/p/c', 'c3/p/a'],
      );
      assert.deepEqual((await port.range('c3/p/', { maxCreateRevision: c - 1 })).kvs, []);
    },
  },
  {
    name: 'a lease expires after its TTL and not before, and its keys go with it',
    async run({ port, clock }) {
      const sentAtMs = clock.monotonic();
      const lease = await port.grantLease(TTL_MS);
      assert.ok(lease.ttlMs >= TTL_MS);
      await port.putIfAbsent('c4/k', 'v', lease.id);
      const gone = await goneAt(port, clock, 'c4/k', sentAtMs + lease.ttlMs + REVOKE_SLACK_MS);
      assert.ok(gone !== null, 'the key outlived its lease');
      assert.ok(
        gone - sentAtMs >= lease.ttlMs,
        `the key went ${gone - sentAtMs}ms after the grant was asked for, under the ${lease.ttlMs}ms TTL`,
      );
      assert.equal(await port.keepAlive(lease.id), null);
    },
  },
  {
    name: 'keepalives keep a lease and its key past the TTL; once they stop, the lease expires',
    async run({ port, clock }) {
      const lease = await port.grantLease(TTL_MS);
      await port.putIfAbsent('c5/k', 'v', lease.id);
      const untilMs = clock.monotonic() + 3 * lease.ttlMs;
      while (clock.monotonic() < untilMs) {
        await clock.sleep(lease.ttlMs / 4);
        const ttlMs = await port.keepAlive(lease.id);
        assert.ok(ttlMs !== null && ttlMs >= TTL_MS, `keepalive answered ${String(ttlMs)}`);
      }
      assert.notEqual(await port.get('c5/k'), null);
      const stoppedAtMs = clock.monotonic();
      assert.ok(
        (await goneAt(port, clock, 'c5/k', stoppedAtMs + lease.ttlMs + REVOKE_SLACK_MS)) !== null,
        'the key outlived its lease',
      );
      assert.equal(await port.keepAlive(lease.id), null);
    },
  },
  {
    name: 'revoking a lease deletes its keys at once, and the lease is gone for good',
    async run({ port, other }) {
      const lease = await port.grantLease(60_000);
      await port.putIfAbsent('c6/a', '', lease.id);
      await port.putIfAbsent('c6/b', '', lease.id);
      assert.equal(await other.revokeLease(lease.id), true);
      assert.equal(await port.get('c6/a'), null);
      assert.equal(await port.get('c6/b'), null);
      assert.equal(await port.keepAlive(lease.id), null);
      await assert.rejects(port.putIfAbsent('c6/c', '', lease.id), { name: 'LeaseNotFound' });
      assert.equal(await port.revokeLease(lease.id), false);
    },
  },
  {
    name: 'a delete watch fires when the key is deleted after it was set',
    async run({ port, clock }) {
      const lease = await port.grantLease(TTL_MS);
      const put = await port.putIfAbsent('c7/k', '', lease.id);
      const setAtMs = clock.monotonic();
      const deletedAt = await port.watchDelete('c7/k', put.revision + 1, lease.ttlMs + 2 * REVOKE_SLACK_MS);
      assert.ok(deletedAt !== null && deletedAt > put.createRevision, `watch answered ${String(deletedAt)}`);
      assert.ok(clock.monotonic() - setAtMs > lease.ttlMs / 2, 'the watch fired long before the lease could expire');
      assert.equal(await port.get('c7/k'), null);
    },
  },
  {
    name: 'a delete watch from a past revision sees a delete made before it was set, and none made before that revision',
    async run({ port, other, clock }) {
      const first = await port.putIfAbsent('c8/k', '', 0);
      assert.equal(await other.delete('c8/k'), true);
      // Long enough for every member to have applied the delete: the watch must find it in history.
      await clock.sleep(HISTORY_SETTLE_MS);
      const deletedAt = await port.watchDelete('c8/k', first.createRevision + 1, 1000);
      assert.ok(deletedAt !== null && deletedAt > first.createRevision, `watch answered ${String(deletedAt)}`);
      const second = await other.putIfAbsent('c8/k', '', 0);
      assert.ok(second.createRevision > deletedAt);
      assert.equal(await port.watchDelete('c8/k', second.revision + 1, 500), null);
    },
  },
];

/** What every EtcdPort must do, sim or live. Keys are unique per case so live runs can share a cluster. */
export const etcdConformance: ConformanceCase<EtcdPort>[] = cases.map((c) => ({
  name: c.name,
  async run(context) {
    await untilAvailable(context.port, context.clock);
    await c.run(context);
  },
}));
