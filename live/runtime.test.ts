/**
 * The live Runtime's randomness comes from a pool refilled by the kernel a few kilobytes at a time:
 * lock values must still be fresh, of the asked length, and unrelated across a refill.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiveRuntime } from './runtime.ts';

describe('LiveRuntime randomness', () => {
  const { rng } = new LiveRuntime('test');

  it('gives hex of the asked length, never the same value twice, across many pool refills', () => {
    const seen = new Set<string>();
    // 16-byte lock values: 256 to a 4 KiB pool, so this crosses the refill about 80 times; an odd
    // size makes draws straddle the pool's end too.
    for (let i = 0; i < 20_000; i++) {
      const value = rng.hex(i % 7 === 0 ? 13 : 16);
      assert.match(value, i % 7 === 0 ? /^[0-9a-f]{26}$/ : /^[0-9a-f]{32}$/);
      assert.ok(!seen.has(value), `value ${value} came twice`);
      seen.add(value);
    }
  });

  it('serves a request larger than the pool', () => {
    assert.match(rng.hex(5000), /^[0-9a-f]{10000}$/);
  });

  it('draws integers within the bounds, both ends included', () => {
    const drawn = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const n = rng.int(3, 6);
      assert.ok(n >= 3 && n <= 6, `drew ${n}`);
      drawn.add(n);
    }
    assert.deepEqual([...drawn].sort(), [3, 4, 5, 6]);
  });
});
