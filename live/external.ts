/**
 * The `external` provider: a cluster that already runs elsewhere, described by an endpoints file
 * (YAML or JSON). The harness creates its own Toxiproxy proxies on the Toxiproxy named there, so
 * network faults work as with the local provider; it does not own the server processes, so runs
 * that pause or crash a server are skipped, and so are partitions between servers.
 *
 *   toxiproxy: http://127.0.0.1:8474        # Toxiproxy's API
 *   proxyListenHost: 0.0.0.0                # where new proxies listen, on Toxiproxy's host
 *   clientHost: 127.0.0.1                   # where clients reach those proxies
 *   proxyPorts: { from: 21000, to: 21099 }  # optional: the ports proxies may use
 *   redis: [redis-1:6379, ...]              # one node for redis, five for redlock
 *   zookeeper: [zookeeper-1:2181, ...]      # the ensemble's client ports
 *   etcd: [etcd-1:2379, ...]
 *   postgres: postgres://postgres@postgres:5432/postgres
 *   mysql: mysql://root@mariadb:3306/lockstep
 *   redisSentinel:                          # a primary, two replicas and three Sentinels
 *     servers: [sentinel-redis-1:6379, ...] # server-1 (the primary at the start), server-2, server-3
 *     sentinels: [sentinel-1:26379, ...]
 *
 * Server addresses are as Toxiproxy sees them. For redis-sentinel they must also be the
 * addresses the Sentinels give for the data nodes (a client maps each to its own proxy), and
 * the Sentinels must run with lockstep's default settings (live/capabilities.ts skips the runs
 * that ask for others: this provider does not reconfigure servers it does not own).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { SystemId } from '../backends/recipe.ts';
import { UsageError } from '../runner/errors.ts';
import type { Cluster, ClusterServer } from './cluster.ts';
import { redactSecrets } from '../runner/redact.ts';
import { promiseOf } from './promise-of.ts';
import { addressOf } from './servers/database.ts';
import { portRange, Toxiproxy } from './toxiproxy.ts';

const hostPort = z.string().regex(/^[A-Za-z0-9_.-]+:\d{1,5}$/, 'expected host:port');
const dbUrl = (schemes: string[]) =>
  z.string().refine(
    (raw) => {
      try {
        return schemes.includes(new URL(raw).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    `expected a ${schemes.join(' or ')}:// URL`,
  );

export const ExternalConfig = z.strictObject({
  toxiproxy: z.url(),
  proxyListenHost: z.string().min(1).default('127.0.0.1'),
  clientHost: z.string().min(1).default('127.0.0.1'),
  proxyPorts: z
    .strictObject({ from: z.int().min(1).max(65535), to: z.int().min(1).max(65535) })
    .refine((r) => r.from <= r.to, 'from must be <= to')
    .optional(),
  redis: z.array(hostPort).min(1).max(5).optional(),
  zookeeper: z.array(hostPort).length(3).optional(),
  etcd: z.array(hostPort).length(3).optional(),
  postgres: dbUrl(['postgres', 'postgresql']).optional(),
  mysql: dbUrl(['mysql']).optional(),
  redisSentinel: z
    .strictObject({ servers: z.array(hostPort).length(3), sentinels: z.array(hostPort).length(3) })
    .optional(),
});
export type ExternalConfig = z.infer<typeof ExternalConfig>;

/** Read and check an endpoints file; a bad one is a UsageError naming the file and the field. */
export function loadExternalConfig(file: string): ExternalConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${file}: cannot read the endpoints file (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    // The parser may quote the line it stopped at, which can be a database URL with its password.
    throw new UsageError(
      `${file}: not YAML or JSON (${redactSecrets((error as Error).message.split('\n', 1)[0] ?? '')})`,
    );
  }
  const parsed = ExternalConfig.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue === undefined) throw new UsageError(`${file}: does not match the endpoints schema`);
    throw new UsageError(`${file}: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

function endpoint(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

/** The servers of each system, as the endpoints file lists them. */
export function externalServers(config: ExternalConfig, system: SystemId): ClusterServer[] | null {
  const listed = (addresses: string[] | undefined, prefix: string) =>
    addresses?.map((a, i) => ({ name: `${prefix}-${i + 1}`, upstream: endpoint(a), control: null })) ?? null;
  const database = (url: string | undefined, name: string) => {
    if (url === undefined) return null;
    return [{ name, upstream: addressOf(url, name === 'postgres' ? 5432 : 3306), url, control: null }];
  };
  switch (system) {
    case 'redis':
      return listed(config.redis, 'redis')?.slice(0, 1) ?? null;
    case 'redlock':
      return config.redis?.length === 5 ? listed(config.redis, 'redis') : null;
    case 'zookeeper':
      return listed(config.zookeeper, 'zookeeper');
    case 'etcd':
      return listed(config.etcd, 'etcd');
    case 'postgres':
      return database(config.postgres, 'postgres');
    case 'mysql':
      return database(config.mysql, 'mysql');
    case 'redis-sentinel':
      return listed(config.redisSentinel?.servers, 'sentinel-redis');
  }
}

/** The Sentinels of a system that has them, as the endpoints file lists them; empty for the others. */
export function externalSentinels(config: ExternalConfig, system: SystemId): ClusterServer[] {
  if (system !== 'redis-sentinel') return [];
  return (config.redisSentinel?.sentinels ?? []).map((a, i) => ({
    name: `sentinel-${i + 1}`,
    upstream: endpoint(a),
    control: null,
  }));
}

export async function openExternalCluster(
  file: string,
  systems: readonly SystemId[],
  provider: 'external' | 'compose' = 'external',
): Promise<Cluster> {
  return clusterFromConfig(loadExternalConfig(file), systems, provider, file);
}

export async function clusterFromConfig(
  config: ExternalConfig,
  systems: readonly SystemId[],
  provider: 'external' | 'compose',
  source: string,
): Promise<Cluster> {
  const servers = new Map<SystemId, ClusterServer[]>();
  for (const system of systems) {
    const listed = externalServers(config, system);
    if (listed === null)
      throw new UsageError(
        `${source}: no endpoints for ${system}${system === 'redlock' ? ' (redlock needs five redis addresses)' : ''}`,
      );
    servers.set(system, listed);
  }
  const toxiproxy = await Toxiproxy.connect(
    config.toxiproxy.replace(/\/$/, ''),
    config.proxyPorts === undefined ? undefined : portRange(config.proxyPorts.from, config.proxyPorts.to),
  );
  const notOwned = `the ${provider} provider cannot cut links between servers it does not run`;
  const serversOf = (system: SystemId): ClusterServer[] => {
    const listed = servers.get(system);
    if (listed === undefined) throw new Error(`live: the ${provider} cluster was not asked for ${system}`);
    return listed;
  };
  return {
    provider,
    toxiproxy,
    proxyListenHost: config.proxyListenHost,
    clientHost: config.clientHost,
    systems: [...servers.keys()],
    servers: serversOf,
    sentinels: (system) => externalSentinels(config, system),
    peers: () => null,
    peersUnavailable: (system) =>
      serversOf(system).length > 1 && system !== 'redlock' && system !== 'redis' ? notOwned : null,
    // A single server leads itself; the others' leader is not asked for.
    leader: (system) => promiseOf(() => (serversOf(system).length === 1 ? 1 : undefined)),
    jumpClock: (system) =>
      Promise.resolve(
        system === 'redis' || system === 'redlock' || system === 'redis-sentinel'
          ? `a wall-clock jump on an external Redis node was not applied (the ${provider} provider does not touch its data)`
          : clockNote(system),
      ),
    prepare: async () => {},
    deaths: () => null,
    stop: async () => {},
  };
}

/** What a wall-clock jump on a server of a system that does not time with wall clocks does: nothing. */
export function clockNote(system: SystemId): string {
  switch (system) {
    case 'etcd':
      return 'etcd times leases with a monotonic clock: a wall-clock jump changes nothing it times (not applied)';
    case 'zookeeper':
      return 'ZooKeeper times sessions with a monotonic clock: a wall-clock jump changes nothing it times (not applied)';
    default:
      return `${system} times connections with the kernel's monotonic clock: a wall-clock jump changes nothing it times (not applied)`;
  }
}
