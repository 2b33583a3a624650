import assert from 'node:assert/strict';
import type { ConformanceCase } from '../conformance.ts';
import type { MySqlPort } from './port.ts';

/**
 * What every MySqlPort must do, sim or live. Names and counters are unique per case so live runs
 * can share a server. A case that starts a statement and awaits it later relies on the port's
 * calls being hot (they go out when called); it awaits one thing at a time.
 */
export const mysqlConformance: ConformanceCase<MySqlPort>[] = [
  {
    name: 'GET_LOCK with timeout 0 takes a free name and refuses a held one at once',
    async run({ port, other }) {
      assert.equal(await port.getLock('conformance-1', 0), 1);
      assert.equal(await other.getLock('conformance-1', 0), 0);
      assert.equal(await port.releaseLock('conformance-1'), 1);
      assert.equal(await other.getLock('conformance-1', 0), 1);
      assert.equal(await other.releaseLock('conformance-1'), 1);
    },
  },
  {
    name: 'GET_LOCK returns 0 once its timeout passes while another session holds the name',
    async run({ port, other, clock }) {
      assert.equal(await port.getLock('conformance-2', 0), 1);
      const startedMs = clock.monotonic();
      assert.equal(await other.getLock('conformance-2', 1), 0);
      const waitedMs = clock.monotonic() - startedMs;
      assert.ok(waitedMs >= 1000 && waitedMs < 1500, `GET_LOCK(name, 1) gave up after ${waitedMs}ms`);
      assert.equal(await port.releaseLock('conformance-2'), 1);
    },
  },
  {
    name: 'a waiting GET_LOCK gets the name once the holder releases it, and its session runs nothing else meanwhile',
    async run({ port, other, clock }) {
      assert.equal(await port.getLock('conformance-3', 0), 1);
      await other.ping();
      const waiting = other.getLock('conformance-3', 10);
      const queuedBehind = other.incrementCounter('conformance-3');
      // Short of the plain statement timeout, which the queued increment is under.
      await clock.sleep(100);
      const meanwhile = await port.incrementCounter('conformance-3');
      assert.equal(await port.releaseLock('conformance-3'), 1, 'the holder lost its lock to the waiter');
      assert.equal(await waiting, 1);
      assert.ok((await queuedBehind) > meanwhile, 'the waiting session ran a statement before it had the lock');
      assert.equal(await other.releaseLock('conformance-3'), 1);
    },
  },
  {
    name: 'a released name goes to the session already waiting for it, not to a later GET_LOCK',
    async run({ port, other, clock }) {
      assert.equal(await port.getLock('conformance-4', 0), 1);
      await other.ping();
      const waiting = other.getLock('conformance-4', 10);
      await clock.sleep(100);
      assert.equal(await port.releaseLock('conformance-4'), 1);
      assert.equal(await port.getLock('conformance-4', 0), 0);
      assert.equal(await waiting, 1);
      assert.equal(await other.releaseLock('conformance-4'), 1);
    },
  },
  {
    name: 'RELEASE_LOCK returns 1 to the holder, 0 for a name another session holds, NULL for a free name',
    async run({ port, other }) {
      assert.equal(await port.releaseLock('conformance-5'), null);
      assert.equal(await port.getLock('conformance-5', 0), 1);
      assert.equal(await other.releaseLock('conformance-5'), 0);
      assert.equal(await other.getLock('conformance-5', 0), 0, 'a release by another session let the lock go');
      assert.equal(await port.releaseLock('conformance-5'), 1);
      assert.equal(await port.releaseLock('conformance-5'), null);
    },
  },
  {
    name: 'a session holds several names, each reentrant: as many releases as GET_LOCKs',
    async run({ port, other }) {
      assert.equal(await port.getLock('conformance-6a', 0), 1);
      assert.equal(await port.getLock('conformance-6b', 0), 1);
      assert.equal(await port.getLock('conformance-6a', 0), 1);
      assert.equal(await port.releaseLock('conformance-6b'), 1);
      assert.equal(await port.releaseLock('conformance-6a'), 1);
      assert.equal(await other.getLock('conformance-6a', 0), 0, 'one release of two let the lock go');
      assert.equal(await port.releaseLock('conformance-6a'), 1);
      assert.equal(await port.releaseLock('conformance-6a'), null);
    },
  },
  {
    name: 'a session that ends lets go of every name it holds, and the waiting session gets its name',
    async run({ port, other, clock }) {
      assert.equal(await port.getLock('conformance-7a', 0), 1);
      assert.equal(await port.getLock('conformance-7b', 0), 1);
      await other.ping();
      const waiting = other.getLock('conformance-7a', 10);
      await clock.sleep(100);
      const ended = port.session();
      port.disconnect();
      assert.equal(await waiting, 1);
      assert.notEqual(port.session(), ended);
      assert.equal(await port.getLock('conformance-7a', 0), 0);
      assert.equal(await port.getLock('conformance-7b', 0), 1);
      assert.equal(await port.releaseLock('conformance-7b'), 1);
      assert.equal(await other.releaseLock('conformance-7a'), 1);
    },
  },
  {
    name: 'the counter row counts up by one, whichever session asks',
    async run({ port, other }) {
      const first = await port.incrementCounter('conformance-8');
      assert.equal(await other.incrementCounter('conformance-8'), first + 1);
      assert.equal(await port.incrementCounter('conformance-8'), first + 2);
    },
  },
];
