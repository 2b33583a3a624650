/**
 * The ioredis conformance cases (ioredis-conformance.ts) in the simulator: SimIoredis on a client
 * node, over the simulated network, to the simulated Redis on a server node, held to the replies
 * and errors real Redis 7.0 gives (live/ioredis-conformance.live.test.ts checks those on a real
 * redis-server). Each case runs in a Sim of its own.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redisServer } from '../backends/redis/server.ts';
import { Sim } from '../sim/sim.ts';
import { installAmbient, realSetImmediate } from './ambient.ts';
import { IOREDIS_CASES, namespace, runCase, type CaseWorld, type ConformanceCase } from './ioredis-conformance.ts';
import { SimIoredis } from './sim-ioredis.ts';
import { ambientOf, simGate } from './sim.ts';

/** Longer than any case takes on the virtual clock (its one wait is 200 ms): a hung case fails. */
const RUN_LIMIT_MS = 60_000;

/** Run `testCase` on a client node of a fresh Sim; throws what the case threw, or why it never ended. */
async function runInSim(testCase: ConformanceCase, caseIndex: number): Promise<void> {
  // The libraries' own functions in the cases run as a subject's code does: on the node's time.
  installAmbient();
  const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 3 } }, yieldMacrotask: realSetImmediate });
  sim.addNode('redis-1', (host) => redisServer(host));
  let outcome: { ok: true } | { ok: false; error: unknown } | undefined;
  sim.addNode('c1', (host) =>
    host.spawn('conformance', async () => {
      const ambient = ambientOf(host, sim.kernel);
      const client = new SimIoredis(ambient, { server: 'redis-1', commandTimeoutMs: 1000, port: 6379 });
      // The node's wall clock, and its timers, which wake the case as a reply does (uncounted code).
      const world: CaseWorld = {
        nowMs: () => Math.floor(host.clock.now()),
        sleep: (ms) =>
          new Promise((resolve) =>
            host.timer(ms, 'conformance-sleep', () => {
              ambient.wake();
              resolve();
            }),
          ),
      };
      try {
        await simGate(ambient).async(() => runCase(client, testCase, namespace('sim', caseIndex), world));
        outcome = { ok: true };
      } catch (error) {
        outcome = { ok: false, error };
      }
    }),
  );
  await sim.run({ untilMs: RUN_LIMIT_MS });
  assert.ok(outcome !== undefined, `the case did not finish within ${RUN_LIMIT_MS} ms of simulated time`);
  if (!outcome.ok) throw outcome.error;
}

describe('SimIoredis and the simulated Redis answer the conformance cases as ioredis and Redis 7.0 do', () => {
  IOREDIS_CASES.forEach((testCase, i) => {
    it(testCase.name, () => runInSim(testCase, i));
  });
});
