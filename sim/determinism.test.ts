import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { checkDeterminism } from './determinism.ts';
import { Sim } from './sim.ts';
import type { TraceOptions } from './trace.ts';

/** A busy little world: clients talking to two servers over a lossy network, with every fault kind. */
function busyWorld(seed: number, trace?: TraceOptions, meddle?: (sim: Sim) => void): Sim {
  const sim = new Sim({ seed, trace, network: { latency: { minMs: 0.5, maxMs: 8 }, lossProbability: 0.02 } });
  for (const server of ['s1', 's2']) {
    sim.addNode(server, (host) => host.onMessage((m) => host.send(m.from, { type: 'reply', n: m.payload })));
  }
  for (const client of ['c1', 'c2', 'c3']) {
    sim.addNode(client, {
      driftPpm: client === 'c3' ? 300 : 0,
      factory: (host) =>
        host.spawn('load', async () => {
          for (let i = 0; i < 200; i++) {
            host.send(host.rng.pick(['s1', 's2']), i);
            await host.sleep(host.rng.uniform(1, 20));
          }
        }),
    });
  }
  sim.at(300, 'fault', () => sim.partition('c1', 's1', { mode: 'hold' }));
  sim.at(500, 'heal', () => sim.heal('c1', 's1'));
  sim.at(400, 'fault', () => sim.pause('c2'));
  sim.at(900, 'heal', () => sim.resume('c2'));
  sim.at(1200, 'fault', () => sim.crash('s2'));
  sim.at(1300, 'heal', () => sim.restart('s2', { persist: false }));
  sim.at(700, 'fault', () => sim.jumpClock('c3', 5000));
  meddle?.(sim);
  return sim;
}

describe('determinism', () => {
  it('the same seed gives the same trace hash', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1_000_000 }), async (seed) => {
        const a = await busyWorld(seed).run();
        const b = await busyWorld(seed).run();
        assert.equal(a.traceHash, b.traceHash);
        assert.equal(a.events, b.events);
      }),
      { numRuns: 30 },
    );
  });

  it('different seeds give different trace hashes', async () => {
    const hashes = new Set<string>();
    for (let seed = 0; seed < 40; seed++) hashes.add((await busyWorld(seed).run()).traceHash);
    assert.equal(hashes.size, 40);
  });

  it('checkDeterminism passes a deterministic run', async () => {
    const report = await checkDeterminism(async (trace) => {
      const sim = busyWorld(5, trace);
      await sim.run();
      return sim.kernel.trace;
    });
    assert.equal(report.deterministic, true);
    assert.equal(report.divergence, null);
    assert.equal(report.hashes[0], report.hashes[1]);
  });

  it('checkDeterminism names the first event where a run that leaks outside state diverges', async () => {
    let runs = 0;
    const report = await checkDeterminism(async (trace) => {
      const leaked = runs++;
      const sim = busyWorld(5, trace, (s) => s.at(600 + leaked, 'leaky', () => {}));
      await sim.run();
      return sim.kernel.trace;
    });
    assert.equal(report.deterministic, false);
    assert.ok(report.divergence !== null);
    assert.equal(report.divergence.first?.label, 'leaky');
    assert.equal(report.divergence.first.timeMs, 600);
    assert.match(report.message, /first divergence at event #\d+\n  run 1: #\d+ t=600ms node=- leaky/);
  });
});
