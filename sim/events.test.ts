import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { EventQueue, type SimEvent } from './events.ts';

function event(timeMs: number, lane: number, seq: number): SimEvent {
  return {
    timeMs,
    lane,
    seq,
    owner: null,
    incarnation: 0,
    deferOnPause: true,
    label: 'e',
    aux: 0,
    fire: () => {},
    arg: undefined,
    cancelled: false,
  };
}

describe('event queue', () => {
  it('pops events in (time, lane, seq) order whatever the push order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 1 })), { maxLength: 300 }),
        (specs) => {
          const queue = new EventQueue();
          specs.forEach(([time, lane], seq) => queue.push(event(time, lane, seq)));
          const popped: SimEvent[] = [];
          for (let e = queue.pop(); e !== undefined; e = queue.pop()) popped.push(e);
          assert.equal(popped.length, specs.length);
          for (let i = 1; i < popped.length; i++) {
            const a = popped[i - 1]!;
            const b = popped[i]!;
            const inOrder =
              a.timeMs < b.timeMs ||
              (a.timeMs === b.timeMs && (a.lane < b.lane || (a.lane === b.lane && a.seq < b.seq)));
            assert.ok(
              inOrder,
              `event ${JSON.stringify([a.timeMs, a.lane, a.seq])} popped before ${JSON.stringify([b.timeMs, b.lane, b.seq])}`,
            );
          }
        },
      ),
    );
  });

  it('interleaves pushes and pops without losing events', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }), { maxLength: 300 }),
        (ops) => {
          const queue = new EventQueue();
          const model: number[] = [];
          let seq = 0;
          for (const op of ops) {
            if (op === undefined) {
              model.sort((x, y) => x - y);
              assert.equal(queue.pop()?.timeMs, model.shift());
            } else {
              queue.push(event(op, 1, seq++));
              model.push(op);
            }
            assert.equal(queue.size, model.length);
          }
        },
      ),
    );
  });
});
