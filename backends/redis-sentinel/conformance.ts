/**
 * What every SentinelPort must do, sim or live: everything a single-Redis port does, on whichever
 * node Sentinel names the primary, and WAIT. Keys are unique per case so live runs can share a
 * cluster.
 */
import assert from 'node:assert/strict';
import type { ConformanceCase } from '../conformance.ts';
import { redisConformance } from '../redis/conformance.ts';
import type { SentinelPort } from './port.ts';

export const sentinelConformance: ConformanceCase<SentinelPort>[] = [
  ...redisConformance.map((c) => ({
    name: `on the primary: ${c.name}`,
    run: (context: Parameters<ConformanceCase<SentinelPort>['run']>[0]) => c.run(context),
  })),
  {
    name: 'WAIT counts the replicas that have this connection’s writes',
    async run({ port }) {
      assert.equal(await port.setNxPx('s1:k', 'a', 10_000), true);
      assert.equal(await port.waitReplicas(2, 2000), 2);
    },
  },
  {
    name: 'WAIT for more replicas than there are answers after its timeout with how many it counted',
    async run({ port, clock }) {
      assert.equal(await port.incr('s2:n'), 1);
      const startedMs = clock.monotonic();
      assert.equal(await port.waitReplicas(3, 300), 2);
      assert.ok(clock.monotonic() - startedMs >= 290, `WAIT returned after ${clock.monotonic() - startedMs} ms`);
    },
  },
];
