/**
 * RedLock's port is five Redis ports, one per node, so its contract is Redis's held on every node:
 * each Redis case runs on node 1, then node 2, and so on (in turn, since a case may sleep).
 */
import type { ConformanceCase } from '../conformance.ts';
import { redisConformance } from '../redis/conformance.ts';
import type { RedlockNodePort } from './port.ts';

export const redlockConformance: ConformanceCase<RedlockNodePort[]>[] = redisConformance.map((c) => ({
  name: `on every node: ${c.name}`,
  async run({ port, other, clock }) {
    for (const [i, node] of port.entries()) {
      const peer = other[i];
      if (peer === undefined) throw new Error(`redlock conformance: no second port for node ${i + 1}`);
      await c.run({ port: node, other: peer, clock });
    }
  },
}));
