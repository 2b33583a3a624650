import type { Host } from '../../sim/node.ts';
import type { SystemConfig, SystemModule } from '../system.ts';
import { recipeOptions, requestTimeoutMs } from '../timing.ts';
import { highestLeader } from '../shared/quorum/leader.ts';
import { EtcdElection } from './election.ts';
import { EtcdLock, type EtcdLockOptions } from './lock.ts';
import type { EtcdPort } from './port.ts';
import { etcdServer, raftOf, type EtcdServerOptions } from './server.ts';
import { SimEtcdPort } from './sim-port.ts';

/**
 * Cluster timing, derived from the lease TTL. etcd's defaults are a 100 ms heartbeat and a 1000 ms
 * election timeout (randomized up to twice that), with leases of seconds, and etcd raises any TTL
 * below 1.5 election timeouts. We keep the 1:10 heartbeat-to-election ratio and shrink both when
 * the TTL is short, so the TTL stays at least four base election timeouts (two of the longest):
 * an election then costs a session nothing, as in a well-configured etcd. The heartbeat never
 * drops below 1 ms, so a tiny TTL is raised by the server instead of flooding the run with
 * heartbeats. The lessor checks for expired leases every heartbeat (etcd: every 500 ms, also a
 * small fraction of its TTLs).
 */
export function etcdServerOptions(ttlMs: number): EtcdServerOptions {
  const heartbeatMs = Math.max(1, Math.min(100, ttlMs / 40));
  const electionMs = 10 * heartbeatMs;
  return {
    heartbeatMs,
    electionTimeoutMs: [electionMs, 2 * electionMs],
    forwardTimeoutMs: electionMs / 2,
    checkIntervalMs: heartbeatMs,
    promoteExtendMs: electionMs,
    minTtlMs: 1.5 * electionMs,
  };
}

/**
 * Requests time out well inside the TTL and after a forwarded request would have been given up by
 * the member, so a client moves off a dead member with time left to keep its lease alive.
 */
export function etcdRequestTimeoutMs(ttlMs: number): number {
  return requestTimeoutMs(ttlMs);
}

/** The lock and election options a run's settings imply; the lease TTL is the run's ttlMs. */
export function etcdLockOptions(config: SystemConfig): EtcdLockOptions {
  return { ...recipeOptions(config), watchSliceMs: config.ttlMs / 3, checkOwnKey: config.etcdMutex !== '3.4.3' };
}

export const etcd: SystemModule<EtcdPort> = {
  id: 'etcd',
  fencing: 'sound',
  mechanism:
    'lease + create-if-absent under a prefix, wait for lower create revisions (clientv3 Mutex); create-revision token',
  serverCount: () => 3,
  bootServer: (host: Host, _index, servers, config) => etcdServer(host, servers, etcdServerOptions(config.ttlMs)),
  simPorts: (host, servers, config) => new SimEtcdPort(host, servers, etcdRequestTimeoutMs(config.ttlMs)),
  lock: (runtime, port, config) => new EtcdLock(runtime, port, etcdLockOptions(config)),
  election: (runtime, port, config) => new EtcdElection(runtime, port, etcdLockOptions(config)),
  leader: (servers, hostOf) => highestLeader(servers, hostOf, raftOf),
};
