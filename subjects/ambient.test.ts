/**
 * Foreign code on a simulated node gets the node's time and randomness through the ordinary
 * globals, and code outside a simulation gets the real ones.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import timersPromises from 'node:timers/promises';
import { Sim } from '../sim/sim.ts';
import type { Host } from '../sim/node.ts';
import { installAmbient, realSetImmediate } from './ambient.ts';
import { ambientOf, simGate } from './sim.ts';

installAmbient();

/** A sim with one node `n` whose clock is `skewMs` ahead, running `body` as foreign code at boot. */
async function onNode(
  body: (host: Host) => Promise<void>,
  options: { untilMs?: number; skewMs?: number; before?: (sim: Sim) => void } = {},
): Promise<Sim> {
  const sim = new Sim({ seed: 7, yieldMacrotask: realSetImmediate });
  sim.addNode('n', {
    offsetMs: options.skewMs ?? 0,
    factory: (host) => {
      const gate = simGate(ambientOf(host, sim.kernel));
      host.spawn('foreign', async () => {
        await gate.async(() => body(host));
      });
    },
  });
  options.before?.(sim);
  await sim.run({ untilMs: options.untilMs ?? 60_000 });
  return sim;
}

describe('ambient time and randomness for foreign code', () => {
  it("answers Date, performance.now and the timers from the node's clock", async () => {
    const seen: number[] = [];
    await onNode(
      async (host) => {
        seen.push(Date.now(), new Date().getTime(), performance.now());
        await new Promise((resolve) => setTimeout(resolve, 1500));
        seen.push(Date.now(), host.clock.now());
        await timersPromises.setTimeout(500);
        seen.push(performance.now());
      },
      { skewMs: 10_000 },
    );
    const [now, dated, mono, later, wall, after] = seen;
    assert.equal(now, 10_000, "Date.now is the node's wall clock, 10 s ahead");
    assert.equal(dated, 10_000);
    assert.equal(mono, 0, 'performance.now is its monotonic clock');
    assert.equal(later, 11_500, 'setTimeout waited 1.5 s of simulated time');
    assert.equal(wall, 11_500);
    assert.equal(after, 2000, 'timers/promises too');
  });

  it('draws Math.random, crypto.randomBytes and randomUUID from the seed: the same run gives the same values', async () => {
    const draw = async () => {
      const values: string[] = [];
      await onNode(() => {
        values.push(String(Math.random()), crypto.randomBytes(8).toString('hex'), crypto.randomUUID());
        return Promise.resolve();
      });
      return values;
    };
    const one = await draw();
    const two = await draw();
    assert.deepEqual(one, two);
    assert.match(one[2] ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("a paused node's timers wait for it; a crashed node's never fire", async () => {
    const fired: number[] = [];
    await onNode(
      async (host) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        fired.push(host.clock.monotonic());
        setInterval(() => fired.push(host.clock.monotonic()), 1000);
        await new Promise(() => {});
      },
      {
        untilMs: 10_000,
        before: (sim) => {
          sim.after(1500, 'pause', () => sim.pause('n'));
          sim.after(4000, 'resume', () => sim.resume('n'));
          sim.after(6500, 'crash', () => sim.crash('n'));
        },
      },
    );
    // 100, then every second from 1100; 2100 comes due while paused and runs at the resume (4000),
    // and the interval goes on a second from there, as Node's does after a stalled event loop.
    // Nothing after the crash at 6500.
    assert.deepEqual(fired, [100, 1100, 4000, 5000, 6000]);
  });

  it('outside a simulation, the globals are the real ones', async () => {
    const before = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(Date.now() >= before, 'real time moves');
    assert.notEqual(crypto.randomBytes(8).toString('hex'), crypto.randomBytes(8).toString('hex'));
  });

  it('stops the run when foreign code throws in a timer, naming the node', async () => {
    await assert.rejects(
      onNode(() => {
        setTimeout(() => {
          throw new Error('boom');
        }, 10);
        return Promise.resolve();
      }),
      /subject code on node 'n' threw: boom/,
    );
  });
});
