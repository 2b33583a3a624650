/**
 * The behaviour tests every system's election goes through in the simulator, with what each
 * system is expected to do written down per system.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { electionTiming } from '../../checkers/election.ts';
import { checkMutex } from '../../checkers/mutex.ts';
import { runSimMutex } from '../../runner/sim-harness.ts';
import type { SimWorld } from '../../runner/sim-world.ts';
import type { Sim } from '../../sim/sim.ts';
import { BASE } from './lock-suite.ts';
import type { SystemModule } from '../../backends/system.ts';

export interface ElectionExpectations {
  /** Unfenced verdict when the leader pauses for twice the TTL right after winning. */
  readonly pauseBeyondTtl: 'safe' | 'unsafe';
  /** After the leader crashes, another client leads within [min, max] ms. */
  readonly failoverMs: readonly [number, number];
}

async function run(system: SystemModule, seed: number, fencing: boolean, faults?: (sim: Sim, world: SimWorld) => void) {
  const result = await runSimMutex({ ...BASE, workload: 'election', system, seed, fencing, faults });
  const ops = result.history.ops;
  return {
    ops,
    safety: checkMutex(ops, result.register.writes, result.register.value),
    timing: electionTiming(ops, BASE.durationMs),
  };
}

export function electionSuite(system: SystemModule, expected: ElectionExpectations): void {
  describe(`${system.id} election in the simulator`, () => {
    for (const fencing of [false, true]) {
      it(`no faults, fencing ${fencing ? 'on' : 'off'}: one leader, elected once, never two at a time`, async () => {
        await fc.assert(
          fc.asyncProperty(fc.integer({ min: 0, max: 1_000_000 }), async (seed) => {
            const { ops, safety, timing } = await run(system, seed, fencing);
            // Once the run stops, the leader resigns and a waiting candidate may win: count only the run itself.
            const elected = ops.filter((op) => op.f === 'campaign' && op.type === 'ok' && op.timeMs < BASE.durationMs);
            assert.equal(elected.length, 1, `elected ${elected.length} times without any fault`);
            assert.equal(timing.leaderOverlapMs, 0);
            assert.equal(safety.verdict, 'safe', JSON.stringify(safety));
            assert.ok(elected[0]!.timeMs < 0.1 * BASE.durationMs, `the first leader took ${elected[0]!.timeMs}ms`);
            assert.ok(
              ops.filter((op) => op.f === 'write' && op.type === 'ok').length >= 50,
              'the leader did little work',
            );
          }),
          { numRuns: 4 },
        );
      });
    }

    it(`when the leader crashes, another leads within ${expected.failoverMs.join('..')}ms`, async () => {
      let crashedAt = -1;
      let crashed = '';
      const { ops } = await run(system, 5, false, (sim, world) =>
        world.afterAcquired(1, (client) => {
          sim.after(BASE.ttlMs, 'fault', () => {
            crashed = client;
            crashedAt = sim.nowMs;
            sim.crash(client);
          });
        }),
      );
      const next = ops.find(
        (op) => op.f === 'campaign' && op.type === 'ok' && op.timeMs > crashedAt && op.process !== crashed,
      );
      assert.ok(next !== undefined, 'nobody took over from the crashed leader');
      const waited = next.timeMs - crashedAt;
      assert.ok(waited >= expected.failoverMs[0] && waited <= expected.failoverMs[1], `took over after ${waited}ms`);
    });

    const pauseLeader = (sim: Sim, world: SimWorld) =>
      world.afterAcquired(1, (client) => {
        sim.pause(client);
        sim.after(2 * BASE.ttlMs, 'heal', () => sim.resume(client));
      });

    it(`a leader that pauses for 2 TTLs right after winning: unfenced ${expected.pauseBeyondTtl}`, async () => {
      const { safety, timing } = await run(system, 9, false, pauseLeader);
      // timing is measured over the run proper: the grace period after it has no faults.
      assert.equal(safety.verdict, expected.pauseBeyondTtl, JSON.stringify({ ...safety, ...timing }));
      if (expected.pauseBeyondTtl === 'unsafe')
        assert.ok(timing.leaderOverlapMs > 0, 'unsafe, yet no two leaders at once');
    });

    if (system.fencing === 'sound') {
      it('a leader that pauses for 2 TTLs right after winning: fenced safe', async () => {
        const { safety } = await run(system, 9, true, pauseLeader);
        assert.equal(safety.verdict, 'safe', JSON.stringify(safety));
      });
    }
  });
}
