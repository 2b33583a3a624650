import assert from 'node:assert/strict';
import type { ConformanceCase } from '../conformance.ts';
import type { PostgresPort } from './port.ts';

/**
 * What every PostgresPort must do, sim or live. Keys and sequences are unique per case so live
 * runs can share a server. A case that starts a statement and awaits it later relies on the port's
 * calls being hot (they go out when called); it awaits one thing at a time.
 */
export const postgresConformance: ConformanceCase<PostgresPort>[] = [
  {
    name: 'pg_try_advisory_lock takes a free lock and refuses it to another session until the holder unlocks',
    async run({ port, other }) {
      assert.equal(await port.advisoryTryLock(9101), true);
      assert.equal(await other.advisoryTryLock(9101), false);
      assert.equal(await port.advisoryUnlock(9101), true);
      assert.equal(await other.advisoryTryLock(9101), true);
      assert.equal(await other.advisoryUnlock(9101), true);
    },
  },
  {
    name: 'pg_advisory_unlock of a lock the session does not hold returns false and leaves the holder its lock',
    async run({ port, other }) {
      assert.equal(await port.advisoryUnlock(9102), false);
      await port.advisoryLock(9102);
      assert.equal(await other.advisoryUnlock(9102), false);
      assert.equal(await other.advisoryTryLock(9102), false);
      assert.equal(await port.advisoryUnlock(9102), true);
    },
  },
  {
    name: 'advisory locks are reentrant: the session unlocks as many times as it locked',
    async run({ port, other }) {
      await port.advisoryLock(9103);
      assert.equal(await port.advisoryTryLock(9103), true);
      assert.equal(await port.advisoryUnlock(9103), true);
      assert.equal(await other.advisoryTryLock(9103), false, 'one unlock of two let the lock go');
      assert.equal(await port.advisoryUnlock(9103), true);
      assert.equal(await port.advisoryUnlock(9103), false);
      assert.equal(await other.advisoryTryLock(9103), true);
      assert.equal(await other.advisoryUnlock(9103), true);
    },
  },
  {
    name: 'pg_advisory_lock waits while another session holds the lock, and its session runs nothing else meanwhile',
    async run({ port, other, clock }) {
      await port.advisoryLock(9104);
      await other.ping();
      const waiting = other.advisoryLock(9104);
      const queuedBehind = other.nextval('conformance_9104');
      // Short of the plain statement timeout, which the queued nextval is under.
      await clock.sleep(100);
      const meanwhile = await port.nextval('conformance_9104');
      assert.equal(await port.advisoryUnlock(9104), true, 'the holder lost its lock to the waiter');
      await waiting;
      assert.ok((await queuedBehind) > meanwhile, 'the waiting session ran a statement before it had the lock');
      assert.equal(await port.advisoryTryLock(9104), false);
      assert.equal(await other.advisoryUnlock(9104), true);
    },
  },
  {
    name: 'an unlocked lock goes to the session already waiting for it, not to a later try-lock',
    async run({ port, other, clock }) {
      await port.advisoryLock(9105);
      await other.ping();
      const waiting = other.advisoryLock(9105);
      await clock.sleep(100);
      assert.equal(await port.advisoryUnlock(9105), true);
      assert.equal(await port.advisoryTryLock(9105), false);
      await waiting;
      assert.equal(await other.advisoryUnlock(9105), true);
    },
  },
  {
    name: 'a session that ends lets go of every lock it holds, and the waiting session gets its lock',
    async run({ port, other, clock }) {
      await port.advisoryLock(9106);
      await port.advisoryLock(9107);
      await other.ping();
      const waiting = other.advisoryLock(9106);
      await clock.sleep(100);
      const ended = port.session();
      port.disconnect();
      await waiting;
      assert.notEqual(port.session(), ended);
      assert.equal(await port.advisoryTryLock(9106), false);
      assert.equal(await port.advisoryTryLock(9107), true);
      assert.equal(await port.advisoryUnlock(9107), true);
      assert.equal(await other.advisoryUnlock(9106), true);
    },
  },
  {
    name: 'nextval counts up by one, whichever session asks',
    async run({ port, other }) {
      const first = await port.nextval('conformance_9108');
      assert.equal(await other.nextval('conformance_9108'), first + 1);
      assert.equal(await port.nextval('conformance_9108'), first + 2);
    },
  },
];
