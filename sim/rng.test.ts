import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Rng } from './rng.ts';

const draws = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.next());

describe('rng', () => {
  it('one seed gives one sequence; another seed another', () => {
    assert.deepEqual(draws(Rng.root(42), 20), draws(Rng.root(42), 20));
    assert.notDeepEqual(draws(Rng.root(42), 20), draws(Rng.root(43), 20));
  });

  it('a forked stream depends on its name only, not on draws made elsewhere', () => {
    const quiet = Rng.root(7);
    const busy = Rng.root(7);
    draws(busy, 1000);
    draws(busy.fork('other'), 1000);
    assert.deepEqual(draws(quiet.fork('network'), 10), draws(busy.fork('network'), 10));
    assert.notDeepEqual(draws(quiet.fork('network'), 10), draws(quiet.fork('clients'), 10));
  });

  it('int stays within its inclusive bounds and uniform within [min, max)', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: 0, max: 1000 }),
        (seed, min, span) => {
          const rng = Rng.root(seed);
          for (let i = 0; i < 50; i++) {
            const n = rng.int(min, min + span);
            assert.ok(Number.isInteger(n) && n >= min && n <= min + span);
            const u = rng.uniform(min, min + span);
            assert.ok(u >= min && (span === 0 ? u === min : u < min + span));
          }
        },
      ),
    );
  });

  it('refuses impossible ranges and probabilities', () => {
    const rng = Rng.root(1);
    assert.throws(() => rng.int(5, 1), /Rng.int needs integers min <= max, got \[5, 1\]/);
    assert.throws(() => rng.chance(1.5), /probability in \[0, 1\], got 1.5/);
    assert.throws(() => rng.pick([]), /non-empty list/);
    assert.throws(() => rng.fork(''), /non-empty stream name/);
    assert.match(rng.hex(8), /^[0-9a-f]{16}$/);
  });
});
