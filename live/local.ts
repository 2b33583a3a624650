/**
 * The `local` provider: a private cluster of child processes on 127.0.0.1, each server with its
 * own ports, data directory and log, all in one temporary directory that goes with the cluster.
 * Only the systems asked for are started, all at once. Everything is torn down by stop(), and by
 * the process hooks on exit, error, SIGINT and SIGTERM; what an earlier harness killed with
 * SIGKILL left behind is removed before anything starts (./leftovers.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { SystemId } from '../backends/recipe.ts';
import type { Cluster, ClusterServer, PeerLinks, PrepareOptions, ServerControl } from './cluster.ts';
import { describeRemoved, removeLeftovers } from './leftovers.ts';
import { EnvironmentError, removeOnExit, settleAll, type ManagedServer } from './process.ts';
import { RedisServer } from './redis-server.ts';
import { Toxiproxy } from './toxiproxy.ts';

const REDIS_NODES = 5;

/** One system's servers in a local cluster, and what only that system knows how to do. */
export interface LocalSystem {
  readonly servers: readonly ClusterServer[];
  /** The system's Sentinels (redis-sentinel); absent for the others. */
  readonly sentinels?: readonly ClusterServer[];
  readonly managed: readonly ManagedServer[];
  readonly peers: PeerLinks | null;
  /** Why links between this system's servers cannot be cut here; null when they can or there are none. */
  readonly peersUnavailable: string | null;
  leader(): Promise<number | null | undefined>;
  jumpClock(index: number, deltaMs: number): Promise<string>;
  prepare(options: PrepareOptions): Promise<void>;
  /** Stop what only this system knows how to stop (directories of its own); its managed servers are stopped by the cluster. */
  close?(): Promise<void>;
}

/** Start the servers of one system in `dir`; the cluster passes its Toxiproxy for peer links. */
export type LocalSystemStarter = (dir: string, toxiproxy: Toxiproxy) => Promise<LocalSystem>;

export interface LocalOptions {
  readonly systems: readonly SystemId[];
  /** Starters by system, for systems other than redis and redlock. */
  readonly starters: Partial<Record<SystemId, LocalSystemStarter>>;
}

/** Continue the servers a previous run left paused, and start again those it left crashed. */
export async function revive(servers: readonly ManagedServer[]): Promise<void> {
  for (const server of servers) if (server.isPaused) server.resume();
  for (const server of servers) if (!server.isRunning) await server.start();
}

/** Control over a managed server, as the live world sees it. */
export function controlOf(server: ManagedServer, wipe?: () => void): ServerControl {
  return {
    get isRunning() {
      return server.isRunning;
    },
    get isPaused() {
      return server.isPaused;
    },
    get died() {
      return server.died;
    },
    pause: () => server.pause(),
    resume: () => server.resume(),
    kill: () => server.kill(),
    restart: async (persist) => {
      if (!persist) wipe?.();
      await server.start();
    },
  };
}

export async function startLocalCluster(options: LocalOptions): Promise<Cluster> {
  const removed = await removeLeftovers();
  // Said on stderr: a line of the command's own output would be out of place, and this is news.
  if (removed !== null) process.stderr.write(`lockstep: ${describeRemoved(removed)}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-cluster-'));
  const remove = removeOnExit(dir);
  const toxiproxy = await Toxiproxy.start(dir).catch((error: unknown) => {
    remove();
    throw error;
  });
  const bySystem = new Map<SystemId, LocalSystem>();
  const everything: ManagedServer[] = [];
  const stop = async () => {
    await Promise.all(everything.map((s) => s.stop()));
    await Promise.all([...bySystem.values()].map((s) => s.close?.() ?? Promise.resolve()));
    await toxiproxy.stop();
    remove();
  };
  try {
    const wanted = new Set(options.systems);
    const starts: Promise<void>[] = [];
    if (wanted.has('redis') || wanted.has('redlock')) {
      starts.push(
        startRedisNodes(dir, wanted.has('redlock') ? REDIS_NODES : 1).then((nodes) => {
          everything.push(...nodes.managed);
          if (wanted.has('redis'))
            bySystem.set('redis', { ...nodes, servers: nodes.servers.slice(0, 1), managed: nodes.managed.slice(0, 1) });
          if (wanted.has('redlock')) bySystem.set('redlock', nodes);
        }),
      );
    }
    for (const system of wanted) {
      if (system === 'redis' || system === 'redlock') continue;
      const starter = options.starters[system];
      if (starter === undefined) throw new EnvironmentError(`the local provider cannot start ${system} servers`);
      starts.push(
        starter(dir, toxiproxy).then((started) => {
          everything.push(...started.managed);
          bySystem.set(system, started);
        }),
      );
    }
    await settleAll(starts);
  } catch (error) {
    await stop();
    throw error;
  }
  const of = (system: SystemId): LocalSystem => {
    const started = bySystem.get(system);
    if (started === undefined) throw new EnvironmentError(`${system} was not started in this cluster`);
    return started;
  };
  return {
    provider: 'local',
    toxiproxy,
    proxyListenHost: '127.0.0.1',
    clientHost: '127.0.0.1',
    systems: [...bySystem.keys()],
    servers: (system) => of(system).servers,
    sentinels: (system) => of(system).sentinels ?? [],
    peers: (system) => of(system).peers,
    peersUnavailable: (system) => of(system).peersUnavailable,
    leader: (system) => of(system).leader(),
    jumpClock: (system, index, deltaMs) => of(system).jumpClock(index, deltaMs),
    prepare: (system, prepareOptions) => of(system).prepare(prepareOptions),
    deaths: () => everything.find((s) => s.died !== null)?.died ?? null,
    stop,
  };
}

/** Five Redis nodes (or one): independent servers, no traffic between them. */
async function startRedisNodes(dir: string, count: number): Promise<LocalSystem> {
  const nodes = await Promise.all(Array.from({ length: count }, (_, i) => RedisServer.create(`redis-${i + 1}`, dir)));
  try {
    await settleAll(nodes.map((n) => n.start()));
  } catch (error) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw error;
  }
  return {
    servers: nodes.map((node) => ({
      name: node.name,
      upstream: { host: '127.0.0.1', port: node.port },
      control: controlOf(node, () => node.wipe()),
    })),
    managed: nodes,
    peers: null,
    peersUnavailable: null,
    // A single Redis is its own leader; RedLock's nodes are independent.
    leader: () => Promise.resolve(count === 1 ? 1 : undefined),
    jumpClock: (index, deltaMs) => {
      const node = nodes[index - 1];
      return node === undefined
        ? Promise.reject(new Error(`live: redis has no server ${index}`))
        : expireEarly({ host: '127.0.0.1', port: node.port }, deltaMs);
    },
    prepare: async ({ persist }) => {
      for (const node of nodes) {
        if (node.persist === persist) continue;
        await node.kill();
        node.setPersist(persist);
      }
      await revive(nodes);
    },
  };
}

/** Shrink a key's remaining TTL by the jump, deleting it if that uses the TTL up; one atomic step per key. */
const EXPIRE_EARLY = `
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then return 0 end
local left = ttl - tonumber(ARGV[1])
if left <= 0 then redis.call('del', KEYS[1]) return 2 end
redis.call('pexpire', KEYS[1], left)
return 1`;

/**
 * A wall-clock jump forward on a Redis node, applied as its effect: Redis judges expiry by wall
 * time, so every key with a TTL loses the jump from it, and a key whose TTL runs out goes. (Faking
 * the server's clock itself is not possible: libfaketime crashes Debian's redis-server at start.)
 * A jump backward makes keys live longer by as much: the same arithmetic with a negative jump.
 */
export async function expireEarly(node: { host: string; port: number }, deltaMs: number): Promise<string> {
  const client = new Redis({ host: node.host, port: node.port, maxRetriesPerRequest: 1 });
  let shortened = 0;
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const outcome = (await client.eval(EXPIRE_EARLY, 1, key, String(deltaMs))) as number;
        if (outcome === 1) shortened++;
        if (outcome === 2) deleted++;
      }
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return `wall clock jumped ${deltaMs}ms, applied as its effect on expiry (SCAN, then PTTL and PEXPIRE or DEL per key, atomically): ${shortened} key(s) shortened, ${deleted} expired`;
}
