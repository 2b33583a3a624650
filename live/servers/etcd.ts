/**
 * A private etcd cluster for the live harness: three members on 127.0.0.1, each with its own
 * client and peer port, data directory and log, started together as one new cluster.
 *
 * Raft timing follows the simulator's model (etcdServerOptions of the run's TTL) when a TTL is
 * given, else etcd's defaults (100 ms heartbeat, 1000 ms election timeout). A member restarted
 * with the same data directory rejoins as itself: etcd then ignores the initial-cluster flags.
 *
 * With `namespaces: true` each member runs in a network namespace of its own (./netns.ts), on an
 * address of a private bridge instead of 127.0.0.1, so that links between members can be cut.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { etcdServerOptions } from '../../backends/etcd/index.ts';
import { EnvironmentError, freePort, keepLog, ManagedServer, portOpen, settleAll, sleep, wrapped } from '../process.ts';
import { MemberNetwork } from './netns.ts';

export const ETCD_BINARY = process.env.ETCD_BINARY ?? 'etcd';

/** etcd's own defaults. */
const DEFAULT_HEARTBEAT_MS = 100;
const DEFAULT_ELECTION_MS = 1000;
/**
 * The model lets the heartbeat shrink to 1 ms; real members sharing a small machine miss
 * heartbeats that short to scheduling noise alone and hold elections for nothing.
 */
const MIN_HEARTBEAT_MS = 10;
const PROBE_TIMEOUT_MS = 500;

export interface EtcdTiming {
  readonly heartbeatMs: number;
  readonly electionMs: number;
}

/** The heartbeat and election timeout for a run whose lease TTL is `ttlMs` (etcd's defaults without one). */
export function etcdTiming(ttlMs?: number): EtcdTiming {
  if (ttlMs === undefined) return { heartbeatMs: DEFAULT_HEARTBEAT_MS, electionMs: DEFAULT_ELECTION_MS };
  const model = etcdServerOptions(ttlMs);
  const heartbeatMs = Math.max(MIN_HEARTBEAT_MS, Math.round(model.heartbeatMs));
  const electionMs = Math.max(Math.round(model.electionTimeoutMs[0]), 10 * heartbeatMs);
  return { heartbeatMs, electionMs };
}

/** What a member says of itself (Maintenance.Status): its id, the leader it follows, its term. */
export interface EtcdStatus {
  readonly memberId: string;
  readonly leaderId: string;
  readonly raftTerm: number;
}

export interface EtcdMemberSpec {
  readonly name: string;
  /** The address the member listens on and advertises. */
  readonly host: string;
  readonly clientPort: number;
  readonly peerPort: number;
}

export class EtcdServer extends ManagedServer {
  readonly host: string;
  readonly clientPort: number;
  readonly peerPort: number;

  /**
   * `members` is the whole cluster (this one included), `cluster` its token. `wrap` prefixes the
   * command, e.g. to run it in a network namespace.
   */
  constructor(
    member: EtcdMemberSpec,
    members: readonly EtcdMemberSpec[],
    dir: string,
    cluster: string,
    timing: EtcdTiming,
    wrap: readonly string[] = [],
  ) {
    const clientUrl = `http://${member.host}:${member.clientPort}`;
    const peerUrl = `http://${member.host}:${member.peerPort}`;
    const args = [
      '--name',
      member.name,
      '--data-dir',
      join(dir, member.name),
      '--listen-client-urls',
      clientUrl,
      '--advertise-client-urls',
      clientUrl,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      members.map((m) => `${m.name}=http://${m.host}:${m.peerPort}`).join(','),
      '--initial-cluster-state',
      'new',
      '--initial-cluster-token',
      cluster,
      '--heartbeat-interval',
      String(timing.heartbeatMs),
      '--election-timeout',
      String(timing.electionMs),
      '--logger',
      'zap',
      '--log-outputs',
      'stderr',
    ];
    const command = wrapped(wrap, ETCD_BINARY, args);
    super({
      name: member.name,
      command: command.command,
      args: command.args,
      logFile: join(dir, `${member.name}.log`),
      // Listening is all a single member can show: it serves requests only once a quorum has formed.
      ready: () => portOpen(member.clientPort, member.host),
      timeoutMs: 10_000,
    });
    this.host = member.host;
    this.clientPort = member.clientPort;
    this.peerPort = member.peerPort;
  }

  get clientUrl(): string {
    return `http://${this.host}:${this.clientPort}`;
  }

  /** Whether the member serves requests: it has a leader and answers /health. */
  async healthy(): Promise<boolean> {
    if (!this.isRunning || this.isPaused) return false;
    try {
      const response = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
      return response.ok && ((await response.json()) as { health?: string }).health === 'true';
    } catch {
      return false;
    }
  }

  /** The member's own view (through its HTTP gateway), or null if it does not answer in time. */
  async status(): Promise<EtcdStatus | null> {
    if (!this.isRunning || this.isPaused) return null;
    try {
      const response = await fetch(`${this.clientUrl}/v3/maintenance/status`, {
        method: 'POST',
        body: '{}',
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      if (!response.ok) return null;
      const body = (await response.json()) as { header?: { member_id?: string }; leader?: string; raftTerm?: string };
      if (body.header?.member_id === undefined || body.leader === undefined) return null;
      return { memberId: body.header.member_id, leaderId: body.leader, raftTerm: Number(body.raftTerm ?? 0) };
    } catch {
      return null;
    }
  }
}

/**
 * The member that leads now: of those that answer and believe they lead, the one of the highest
 * term (a deposed leader may not know it yet); null while none does.
 */
export async function etcdLeader(members: readonly EtcdServer[]): Promise<EtcdServer | null> {
  const views = await Promise.all(members.map(async (member) => ({ member, status: await member.status() })));
  let leader: { member: EtcdServer; term: number } | null = null;
  for (const { member, status } of views) {
    if (status === null || status.memberId !== status.leaderId) continue;
    if (leader === null || status.raftTerm > leader.term) leader = { member, term: status.raftTerm };
  }
  return leader?.member ?? null;
}

export interface EtcdClusterOptions {
  /** The run's lease TTL: Raft timing then follows the simulator's model. */
  readonly ttlMs?: number;
  /** How long the whole cluster may take to serve, from the first start. */
  readonly readyWithinMs?: number;
  /** Run each member in a network namespace of its own, so that `network` can cut links between members. Needs root. */
  readonly namespaces?: boolean;
}

export interface EtcdCluster {
  readonly members: readonly EtcdServer[];
  readonly timing: EtcdTiming;
  /** The links between members (indexes into `members`), when they run in namespaces; null otherwise. */
  readonly network: MemberNetwork | null;
  /** The member that leads now, for the `leader` selector. */
  leader(): Promise<EtcdServer | null>;
  /** Resolve once every running member is healthy and one leads; EnvironmentError after `withinMs`. */
  untilReady(withinMs: number): Promise<void>;
  /** Kill every member, and delete the namespaces they ran in. */
  stop(): Promise<void>;
}

const MEMBERS = 3;

/** Start three members in `dir` as one new cluster, and wait until every one serves and one leads. */
export async function startEtcdCluster(dir: string, options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
  mkdirSync(dir, { recursive: true });
  const network = options.namespaces === true ? MemberNetwork.create(MEMBERS) : null;
  const specs: EtcdMemberSpec[] = [];
  for (let i = 0; i < MEMBERS; i++) {
    specs.push({
      name: `etcd-${i + 1}`,
      host: network?.addresses[i] ?? '127.0.0.1',
      clientPort: await freePort(),
      peerPort: await freePort(),
    });
  }
  const timing = etcdTiming(options.ttlMs);
  const token = `lockstep-${randomBytes(6).toString('hex')}`;
  const members = specs.map((spec, i) => new EtcdServer(spec, specs, dir, token, timing, network?.wrap(i) ?? []));
  const cluster: EtcdCluster = {
    members,
    timing,
    network,
    leader: () => etcdLeader(members),
    untilReady: (withinMs) => untilReady(members, withinMs),
    stop: async () => {
      await Promise.all(members.map((m) => m.stop()));
      network?.destroy();
    },
  };
  try {
    await settleAll(members.map((m) => m.start()));
    await cluster.untilReady(options.readyWithinMs ?? 20_000);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

async function untilReady(members: readonly EtcdServer[], withinMs: number): Promise<void> {
  const running = members.filter((m) => m.isRunning && !m.isPaused);
  const deadline = performance.now() + withinMs;
  for (;;) {
    const healthy = await Promise.all(running.map((m) => m.healthy()));
    if (healthy.every(Boolean) && (await etcdLeader(running)) !== null) return;
    if (performance.now() > deadline) {
      const sick = running.filter((_, i) => !healthy[i]).map((m) => `${m.name} (log: ${keepLog(m.logFile)})`);
      throw new EnvironmentError(
        `etcd: the cluster did not serve within ${withinMs} ms; not healthy: ${sick.join(', ') || 'none, but no leader'}`,
      );
    }
    await sleep(50);
  }
}
