/**
 * A paused database server runs nothing: a holder that crashes while the server is stopped leaves
 * a reset in the server's kernel, and the lock goes to the next client only once the server runs
 * again. (Before, the reset reached the session table through the OS layer and the lock was
 * handed over, and the grant sent, while the server was stopped.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scenarioSchema } from '../../../scenarios/schema.ts';
import { runScenario } from '../../../runner/run.ts';
import { isGrant } from '../../../runner/history.ts';

const PAUSE_MS = 5000;

const scenario = scenarioSchema.parse({
  name: 'paused-db-holder-crash',
  description: 'the server is paused; its lock holder crashes meanwhile',
  clients: 3,
  durationMs: 12_000,
  lock: { ttlMs: 2000, holdMs: 1500, thinkMs: 50 },
  faults: [
    // Just after the second grant the server stops; a second later its holder dies, mid-hold.
    { after: { event: 'acquired', nth: 2, waitMs: 10 }, pause: 'server-1', forMs: PAUSE_MS },
    { after: { event: 'acquired', nth: 2, waitMs: 1000 }, crash: 'holder' },
  ],
});

describe('a paused database server', () => {
  for (const system of ['postgres', 'mysql'] as const) {
    it(`${system}: grants nothing while it is stopped, and hands the crashed holder's lock over once resumed`, async () => {
      for (const seed of [1, 2, 3]) {
        const { history } = await runScenario({ scenario, system, fencing: false, seed });
        const pause = history.find((op) => op.f === 'fault-start' && op.detail === 'pause server-1');
        const crash = history.find((op) => op.f === 'fault-start' && op.detail?.startsWith('crash c') === true);
        assert.ok(pause !== undefined && crash !== undefined, `seed ${seed}: the server paused and a holder crashed`);
        const resumedAt = pause.timeMs + PAUSE_MS;
        assert.ok(crash.timeMs < resumedAt, `seed ${seed}: the holder crashed while the server was stopped`);
        const during = history.filter((op) => isGrant(op) && op.timeMs > pause.timeMs && op.timeMs < resumedAt);
        assert.deepEqual(during, [], `seed ${seed}: no grant while the server was stopped`);
        const after = history.find((op) => isGrant(op) && op.timeMs >= resumedAt);
        assert.ok(after !== undefined, `seed ${seed}: the lock was handed over after the resume`);
      }
    });
  }
});
