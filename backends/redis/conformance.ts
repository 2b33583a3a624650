import assert from 'node:assert/strict';
import type { ConformanceCase } from '../conformance.ts';
import type { RedisPort } from './port.ts';

/** What every RedisPort must do, sim or live. Keys are unique per case so live runs can share a server. */
export const redisConformance: ConformanceCase<RedisPort>[] = [
  {
    name: 'SET NX PX sets an absent key and refuses a present one',
    async run({ port, other }) {
      assert.equal(await port.setNxPx('c1:k', 'a', 10_000), true);
      assert.equal(await other.setNxPx('c1:k', 'b', 10_000), false);
      assert.equal(await other.get('c1:k'), 'a');
    },
  },
  {
    name: 'a key expires after its TTL, and PTTL counts down to it',
    async run({ port, clock }) {
      assert.equal(await port.setNxPx('c2:k', 'a', 200), true);
      const left = await port.pttl('c2:k');
      assert.ok(left > 0 && left <= 200, `PTTL ${left}`);
      await clock.sleep(300);
      assert.equal(await port.get('c2:k'), null);
      assert.equal(await port.pttl('c2:k'), -2);
      assert.equal(await port.setNxPx('c2:k', 'b', 200), true);
    },
  },
  {
    name: 'compare-and-delete deletes only the holder’s value',
    async run({ port, other }) {
      await port.setNxPx('c3:k', 'mine', 10_000);
      assert.equal(await other.deleteIfEqual('c3:k', 'theirs'), false);
      assert.equal(await port.get('c3:k'), 'mine');
      assert.equal(await port.deleteIfEqual('c3:k', 'mine'), true);
      assert.equal(await port.get('c3:k'), null);
      assert.equal(await port.deleteIfEqual('c3:k', 'mine'), false);
    },
  },
  {
    name: 'compare-and-extend extends only the holder’s key',
    async run({ port, other, clock }) {
      await port.setNxPx('c4:k', 'mine', 300);
      assert.equal(await other.extendIfEqual('c4:k', 'theirs', 10_000), false);
      assert.equal(await port.extendIfEqual('c4:k', 'mine', 1000), true);
      await clock.sleep(500);
      assert.equal(await port.get('c4:k'), 'mine');
      assert.equal(await port.extendIfEqual('c4:missing', 'mine', 1000), false);
    },
  },
  {
    name: 'INCR counts up from 1',
    async run({ port, other }) {
      assert.equal(await port.incr('c5:n'), 1);
      assert.equal(await other.incr('c5:n'), 2);
      assert.equal(await port.incr('c5:n'), 3);
    },
  },
];
