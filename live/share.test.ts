/**
 * Which live runs may share the cluster with others (`lockstep live --parallel`): only those whose
 * faults touch their own clients and proxies, never a server, a server's clock or a server link.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadScenarios } from '../scenarios/loader.ts';
import { faultSchema } from '../scenarios/schema.ts';
import { touchesOnlyClients } from '../faults/live.ts';

const LIBRARY = fileURLToPath(new URL('../scenarios', import.meta.url));

describe('runs that may share a live cluster', () => {
  it('in the library: the client-side faults share; server crashes and clock jumps go alone', () => {
    const shared = loadScenarios([LIBRARY])
      .filter(({ scenario }) => touchesOnlyClients(scenario.faults, 5))
      .map(({ scenario }) => scenario.name)
      .sort();
    assert.deepEqual(shared, [
      'db-connection-cut',
      'delayed-packets',
      'etcd-short-lease-pauses',
      'gc-pause-beyond-ttl',
      'gc-pause-careful-client',
      'holder-crash-recovery',
      'jepsen-etcd-client-pauses',
      'leader-isolated',
      'no-faults',
      'partition-careful-client',
      'partition-careless-client',
      'partition-costs-one-lease',
      'pause-after-careful-check',
      'pause-during-acquisition',
      'zk-session-expiry',
    ]);
  });

  it('judges each kind of fault by what it touches', () => {
    const faults = (raw: object) => [faultSchema.parse(raw)];
    assert.equal(touchesOnlyClients(faults({ at: 1, pause: 'holder', forMs: 5 }), 3), true);
    assert.equal(touchesOnlyClients(faults({ at: 1, pause: 'leader', forMs: 5 }), 3), false);
    assert.equal(touchesOnlyClients(faults({ at: 1, crash: 'c2' }), 3), true);
    assert.equal(touchesOnlyClients(faults({ at: 1, crash: 'server-2' }), 3), false);
    assert.equal(touchesOnlyClients(faults({ at: 1, clock: 'c1', jumpMs: 100 }), 3), true);
    assert.equal(touchesOnlyClients(faults({ at: 1, clock: 'server-1', jumpMs: 100 }), 3), false);
    assert.equal(touchesOnlyClients(faults({ at: 1, partition: { groups: [['holder'], ['servers']] } }), 3), true);
    assert.equal(touchesOnlyClients(faults({ at: 1, partition: { isolate: 'leader' } }), 3), false);
    assert.equal(touchesOnlyClients(faults({ at: 1, partition: { halves: true } }), 3), false);
    assert.equal(touchesOnlyClients(faults({ at: 1, delay: 'server-1', delayMs: 50 }), 3), false);
    assert.equal(
      touchesOnlyClients(faults({ at: 1, delay: 'server-1', delayMs: 50 }), 1),
      true,
      'one server has no peer links',
    );
  });

  it("counts a system's Sentinels as server processes: a run that stops, crashes or cuts one off goes alone", () => {
    const faults = (raw: object) => [faultSchema.parse(raw)];
    assert.equal(touchesOnlyClients(faults({ at: 1, pause: 'sentinel-2', forMs: 5 }), 3), false);
    assert.equal(touchesOnlyClients(faults({ at: 1, crash: 'sentinels' }), 3), false);
    assert.equal(touchesOnlyClients(faults({ at: 1, partition: { isolate: 'sentinel-1' } }), 3), false);
    assert.equal(
      touchesOnlyClients(faults({ at: 1, partition: { groups: [['c1'], ['sentinels']] } }), 3),
      true,
      "a client's own proxies to the Sentinels",
    );
  });
});
