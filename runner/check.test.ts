import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScenario } from '../scenarios/loader.ts';
import { checkCommand, counterexampleName, counterexampleYaml } from '../cli/check.ts';
import { RunPool } from './check-pool.ts';
import fc from 'fast-check';
import { candidates, check, searchSpace } from './check.ts';
import { scenarioArbitrary } from './search.ts';
import { runScenario } from './run.ts';

const BASE = { runs: 200, durationMs: 5000, swarm: false } as const;

describe('lockstep check', () => {
  for (const seed of [1, 2]) {
    it(`finds RedLock unsafe unfenced within 200 runs (seed ${seed}), shrinks to at most 2 faults, and the exported file replays unsafe with the same trace`, async () => {
      const outcome = await check({ ...BASE, system: 'redlock', fencing: false, seed });
      const found = outcome.counterexample;
      assert.ok(found !== null, `no counterexample in ${outcome.tried} runs`);
      assert.ok(found.scenario.faults.length <= 2, `${found.scenario.faults.length} faults after shrinking`);
      assert.equal(found.result.verdict, 'unsafe');
      const command = checkCommand({ system: 'redlock', fencing: 'off', runs: 200, seed, out: '.', workers: 1 });
      const name = counterexampleName(command);
      assert.equal(name, `counterexample-redlock-fencing-off-seed-${seed}`);
      const yaml = counterexampleYaml(command, found, name);
      const replayed = parseScenario(yaml, `${name}.yaml`);
      assert.equal(replayed.name, name, 'the scenario is named after its file');
      const { result } = await runScenario({ scenario: replayed, system: 'redlock', fencing: false, seed });
      assert.equal(result.verdict, 'unsafe');
      assert.equal(result.expectationMet, true);
      assert.equal(result.traceHash, found.result.traceHash);
    });
  }

  for (const system of ['zookeeper', 'etcd', 'postgres'] as const) {
    it(`finds no counterexample for ${system} fenced in 300 runs`, async () => {
      const outcome = await check({ ...BASE, runs: 300, system, fencing: true, seed: 11, swarm: true });
      assert.equal(outcome.counterexample, null, JSON.stringify(outcome.counterexample?.scenario));
      assert.equal(outcome.tried, 300);
    });
  }

  it('gives the same answer with worker threads as serially', async () => {
    const pool = new RunPool(2);
    try {
      const serial = await check({ ...BASE, system: 'redis', fencing: false, seed: 5 });
      const parallel = await check({
        ...BASE,
        system: 'redis',
        fencing: false,
        seed: 5,
        judge: pool.judge,
        batchSize: 4,
      });
      assert.ok(serial.counterexample !== null);
      assert.equal(parallel.counterexample?.index, serial.counterexample.index);
      assert.deepEqual(parallel.counterexample.scenario, serial.counterexample.scenario);
      assert.equal(parallel.counterexample.result.traceHash, serial.counterexample.result.traceHash);
    } finally {
      await pool.close();
    }
  });
});

describe('check candidates', () => {
  const arbitrary = scenarioArbitrary(
    searchSpace({ system: 'redlock', fencing: false, durationMs: 5000, swarm: false }),
  );

  it('draws the very values fc.sample draws, in order, across chunk boundaries', () => {
    const lazy = [...candidates(arbitrary, 3, 25, 7)];
    assert.equal(lazy.length, 25);
    assert.deepEqual(lazy, fc.sample(arbitrary, { seed: 3, numRuns: 25 }));
  });

  it('hands out the first of a billion candidates without drawing the rest', () => {
    const source = candidates(arbitrary, 1, 1_000_000_000);
    const first = source.next();
    assert.equal(first.done, false);
    assert.deepEqual(first.value, fc.sample(arbitrary, { seed: 1, numRuns: 1 })[0]);
  });
});
