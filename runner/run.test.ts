import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScenario } from '../scenarios/loader.ts';
import { runScenario } from './run.ts';

const GC_PAUSE = `
name: pause-after-acquire
description: the holder stops the world for twice its lease right after acquiring
systems: [redis, redlock]
clients: 3
durationMs: 10000
lock: { ttlMs: 1000, holdMs: 100, thinkMs: 50 }
faults:
  - after: { event: acquired, nth: 2 }
    pause: holder
    forMs: 2000
expect:
  - { system: redis, fencing: off, verdict: unsafe }
  - { system: redis, fencing: on, verdict: safe }
`;

describe('running a scenario in the simulator', () => {
  const scenario = parseScenario(GC_PAUSE, 'inline.yaml');

  it('judges the run, meets the expectation, and records the metrics results.json carries', async () => {
    const { result, history } = await runScenario({ scenario, system: 'redis', fencing: false, seed: 1 });
    assert.equal(result.verdict, 'unsafe');
    assert.equal(result.expected, 'unsafe');
    assert.equal(result.expectationMet, true);
    assert.equal(result.skipped, null);
    assert.ok(result.metrics !== null && result.metrics.staleWritesAccepted > 0);
    assert.ok(result.metrics.acquisitions > 10 && result.metrics.acquireLatencyMs !== null);
    assert.match(result.traceHash ?? '', /^[0-9a-f]{16}$/);
    assert.ok(result.simulatedMs >= 10_000);
    assert.ok(history.length > 0);
  });

  it('fencing with a sound token makes the same run safe', async () => {
    const { result } = await runScenario({ scenario, system: 'redis', fencing: true, seed: 1 });
    assert.equal(result.verdict, 'safe');
    assert.equal(result.expectationMet, true);
  });

  it('replays exactly from its seed, and another seed gives another run', async () => {
    const a = await runScenario({ scenario, system: 'redlock', fencing: false, seed: 4 });
    const b = await runScenario({ scenario, system: 'redlock', fencing: false, seed: 4 });
    const c = await runScenario({ scenario, system: 'redlock', fencing: false, seed: 5 });
    assert.equal(a.result.traceHash, b.result.traceHash);
    assert.deepEqual(a.result.metrics, b.result.metrics);
    assert.notEqual(a.result.traceHash, c.result.traceHash);
    assert.equal(a.result.expected, null);
    assert.equal(a.result.expectationMet, null);
  });

  it('skips, with the reason, a run whose faults cannot apply to the system', async () => {
    const leaderCrash = parseScenario(
      'name: x\ndescription: y\nsystems: [redlock]\ndurationMs: 1000\nfaults:\n  - { at: 10, crash: leader }\n',
      'inline.yaml',
    );
    const { result } = await runScenario({ scenario: leaderCrash, system: 'redlock', fencing: false, seed: 1 });
    assert.equal(result.verdict, 'skipped');
    assert.match(result.skipped ?? '', /selector leader: this system has no leader/);
  });
});

describe('runs that cannot finish', () => {
  it('end with verdict unknown and the reason, not a crash of the whole invocation', async () => {
    // Five clients that never hold or think, on a near-instant network: far more events per simulated second than any real run.
    const spinning = parseScenario(
      'name: x\ndescription: y\nsystems: [redis]\nclients: 5\ndurationMs: 1000\nlock: { ttlMs: 100, holdMs: 0, thinkMs: 0 }\nnetwork: { latencyMs: { min: 0, max: 0.001 } }\n',
      'inline.yaml',
    );
    const { result } = await runScenario({ scenario: spinning, system: 'redis', fencing: false, seed: 1 });
    assert.equal(result.verdict, 'unknown');
    assert.match(result.notes.join(' '), /event budget of \d+ exceeded/);
  });
});
