import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../sim/rng.ts';
import { scenarioSchema } from '../scenarios/schema.ts';
import { runScenario } from './run.ts';
import { drawMs, maxMs, minMs } from './durations.ts';

const rng = () => {
  const r = Rng.root(1).fork('durations');
  return { int: (min: number, max: number) => r.int(min, max), hex: () => '' };
};

describe('drawn durations', () => {
  it('a fixed duration draws nothing; uniform stays within its bounds; exponential has its mean and its cut', () => {
    const source = rng();
    let draws = 0;
    const counting = { ...source, int: (a: number, b: number) => (draws++, source.int(a, b)) };
    assert.equal(drawMs(250, counting), 250);
    assert.equal(draws, 0);
    const uniform = Array.from({ length: 2000 }, () => drawMs({ uniform: [0, 2000] }, source));
    assert.ok(uniform.every((x) => Number.isInteger(x) && x >= 0 && x <= 2000));
    const mean = uniform.reduce((a, b) => a + b, 0) / uniform.length;
    assert.ok(Math.abs(mean - 1000) < 60, `uniform mean ${mean}`);
    const exponential = Array.from({ length: 4000 }, () => drawMs({ exponential: { meanMs: 300 } }, source));
    const expMean = exponential.reduce((a, b) => a + b, 0) / exponential.length;
    assert.ok(Math.abs(expMean - 300) < 25, `exponential mean ${expMean}`);
    assert.ok(exponential.every((x) => x >= 0 && x <= 3000));
    assert.equal(maxMs({ exponential: { meanMs: 300 } }), 3000);
    assert.deepEqual([minMs({ uniform: [5, 9] }), maxMs({ uniform: [5, 9] })], [5, 9]);
  });

  it('the scenario format takes them for holdMs and thinkMs, and refuses a malformed one naming the field', () => {
    const base = { name: 'd', description: 'd', durationMs: 1000 };
    const parsed = scenarioSchema.parse({
      ...base,
      lock: { holdMs: { uniform: [0, 2000] }, thinkMs: { exponential: { meanMs: 50 } } },
    });
    assert.deepEqual(parsed.lock.holdMs, { uniform: [0, 2000] });
    for (const [holdMs, message] of [
      [{ uniform: [300, 200] }, /holdMs.uniform: max must be >= min/],
      [{ uniform: [0.5, 200] }, /holdMs.uniform: whole milliseconds/],
      [{ exponential: { meanMs: 0 } }, /holdMs.exponential.meanMs must be > 0/],
      [{ normal: 3 }, /holdMs: expected ms, \{ uniform: \[min, max\] \} or \{ exponential: \{ meanMs \} \}/],
    ] as const) {
      const result = scenarioSchema.safeParse({ ...base, lock: { holdMs } });
      assert.equal(result.success, false, JSON.stringify(holdMs));
      assert.match(JSON.stringify(result.error.issues), message);
    }
  });

  it('a run draws each hold afresh from its seed: the same seed, the same trace', async () => {
    const scenario = scenarioSchema.parse({
      name: 'drawn-holds',
      description: 'holds drawn uniformly',
      clients: 2,
      durationMs: 4000,
      lock: { ttlMs: 3000, holdMs: { uniform: [0, 400] }, thinkMs: 10 },
    });
    const one = await runScenario({ scenario, system: 'redis', fencing: false, seed: 3 });
    const two = await runScenario({ scenario, system: 'redis', fencing: false, seed: 3 });
    assert.equal(one.result.traceHash, two.result.traceHash);
    // Hold = read ok .. write invoke: they vary.
    const holds: number[] = [];
    let readAt: number | null = null;
    for (const op of one.history) {
      if (op.f === 'read' && op.type === 'ok') readAt = op.timeMs;
      if (op.f === 'write' && op.type === 'invoke' && readAt !== null) holds.push(Math.round(op.timeMs - readAt));
    }
    assert.ok(holds.length > 5 && new Set(holds).size > holds.length / 2, `holds ${holds.join(', ')}`);
    assert.ok(holds.every((h) => h >= 0 && h <= 400));
  });
});
