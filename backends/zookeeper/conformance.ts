import assert from 'node:assert/strict';
import type { ConformanceCase } from '../conformance.ts';
import { isZooKeeperError, type SessionState, type ZooKeeperPort } from './port.ts';

/** Create `path` as a persistent node for one case; paths are unique per case so live runs can share an ensemble. */
async function dir(port: ZooKeeperPort, path: string): Promise<string> {
  await port.create(path, 'persistent');
  return path;
}

async function rejects(operation: Promise<unknown>, code: Parameters<typeof isZooKeeperError>[1]): Promise<void> {
  await assert.rejects(operation, (error) => isZooKeeperError(error, code));
}

/** What every ZooKeeperPort must do, sim or live. */
export const zookeeperConformance: ConformanceCase<ZooKeeperPort>[] = [
  {
    name: 'sequential names end in a 10-digit sequence that increases, whoever creates them',
    async run({ port, other }) {
      const parent = await dir(port, '/conf-seq');
      const a = (await port.create(`${parent}/n-`, 'ephemeral-sequential')).path;
      const b = (await other.create(`${parent}/n-`, 'ephemeral-sequential')).path;
      const c = (await port.create(`${parent}/n-`, 'ephemeral-sequential')).path;
      for (const path of [a, b, c]) assert.match(path, /^\/conf-seq\/n-\d{10}$/);
      assert.ok(a < b && b < c, [a, b, c].join(' '));
    },
  },
  {
    name: 'getChildren lists the children by name, sorted; of a missing node it fails with NoNode',
    async run({ port, other }) {
      const parent = await dir(port, '/conf-children');
      for (const name of ['b', 'c', 'a']) await other.create(`${parent}/${name}`, 'ephemeral');
      // Read by the session that wrote: ZooKeeper shows a session its own writes in order, but a
      // read through another session's server may not have them yet (no sync), as seen live.
      assert.deepEqual(await other.getChildren(parent), ['a', 'b', 'c']);
      await rejects(port.getChildren('/conf-children-missing'), 'NoNode');
    },
  },
  {
    name: 'create of an existing node fails with NodeExists; delete of a missing one with NoNode',
    async run({ port, other }) {
      const parent = await dir(port, '/conf-errors');
      await port.create(`${parent}/x`, 'ephemeral');
      await rejects(other.create(`${parent}/x`, 'ephemeral'), 'NodeExists');
      await other.delete(`${parent}/x`);
      await rejects(port.delete(`${parent}/x`), 'NoNode');
    },
  },
  {
    name: 'ephemerals outlive the session timeout while the session lives, and go when it closes',
    async run({ port, other, clock }) {
      const parent = await dir(other, '/conf-close');
      await port.create(`${parent}/e`, 'ephemeral');
      await clock.sleep(3 * port.sessionTimeoutMs);
      assert.notEqual(await other.exists(`${parent}/e`), null, 'the ephemeral went while its session lived');
      await port.close();
      assert.equal(port.state(), 'closed');
      assert.equal(await other.exists(`${parent}/e`), null);
    },
  },
  {
    name: 'ephemerals go when the session expires; the client sees it expire, then works in a new session',
    async run({ port, other }) {
      const parent = await dir(other, '/conf-expire');
      await port.create(`${parent}/e`, 'ephemeral');
      const seen: SessionState[] = [];
      port.onStateChange((state) => seen.push(state));
      await port.expireSession();
      // Real ZooKeeper closes the connection of a session it ends and says nothing more: its
      // client reports disconnected, then expired on reconnecting (Curator's SUSPENDED, then
      // LOST). The simulated server tells a connected client at once. Both keep this contract:
      // expired comes, and nothing but disconnected comes before it.
      const expiredAt = seen.indexOf('expired');
      assert.ok(expiredAt >= 0, `never saw expired: ${seen.join(' ')}`);
      assert.ok(
        seen.slice(0, expiredAt).every((state) => state === 'disconnected'),
        seen.join(' '),
      );
      assert.equal(await other.exists(`${parent}/e`), null);
      await port.create(`${parent}/e`, 'ephemeral');
      assert.equal(port.state(), 'connected');
    },
  },
  {
    name: 'an exists-watch fires once the node is deleted, and not before',
    async run({ port, other, clock }) {
      const parent = await dir(other, '/conf-watch');
      const created = await other.create(`${parent}/n`, 'ephemeral');
      const watch = await port.existsWatch(`${parent}/n`);
      assert.deepEqual(watch.stat, { czxid: created.czxid });
      await clock.sleep(port.sessionTimeoutMs);
      assert.equal(watch.fired(), null, 'fired before the delete');
      await other.delete(`${parent}/n`);
      assert.equal(await watch.event, 'deleted');
      assert.equal(watch.fired(), 'deleted');
    },
  },
  {
    name: 'a watch set on a node that does not exist reports it at once',
    async run({ port }) {
      const watch = await port.existsWatch('/conf-watch-missing');
      assert.equal(watch.stat, null);
      assert.equal(watch.fired(), 'deleted');
      assert.equal(await watch.event, 'deleted');
    },
  },
  {
    name: 'czxid increases with every node created, and exists reports it',
    async run({ port, other }) {
      const parent = await dir(port, '/conf-czxid');
      const a = await port.create(`${parent}/a`, 'ephemeral');
      const b = await other.create(`${parent}/b`, 'persistent');
      await port.delete(`${parent}/a`);
      const c = await port.create(`${parent}/a`, 'ephemeral');
      assert.ok(a.czxid < b.czxid && b.czxid < c.czxid, `${a.czxid} ${b.czxid} ${c.czxid}`);
      assert.deepEqual(await other.exists(`${parent}/a`), { czxid: c.czxid });
    },
  },
];
