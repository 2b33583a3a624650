import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NodeClock } from './clock.ts';
import { Sim } from './sim.ts';

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a), Math.abs(b));

describe('clocks', () => {
  it('wall = offset + (1 + drift/1e6) * true + jumps; monotonic ignores offset and jumps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -100_000, max: 100_000 }),
        fc.integer({ min: -50_000, max: 50_000 }),
        fc.array(fc.integer({ min: -60_000, max: 60_000 }), { maxLength: 5 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (offsetMs, driftPpm, jumps, trueMs) => {
          const clock = new NodeClock({ offsetMs, driftPpm });
          jumps.forEach((j) => clock.jump(j));
          const rate = 1 + driftPpm / 1e6;
          const jumped = jumps.reduce((a, b) => a + b, 0);
          assert.ok(close(clock.wallAt(trueMs), offsetMs + rate * trueMs + jumped));
          assert.ok(close(clock.monotonicAt(trueMs), rate * trueMs));
        },
      ),
    );
  });

  it('a drift change keeps both readings continuous and changes only the slope after it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (before, after, changeAt, later) => {
          const clock = new NodeClock({ driftPpm: before, offsetMs: 7 });
          const wallBefore = clock.wallAt(changeAt);
          const monoBefore = clock.monotonicAt(changeAt);
          clock.setDrift(after, changeAt);
          assert.ok(close(clock.wallAt(changeAt), wallBefore));
          assert.ok(close(clock.monotonicAt(changeAt), monoBefore));
          assert.ok(close(clock.monotonicAt(changeAt + later) - monoBefore, later * (1 + after / 1e6)));
        },
      ),
    );
  });

  it('a node sleeps by its own monotonic clock: a fast clock wakes early in true time, a jump changes nothing', async () => {
    const sim = new Sim({ seed: 1 });
    const woke: Record<string, { trueMs: number; monotonicMs: number; wallMs: number }> = {};
    for (const [id, driftPpm] of [
      ['fast', 100_000],
      ['slow', -100_000],
      ['exact', 0],
    ] as const) {
      sim.addNode(id, {
        driftPpm,
        factory: (host) =>
          host.spawn('sleep', async () => {
            await host.sleep(1100);
            woke[id] = { trueMs: sim.nowMs, monotonicMs: host.clock.monotonic(), wallMs: host.clock.now() };
          }),
      });
    }
    sim.at(10, 'jump', () => sim.jumpClock('exact', 60_000));
    await sim.run();
    assert.ok(close(woke.fast!.trueMs, 1000));
    assert.ok(close(woke.slow!.trueMs, 1100 / 0.9));
    assert.equal(woke.exact!.trueMs, 1100);
    for (const id of ['fast', 'slow', 'exact'])
      assert.ok(close(woke[id]!.monotonicMs, 1100), `${id} slept 1100ms by its own clock`);
    assert.equal(woke.exact!.wallMs, 61_100, 'the jump moved the wall clock only');
  });

  it('refuses a clock that does not run forward, or non-finite settings', () => {
    assert.throws(() => new NodeClock({ driftPpm: -1e6 }), /driftPpm must be finite and > -1000000/);
    assert.throws(() => new NodeClock({ offsetMs: Number.POSITIVE_INFINITY }), /offsetMs must be finite/);
    assert.throws(() => new NodeClock().jump(Number.NaN), /jumpMs must be finite, got NaN/);
  });
});
