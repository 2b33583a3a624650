/**
 * Which live runs a cluster can perform, decided by the fault kinds from what the cluster can do
 * (capabilities.ts): each refusal with its reason, and the runs every cluster can perform.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SystemId } from '../backends/recipe.ts';
import { faultSchema } from '../scenarios/schema.ts';
import { whyNotLive } from './capabilities.ts';
import type { Cluster } from './cluster.ts';

const SERVERS: Partial<Record<SystemId, number>> = { redis: 1, redlock: 5, etcd: 3, postgres: 1 };

type Peers = ReturnType<Cluster['peers']>;
const noop = async () => {};
const NETNS: Peers = { mechanism: 'network namespaces', cut: noop, heal: noop };

/** A cluster that answers only what the checks ask: its provider, its servers, its peer links. */
function cluster(
  system: SystemId,
  options: { provider?: Cluster['provider']; controlled?: boolean; unavailable?: string | null; peers?: Peers } = {},
): Cluster {
  const server = { name: 's', upstream: { host: 'h', port: 1 }, control: options.controlled === false ? null : {} };
  const fake = {
    provider: options.provider ?? 'local',
    servers: () => Array.from({ length: SERVERS[system] ?? 1 }, () => server),
    peersUnavailable: () => options.unavailable ?? null,
    peers: () => options.peers ?? null,
  };
  return fake as unknown as Cluster;
}

const why = (raw: object, system: SystemId, on: Cluster, subject: string | null = null, fencing = false) =>
  whyNotLive([faultSchema.parse(raw)], system, subject, fencing, on);

describe('what a live cluster can perform', () => {
  it('refuses to pause or crash a server whose process it does not own', () => {
    const external = cluster('redis', { provider: 'external', controlled: false });
    assert.equal(
      why({ at: 1, pause: 'server-1', forMs: 5 }, 'redis', external),
      "the external provider does not control its servers' processes, so it cannot pause one",
    );
    assert.equal(
      why({ at: 1, crash: 'servers' }, 'redis', external),
      "the external provider does not control its servers' processes, so it cannot crash one",
    );
    assert.equal(why({ at: 1, pause: 'holder', forMs: 5 }, 'redis', external), null, 'a client it owns');
  });

  it('refuses a server clock that drifts, and a Redis clock jump where the data is not its own', () => {
    assert.equal(
      why({ at: 1, clock: 'server-1', driftPpm: 100 }, 'etcd', cluster('etcd')),
      'a real server clock cannot be made to drift (only a client clock can, or a server clock can jump)',
    );
    assert.equal(
      why({ at: 1, clock: 'one', jumpMs: 100 }, 'redlock', cluster('redlock', { provider: 'external' })),
      'the external provider does not apply a clock jump to Redis data it does not own',
    );
    assert.equal(
      why({ at: 1, clock: 'one', jumpMs: 100 }, 'etcd', cluster('etcd', { provider: 'external' })),
      null,
      'etcd times nothing by the wall clock',
    );
    assert.equal(
      why({ at: 1, clock: 'c1', driftPpm: 100 }, 'redis', cluster('redis')),
      null,
      "a client's clock can drift",
    );
  });

  it('refuses the leader selector where the provider cannot ask who leads', () => {
    assert.equal(
      why({ at: 1, pause: 'leader', forMs: 5 }, 'etcd', cluster('etcd', { provider: 'external' })),
      'the external provider does not ask the cluster which server leads',
    );
    assert.equal(why({ at: 1, pause: 'leader', forMs: 5 }, 'etcd', cluster('etcd')), null);
  });

  it('refuses to cut or slow links between servers where it cannot, and not links to clients', () => {
    const unreachable = cluster('etcd', { unavailable: 'links between etcd servers need root here' });
    assert.equal(
      why({ at: 1, partition: { halves: true } }, 'etcd', unreachable),
      'links between etcd servers need root here',
    );
    assert.equal(
      why({ at: 1, partition: { groups: [['c1', 'server-1'], ['server-2']] } }, 'etcd', unreachable),
      'links between etcd servers need root here',
    );
    assert.equal(why({ at: 1, partition: { isolate: 'holder' } }, 'etcd', unreachable), null);
    assert.equal(
      why({ at: 1, delay: 'leader', delayMs: 5 }, 'etcd', cluster('etcd', { peers: NETNS })),
      'links between etcd servers can be cut here (network namespaces) but not slowed down',
    );
    assert.equal(why({ at: 1, partition: { isolate: 'server-2' } }, 'etcd', cluster('etcd', { peers: NETNS })), null);
    assert.equal(
      why({ at: 1, delay: 'server-1', delayMs: 5 }, 'redis', cluster('redis', { unavailable: 'no peers' })),
      null,
      'one server has no peer links',
    );
  });

  it('skips the fenced runs of a library that offers no token', () => {
    assert.equal(
      why({ at: 1, pause: 'holder', forMs: 5 }, 'redlock', cluster('redlock'), 'node-redlock', true),
      'node-redlock offers no fencing token',
    );
    assert.equal(why({ at: 1, pause: 'holder', forMs: 5 }, 'redlock', cluster('redlock'), 'node-redlock', false), null);
  });
});
