/**
 * Which live runs a cluster can perform, decided by the fault kinds from what the cluster can do
 * (capabilities.ts): each refusal with its reason, and the runs every cluster can perform.
 */
import type { SubjectDefinition } from '../subjects/define.ts';
import { loadSubject } from '../subjects/index.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SystemId } from '../backends/recipe.ts';
import { SENTINEL_DEFAULTS, type SentinelOptions } from '../backends/system.ts';
import { faultSchema } from '../scenarios/schema.ts';
import { whyNotLive } from './capabilities.ts';
import type { Cluster } from './cluster.ts';

const SERVERS: Partial<Record<SystemId, number>> = {
  redis: 1,
  redlock: 5,
  etcd: 3,
  zookeeper: 3,
  postgres: 1,
  'redis-sentinel': 3,
};
const SENTINELS: Partial<Record<SystemId, number>> = { 'redis-sentinel': 3 };

type Peers = ReturnType<Cluster['peers']>;
const noop = async () => {};
const NETNS: Peers = { mechanism: 'network namespaces', cut: noop, heal: noop };

/** A cluster that answers only what the checks ask: its provider, its servers and Sentinels, its peer links. */
function cluster(
  system: SystemId,
  options: {
    provider?: Cluster['provider'];
    controlled?: boolean;
    sentinelsControlled?: boolean;
    unavailable?: string | null;
    peers?: Peers;
  } = {},
): Cluster {
  const server = { name: 's', upstream: { host: 'h', port: 1 }, control: options.controlled === false ? null : {} };
  const sentinel = { ...server, control: options.sentinelsControlled === false ? null : server.control };
  const fake = {
    provider: options.provider ?? 'local',
    servers: () => Array.from({ length: SERVERS[system] ?? 1 }, () => server),
    sentinels: () => Array.from({ length: SENTINELS[system] ?? 0 }, () => sentinel),
    peersUnavailable: () => options.unavailable ?? null,
    peers: () => options.peers ?? null,
  };
  return fake as unknown as Cluster;
}

const why = (
  raw: object,
  system: SystemId,
  on: Cluster,
  subject: SubjectDefinition | null = null,
  fencing = false,
  sentinel?: SentinelOptions,
) => whyNotLive([faultSchema.parse(raw)], system, subject, fencing, on, sentinel);

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

  it('skips the fenced runs of a library that offers no token', async () => {
    const nodeRedlock = await loadSubject('node-redlock');
    assert.equal(
      why({ at: 1, pause: 'holder', forMs: 5 }, 'redlock', cluster('redlock'), nodeRedlock, true),
      'subject node-redlock gives no fencing token',
    );
    assert.equal(why({ at: 1, pause: 'holder', forMs: 5 }, 'redlock', cluster('redlock'), nodeRedlock, false), null);
  });

  it('redis-sentinel: a Sentinel is a server process, its clock cannot be stepped, and foreign settings are not imposed', () => {
    const external = cluster('redis-sentinel', { provider: 'external', controlled: false });
    assert.equal(
      why({ at: 1, pause: 'sentinel-2', forMs: 5 }, 'redis-sentinel', external),
      "the external provider does not control its servers' processes, so it cannot pause one",
    );
    assert.equal(
      why(
        { at: 1, crash: 'sentinels' },
        'redis-sentinel',
        cluster('redis-sentinel', { provider: 'external', sentinelsControlled: false }),
      ),
      "the external provider does not control its servers' processes, so it cannot crash one",
      'data nodes it could control are not enough',
    );
    assert.equal(
      why({ at: 1, crash: 'sentinel-1', restartAfterMs: 5 }, 'redis-sentinel', cluster('redis-sentinel')),
      null,
    );
    assert.match(
      why({ at: 1, clock: 'sentinel-1', jumpMs: 100 }, 'redis-sentinel', cluster('redis-sentinel')) ?? '',
      /a Sentinel's clock cannot be stepped live/,
    );
    assert.equal(why({ at: 1, clock: 'server-2', jumpMs: 100 }, 'redis-sentinel', cluster('redis-sentinel')), null);
    assert.equal(
      why(
        { at: 1, clock: 'server-2', jumpMs: 100 },
        'redis-sentinel',
        cluster('redis-sentinel', { provider: 'external' }),
      ),
      'the external provider does not apply a clock jump to Redis data it does not own',
    );
    const sentinels = cluster('redis-sentinel', { peers: NETNS });
    for (const [system, on] of [
      ['redis-sentinel', sentinels],
      ['etcd', cluster('etcd', { peers: NETNS })],
      ['zookeeper', cluster('zookeeper', { peers: NETNS })],
    ] as const)
      assert.equal(
        why(
          { at: 1, loss: system === 'redis-sentinel' ? 'sentinel-3' : 'server-2', probability: 0.5, forMs: 5 },
          system,
          on,
        ),
        `links between ${system} servers can be cut here (network namespaces) but cannot lose a share of their packets`,
      );
    assert.equal(
      why({ at: 1, loss: 'c1', probability: 0.5, forMs: 5 }, 'redis-sentinel', sentinels),
      null,
      "a client's own links are proxies",
    );
    // RedLock's nodes have no links between them: a loss on a node is a loss on its clients' proxies.
    assert.equal(why({ at: 1, loss: 'server-2', probability: 0.5, forMs: 5 }, 'redlock', cluster('redlock')), null);
    const guarded = { ...SENTINEL_DEFAULTS, minReplicasToWrite: 1 };
    assert.equal(
      why({ at: 1, pause: 'c1', forMs: 5 }, 'redis-sentinel', cluster('redis-sentinel'), null, false, guarded),
      null,
    );
    assert.match(
      why(
        { at: 1, pause: 'c1', forMs: 5 },
        'redis-sentinel',
        cluster('redis-sentinel', { provider: 'compose' }),
        null,
        false,
        guarded,
      ) ?? '',
      /the compose provider does not reconfigure servers it does not own/,
    );
    assert.equal(
      why(
        { at: 1, pause: 'c1', forMs: 5 },
        'redis-sentinel',
        cluster('redis-sentinel', { provider: 'compose' }),
        null,
        false,
        { ...SENTINEL_DEFAULTS, waitReplicas: 1 },
      ),
      null,
      "WAIT is the client's: any provider runs it",
    );
  });

  it('redis-sentinel: a partition between Sentinels and data nodes needs peer links, one between a client and the Sentinels does not', () => {
    const loopback = cluster('redis-sentinel', { unavailable: 'they share loopback here' });
    assert.equal(
      why({ at: 1, partition: { groups: [['server-1'], ['sentinels']] } }, 'redis-sentinel', loopback),
      'they share loopback here',
    );
    assert.equal(
      why({ at: 1, partition: { isolate: 'sentinel-1' } }, 'redis-sentinel', loopback),
      'they share loopback here',
    );
    assert.equal(why({ at: 1, partition: { groups: [['c1'], ['sentinels']] } }, 'redis-sentinel', loopback), null);
  });
});
