/**
 * Port conformance: one list of cases per port, each an ordinary async function of a port and a
 * clock. The simulator runs them against the sim port here; the live tier runs the same list
 * against the real client library, so both implementations are held to one contract.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Clock } from '../sim/clock.ts';
import { Sim } from '../sim/sim.ts';
import { sentinelIds, serverIds, type SystemConfig, type SystemModule } from './system.ts';

export interface ConformanceContext<P> {
  /** The port of the client running the case. */
  readonly port: P;
  /** A second client's port, for cases about two clients. */
  readonly other: P;
  readonly clock: Clock;
}

export interface ConformanceCase<P> {
  readonly name: string;
  run(context: ConformanceContext<P>): Promise<void>;
}

const CASE_LIMIT_MS = 120_000;

export const CONFORMANCE_CONFIG: SystemConfig = {
  ttlMs: 1000,
  fencing: true,
  acquireTimeoutMs: 4000,
  name: 'conformance',
};

/** Register one node:test case per conformance case, each run in a fresh simulation. */
export function runConformanceInSim<P>(
  system: SystemModule<P>,
  cases: readonly ConformanceCase<P>[],
  config: SystemConfig = CONFORMANCE_CONFIG,
): void {
  for (const c of cases) {
    it(`${system.id} sim port: ${c.name}`, async () => {
      const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 3 } } });
      const servers = serverIds(system.serverCount(config));
      servers.forEach((id, i) => sim.addNode(id, (host) => system.bootServer(host, i + 1, servers, config)));
      const sentinels = sentinelIds(system.sentinels?.count(config) ?? 0);
      sentinels.forEach((id, i) =>
        sim.addNode(id, (host) => system.sentinels?.boot(host, i + 1, servers, sentinels, config)),
      );
      const other = sim.addNode('other');
      let finished = false;
      sim.addNode('client', (host) =>
        host.spawn('conformance', async () => {
          await c.run({
            port: system.simPorts(host, servers, config),
            other: system.simPorts(other, servers, config),
            clock: host.clock,
          });
          finished = true;
        }),
      );
      await sim.run({ untilMs: CASE_LIMIT_MS });
      assert.ok(finished, `the case did not finish within ${CASE_LIMIT_MS}ms of simulated time`);
    });
  }
}

/**
 * Register one node:test case per conformance case against ports outside the simulator (a live
 * server, or a mock for offline tests). `context` builds fresh ports for each case (and should
 * start it from an empty server); `close` releases them.
 */
export function runConformanceOutside<P>(
  label: string,
  cases: readonly ConformanceCase<P>[],
  context: () => Promise<ConformanceContext<P> & { close(): Promise<void> }>,
): void {
  for (const c of cases) {
    it(`${label}: ${c.name}`, async () => {
      const ctx = await context();
      try {
        await c.run(ctx);
      } finally {
        await ctx.close();
      }
    });
  }
}
