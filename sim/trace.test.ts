import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Trace } from './trace.ts';

type Entry = [timeMs: number, nodeIndex: number, label: string, aux: number];

function hashOf(entries: Entry[]): string {
  const trace = new Trace();
  for (const [timeMs, nodeIndex, label, aux] of entries) trace.record(timeMs, nodeIndex, `n${nodeIndex}`, label, aux);
  return trace.hash();
}

const entry = fc.tuple(
  fc.double({ min: 0, max: 1e6, noNaN: true }),
  fc.integer({ min: -1, max: 20 }),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: 0, max: 20 }),
);

describe('trace hash', () => {
  it('changes when any field of any event changes', () => {
    fc.assert(
      fc.property(
        fc.array(entry, { minLength: 1, maxLength: 20 }),
        fc.nat(),
        fc.integer({ min: 0, max: 3 }),
        (entries, at, field) => {
          const i = at % entries.length;
          const changed = entries.map((e) => [...e] as Entry);
          const target = changed[i]!;
          if (field === 0) target[0] = target[0] + 0.5;
          if (field === 1) target[1] = target[1] + 1;
          if (field === 2) target[2] = `${target[2]}x`;
          if (field === 3) target[3] = target[3] + 1;
          assert.notEqual(hashOf(changed), hashOf(entries));
        },
      ),
    );
  });

  it('depends on the order of events and on their number', () => {
    const a: Entry = [1, 0, 'x', 0];
    const b: Entry = [1, 1, 'x', 0];
    assert.notEqual(hashOf([a, b]), hashOf([b, a]));
    assert.notEqual(hashOf([a]), hashOf([a, a]));
    assert.equal(hashOf([a, b]), hashOf([a, b]));
    assert.match(hashOf([]), /^[0-9a-f]{16}$/);
  });

  it('keeps entries only up to its record limit, but hashes every event', () => {
    const trace = new Trace({ recordLimit: 2 });
    for (let i = 0; i < 5; i++) trace.record(i, 0, 'n0', 'e', 0);
    assert.equal(trace.length, 5);
    assert.deepEqual(
      trace.entries.map((e) => e.timeMs),
      [0, 1],
    );
  });
});
