/**
 * How the local provider starts each system's servers (Redis and RedLock nodes are its own): a
 * ZooKeeper ensemble whose peer links each go through a Toxiproxy proxy, an etcd cluster, one
 * PostgreSQL and one MariaDB (or, given a URL, an existing database that is only used).
 */
import type { SystemId } from '../backends/recipe.ts';
import { clockNote } from './external.ts';
import { controlOf, expireEarly, revive, type LocalSystem, type LocalSystemStarter } from './local.ts';
import { etcdLeader, startEtcdCluster } from './servers/etcd.ts';
import { mysqlTarget } from './servers/mariadb.ts';
import { postgresTarget } from './servers/postgres.ts';
import { SentinelCluster } from './servers/redis-sentinel.ts';
import { startZooKeeperEnsemble } from './servers/zookeeper.ts';
import type { ManagedServer } from './process.ts';
import { promiseOf } from './promise-of.ts';

export interface StarterOptions {
  /** Use this PostgreSQL instead of starting one. */
  readonly postgresUrl?: string;
  /** Use this MySQL or MariaDB instead of starting one. */
  readonly mysqlUrl?: string;
  /** The lease length the runs use: etcd's Raft timing follows it, as the simulator's does. */
  readonly ttlMs?: number;
}

/**
 * etcd: three members. Run as root, each member gets a network namespace of its own, so that a
 * link between two members can be cut (a blackhole route in the sender's namespace); otherwise
 * they share loopback and such partitions are skipped.
 */
async function etcdSystem(dir: string, ttlMs: number | undefined): Promise<LocalSystem> {
  const namespaces = process.getuid?.() === 0;
  const cluster = await startEtcdCluster(`${dir}/etcd`, { ttlMs, namespaces });
  const network = cluster.network;
  return {
    servers: cluster.members.map((m) => ({
      name: m.name,
      upstream: { host: m.host, port: m.clientPort },
      control: controlOf(m),
    })),
    managed: cluster.members,
    peers:
      network === null
        ? null
        : {
            mechanism:
              "each etcd member in its own network namespace; a cut link is a blackhole route to the peer in the sender's namespace (a hold partition is applied as a drop)",
            cut: (from, to) => promiseOf(() => network.cut(from - 1, to - 1)),
            heal: (from, to) => promiseOf(() => network.heal(from - 1, to - 1)),
          },
    peersUnavailable:
      network === null
        ? 'etcd members share loopback here (network namespaces need root), so links between them cannot be cut'
        : null,
    leader: async () => {
      const leader = await etcdLeader(cluster.members);
      return leader === null ? null : cluster.members.indexOf(leader) + 1;
    },
    jumpClock: () => Promise.resolve(clockNote('etcd')),
    prepare: async () => {
      await revive(cluster.members);
      network?.healAll();
      await cluster.untilReady(20_000);
    },
    close: () => cluster.stop(),
  };
}

/** One database server, private or given: no peers, it leads itself, a wall-clock jump changes nothing it times. */
function database(
  system: 'postgres' | 'mysql',
  target: { url: string; host: string; port: number; server: ManagedServer | null; close(): Promise<void> },
): LocalSystem {
  const server = target.server;
  return {
    peersUnavailable: null,
    servers: [
      {
        name: system,
        upstream: { host: target.host, port: target.port, url: target.url },
        url: target.url,
        control: server === null ? null : controlOf(server),
      },
    ],
    managed: server === null ? [] : [server],
    peers: null,
    leader: () => Promise.resolve(1),
    jumpClock: () => Promise.resolve(clockNote(system)),
    prepare: async () => {
      if (server !== null) await revive([server]);
    },
    close: () => target.close(),
  };
}

/**
 * ZooKeeper: a three-server ensemble. Run as root, each server gets a network namespace of its
 * own, so that a link between two servers can be cut (per-link proxies cannot: ZooKeeper 3.8's
 * election connections dial back to the caller's own address, past any proxy); otherwise they
 * share loopback and such partitions are skipped.
 */
async function zookeeperSystem(dir: string): Promise<LocalSystem> {
  const namespaces = process.getuid?.() === 0;
  const ensemble = await startZooKeeperEnsemble(`${dir}/zookeeper`, { namespaces });
  const network = ensemble.network;
  return {
    servers: ensemble.servers.map((s, i) => ({
      name: s.name,
      upstream: { host: ensemble.host(i), port: s.clientPort },
      control: controlOf(s),
    })),
    managed: ensemble.servers,
    peers:
      network === null
        ? null
        : {
            mechanism:
              "each ZooKeeper server in its own network namespace; a cut link is a blackhole route to the peer in the sender's namespace (a hold partition is applied as a drop)",
            cut: (from, to) => promiseOf(() => network.cut(from - 1, to - 1)),
            heal: (from, to) => promiseOf(() => network.heal(from - 1, to - 1)),
          },
    peersUnavailable:
      network === null
        ? 'ZooKeeper servers share loopback here (network namespaces need root), where election connections bypass per-link proxies, so links between them cannot be cut'
        : null,
    leader: async () => {
      const leader = await ensemble.leaderIndex();
      return leader === null ? null : leader + 1;
    },
    jumpClock: () => Promise.resolve(clockNote('zookeeper')),
    prepare: async () => {
      await revive(ensemble.servers);
      network?.healAll();
      await ensemble.waitForLeader();
    },
    close: () => ensemble.stop(),
  };
}

/**
 * redis-sentinel: three data nodes and three Sentinels. Run as root, each in a network namespace
 * of its own, so that a link between any two of them (replication, Sentinel's pings and hellos)
 * can be cut; otherwise they share loopback and such partitions are skipped. Peer links are
 * numbered server-1..3 as 1..3 and sentinel-1..3 as 4..6.
 */
async function redisSentinelSystem(dir: string): Promise<LocalSystem> {
  const namespaces = process.getuid?.() === 0;
  const cluster = await SentinelCluster.start(`${dir}/redis-sentinel`, { namespaces });
  const network = cluster.network;
  const server = (node: (typeof cluster.instances)[number], wipe?: () => void) => ({
    name: node.name,
    upstream: { host: node.host, port: node.port },
    control: controlOf(node, wipe),
  });
  return {
    servers: cluster.data.map((node) => server(node, () => node.wipe())),
    sentinels: cluster.sentinels.map((sentinel) => server(sentinel)),
    managed: cluster.instances,
    peers:
      network === null
        ? null
        : {
            mechanism:
              "each Redis data node and Sentinel in its own network namespace; a cut link is a blackhole route to the peer in the sender's namespace (a hold partition is applied as a drop)",
            cut: (from, to) => promiseOf(() => network.cut(from - 1, to - 1)),
            heal: (from, to) => promiseOf(() => network.heal(from - 1, to - 1)),
          },
    peersUnavailable:
      network === null
        ? 'the Redis data nodes and Sentinels share loopback here (network namespaces need root), so links between them cannot be cut'
        : null,
    leader: () => cluster.leader(),
    jumpClock: async (index, deltaMs) => {
      const node = cluster.data[index - 1];
      if (node === undefined) throw new Error(`live: redis-sentinel has no server ${index}`);
      // A replica refuses writes, and the jump is applied as writes (PEXPIRE, DEL): for that
      // moment it takes them, and what it changed stays on it alone, as its own clock's view would.
      const replica = (await cluster.roleOf(index)) === 'slave';
      if (replica) await cluster.ask(node, 'config', 'set', 'replica-read-only', 'no');
      try {
        const note = await expireEarly(node, deltaMs);
        return replica ? `${note} (on a replica, made writable for it)` : note;
      } finally {
        if (replica) await cluster.ask(node, 'config', 'set', 'replica-read-only', 'yes');
      }
    },
    prepare: (options) => cluster.prepare(options),
    close: () => cluster.stop(),
  };
}

export function LOCAL_STARTERS(options: StarterOptions): Partial<Record<SystemId, LocalSystemStarter>> {
  return {
    zookeeper: async (dir) => zookeeperSystem(dir),
    etcd: async (dir) => etcdSystem(dir, options.ttlMs),
    'redis-sentinel': async (dir) => redisSentinelSystem(dir),
    postgres: async () => database('postgres', await postgresTarget('postgres', options.postgresUrl)),
    mysql: async () => database('mysql', await mysqlTarget('mariadb', options.mysqlUrl)),
  };
}
