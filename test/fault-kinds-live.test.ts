/**
 * The registry's live checks (runner/faults/live.ts) against the live world's own (live/run.ts),
 * which they are to replace: over providers, systems, cluster abilities and faults of every kind,
 * both say whether a run can be performed and whether it may share the cluster, for the same
 * reason. liveWorldOf is the mapping the live world is to use.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SystemId } from '../backends/recipe.ts';
import type { Cluster } from '../live/cluster.ts';
import { touchesOnlyClients as liveTouchesOnlyClients, whyNotLive as liveWhyNotLive } from '../live/run.ts';
import type { LiveWorld } from '../runner/faults/kind.ts';
import { touchesOnlyClients, whyNotLive } from '../runner/faults/live.ts';
import { faultSchema, selectorsOf, type Fault } from '../scenarios/schema.ts';

const SERVERS: Partial<Record<SystemId, number>> = { redis: 1, redlock: 5, etcd: 3, postgres: 1 };

const FAULTS: Fault[] = [
  { at: 1, pause: 'holder', forMs: 5 },
  { at: 1, pause: 'leader', forMs: 5 },
  { at: 1, crash: 'server-1' },
  { at: 1, crash: 'c2', restartAfterMs: 3 },
  { at: 1, partition: { isolate: 'holder' } },
  { at: 1, partition: { isolate: 'leader' }, mode: 'hold' },
  { at: 1, partition: { isolate: 'server-2' } },
  { at: 1, partition: { halves: true } },
  { at: 1, partition: { groups: [['c1'], ['servers']] } },
  { at: 1, partition: { groups: [['c1', 'server-1'], ['server-2']] } },
  { at: 1, delay: 'holder', delayMs: 5 },
  { at: 1, delay: 'leader', delayMs: 5 },
  { at: 1, loss: 'c1', probability: 0.5 },
  { at: 1, loss: 'servers', probability: 0.5 },
  { at: 1, clock: 'c1', driftPpm: 100 },
  { at: 1, clock: 'server-1', driftPpm: 100 },
  { at: 1, clock: 'server-1', jumpMs: 100 },
  { at: 1, clock: 'one', jumpMs: -100 },
  { after: { event: 'acquired', client: 'c1' }, pause: 'majority', forMs: 5 },
].map((raw) => faultSchema.parse(raw));

type Peers = ReturnType<Cluster['peers']>;

function clusterOf(provider: Cluster['provider'], controlled: boolean, unavailable: string | null, peers: Peers, system: SystemId): Cluster {
  const server = { name: 's', upstream: { host: 'h', port: 1 }, control: controlled ? {} : null };
  const fake = { provider, servers: () => Array.from({ length: SERVERS[system]! }, () => server), peersUnavailable: () => unavailable, peers: () => peers };
  return fake as unknown as Cluster;
}

/** What a live cluster can do, as the fault kinds ask it. */
function liveWorldOf(cluster: Cluster, system: SystemId): LiveWorld {
  const servers = cluster.servers(system);
  const peers = cluster.peers(system);
  return {
    provider: cluster.provider,
    system,
    servers: servers.length,
    controlsServers: servers.every((s) => s.control !== null),
    appliesServerClockJump: cluster.provider === 'local' || (system !== 'redis' && system !== 'redlock'),
    knowsLeader: cluster.provider === 'local' || servers.length <= 1,
    peerLinks: { unavailable: cluster.peersUnavailable(system), canDelay: peers === null || peers.delay !== undefined, ...(peers === null ? {} : { mechanism: peers.mechanism }) },
  };
}

function* clusters(): Generator<[Cluster, SystemId]> {
  const noop = async () => {};
  const peerOptions: Peers[] = [null, { mechanism: 'iptables', cut: noop, heal: noop }, { mechanism: 'toxiproxy', cut: noop, heal: noop, delay: noop }];
  for (const system of Object.keys(SERVERS) as SystemId[])
    for (const provider of ['local', 'external'] as const)
      for (const controlled of [true, false])
        for (const unavailable of [null, 'its links are not reachable here'])
          for (const peers of peerOptions) yield [clusterOf(provider, controlled, unavailable, peers, system), system];
}

/** A partition or delay naming the leader, where two reasons hold: the two check them in another order. */
const bothReasonsHold = (fault: Fault) => (fault.partition !== undefined || fault.delay !== undefined) && selectorsOf(fault).includes('leader');

describe("the registry's live checks", () => {
  it('refuse what the live world refuses, for the same reason', () => {
    let compared = 0;
    for (const [cluster, system] of clusters()) {
      for (const fault of FAULTS) {
        const theirs = liveWhyNotLive([fault], system, null, false, cluster);
        const ours = whyNotLive([fault], liveWorldOf(cluster, system));
        if (theirs !== null && ours !== null && bothReasonsHold(fault)) continue;
        assert.equal(ours, theirs, `${cluster.provider} ${system} ${JSON.stringify(fault)}`);
        compared++;
      }
    }
    assert.ok(compared > 1000);
  });

  it('let the same runs share a cluster', () => {
    for (const servers of [1, 3, 5]) for (const fault of FAULTS) assert.equal(touchesOnlyClients([fault], servers), liveTouchesOnlyClients([fault], servers), `${servers} ${JSON.stringify(fault)}`);
  });
});
