/**
 * A Redis Sentinel, as far as a lock's safety depends on one (Redis 7.0's sentinel.c).
 *
 * Fault model. Three Sentinels watch one primary and its replicas; quorum 2.
 *   - Each pings every data node every second, or every down-after-milliseconds if that is
 *     shorter (sentinelSendPeriodicCommands), and reads its role and replication offset from the
 *     answer (INFO replication). A node whose oldest unanswered ping went out more than
 *     down-after-milliseconds ago is subjectively down (SDOWN, from act_ping_time). A primary that says it is a replica for longer than
 *     down-after plus two INFO periods counts as down too.
 *   - A Sentinel that sees the primary SDOWN asks the others every second
 *     (is-master-down-by-addr); with itself and the answers of the last five seconds reaching
 *     the quorum, the primary is objectively down (ODOWN).
 *   - Failover: a Sentinel with ODOWN starts one no sooner than twice failover-timeout after the
 *     last one it started or voted in (plus up to a second of jitter, SENTINEL_MAX_DESYNC). It
 *     bumps the current epoch and asks for votes; every Sentinel votes for the first asker of
 *     an epoch. With a majority of the three and the quorum, it is the leader: it picks the
 *     replica that answered within five ping periods with the largest replication offset (ties:
 *     the lower name, for the run id), sends it REPLICAOF NO ONE, and once the replica reports
 *     itself primary it takes the failover epoch as its config epoch, makes the promoted node
 *     the primary in its config and sends REPLICAOF to the other data nodes. A failover that
 *     is not elected within min(10 s, failover-timeout), or whose replica does not report
 *     itself primary within failover-timeout, is abandoned.
 *   - Sentinels spread their config in hello messages every two seconds, published through the
 *     data nodes (the __sentinel__:hello channel), so a Sentinel cut off from the others but
 *     not from the data nodes still learns; a newer config epoch wins.
 *   - A node that reports the wrong role is put right by any Sentinel once the primary looks
 *     healthy: a former primary that still says it is primary after eight seconds (four publish
 *     periods, to hear newer configs first), a replica of the wrong primary after
 *     failover-timeout (sentinelRefreshInstanceInfo). Until then the old primary takes writes
 *     from whoever is still connected to it: the split brain of Jepsen's 2013 analysis.
 *   - A Sentinel keeps its config (epochs, votes, the primary) in its configuration file, which
 *     it rewrites at every change and every restart keeps.
 * Left out: TILT mode, replica priorities, parallel-syncs (every replica is reconfigured at
 * once), scripts, and the replica exclusion by master_link_down_time (it needs the 60 s
 * repl-timeout, longer than a run).
 */
import type { Host } from '../../sim/node.ts';
import type { Message } from '../../sim/network.ts';
import { ServerEndpoint, type Incoming } from '../shared/endpoint/endpoint.ts';
import type { SentinelOptions } from '../system.ts';
import type { InstanceInfo, PeerMessage } from './server.ts';

export const SENTINEL_QUORUM = 2;
const TICK_HZ_MIN = 10;
const ASK_PERIOD_MS = 1000;
const PUBLISH_PERIOD_MS = 2000;
const INFO_PERIOD_MS = 10_000;
const MAX_DESYNC_MS = 1000;
const ELECTION_TIMEOUT_MS = 10_000;

/** What a Sentinel keeps in its config file. */
export interface SentinelConfig {
  currentEpoch: number;
  primary: string;
  configEpoch: number;
  /** Its vote: for whom, in which epoch. */
  leader: string | null;
  leaderEpoch: number;
}

export const SENTINEL_CONFIG = 'redis-sentinel.config';

interface Hello {
  readonly sentinel: string;
  readonly currentEpoch: number;
  readonly primary: string;
  readonly configEpoch: number;
}

type SentinelMessage =
  | { type: 'is-down'; primary: string; epoch: number; runid: string | null }
  | { type: 'is-down-reply'; down: boolean; leader: string | null; leaderEpoch: number };

interface Seen {
  info: InstanceInfo;
  lastOkMs: number;
  /** Since when it reports its present role, and its present primary. */
  roleSinceMs: number;
  replicaOfSinceMs: number;
}

interface Failover {
  readonly epoch: number;
  readonly startedMs: number;
  phase: 'election' | 'promoting';
  promoted: string | null;
  promotedAtMs: number;
}

/** Boot a Sentinel watching `servers` (server-1 the primary at the start) beside the other `sentinels`. */
export function sentinelProcess(
  host: Host,
  servers: readonly string[],
  sentinels: readonly string[],
  options: SentinelOptions,
): void {
  let config = host.config.get(SENTINEL_CONFIG) as SentinelConfig | undefined;
  if (config === undefined) {
    const primary = servers[0];
    if (primary === undefined) throw new Error('redis-sentinel: a Sentinel needs the servers');
    config = { currentEpoch: 0, primary, configEpoch: 0, leader: null, leaderEpoch: 0 };
    host.config.set(SENTINEL_CONFIG, config);
  }
  new Sentinel(
    host,
    config,
    servers,
    sentinels.filter((s) => s !== host.id),
    options,
  );
}

class Sentinel {
  private readonly seen = new Map<string, Seen>();
  /** The others' latest is-master-down answers. */
  private readonly answers = new Map<
    string,
    { down: boolean; leader: string | null; leaderEpoch: number; atMs: number }
  >();
  private failover: Failover | null = null;
  /** failover_start_time: the next failover may start twice failover-timeout after it. */
  private failoverStartMs: number;
  private lastPingMs = -Infinity;
  private lastAskMs = -Infinity;
  private lastHelloMs = -Infinity;
  private readonly lastReconfigureMs = new Map<string, number>();
  /** act_ping_time: when the oldest ping still unanswered went out, per node. */
  private readonly unanswered = new Map<string, number>();

  constructor(
    private readonly host: Host,
    private readonly config: SentinelConfig,
    private readonly servers: readonly string[],
    private readonly others: readonly string[],
    private readonly options: SentinelOptions,
  ) {
    this.failoverStartMs = -Infinity;
    new ServerEndpoint(host, (request) => this.onRequest(request), { onPeer: (message) => this.onPeer(message) });
    this.tick();
  }

  private now(): number {
    return this.host.clock.monotonic();
  }

  /** SENTINEL get-master-addr-by-name: the primary in this Sentinel's config, down or not. */
  private onRequest(request: Incoming): void {
    if (request.op === 'get-master-addr') request.reply(this.config.primary);
    else request.fail(`ERR unknown command '${request.op}'`);
  }

  /** Sentinel's timer runs at a random 10 to 19 Hz, changed at every tick, so the Sentinels do not move in step. */
  private tick(): void {
    this.host.timer(Math.round(1000 / this.host.rng.int(TICK_HZ_MIN, 2 * TICK_HZ_MIN - 1)), 'sentinel', () => {
      this.periodic();
      this.tick();
    });
  }

  private periodic(): void {
    const nowMs = this.now();
    if (nowMs - this.lastPingMs >= Math.min(1000, this.options.downAfterMs)) {
      this.lastPingMs = nowMs;
      for (const server of this.servers) {
        if (!this.unanswered.has(server)) this.unanswered.set(server, nowMs);
        this.send(server, { type: 'sentinel-ping' });
      }
    }
    if (nowMs - this.lastHelloMs >= PUBLISH_PERIOD_MS) {
      this.lastHelloMs = nowMs;
      this.publishHello();
    }
    const primaryDown = this.subjectivelyDown(this.config.primary);
    if (primaryDown && nowMs - this.lastAskMs >= ASK_PERIOD_MS) {
      this.lastAskMs = nowMs;
      this.ask(this.failover?.phase === 'election' ? this.host.id : null);
    }
    if (this.failover !== null) this.advanceFailover();
    else if (
      primaryDown &&
      this.objectivelyDown() &&
      nowMs - this.failoverStartMs >= 2 * this.options.failoverTimeoutMs
    )
      this.startFailover();
    else if (!primaryDown) this.reconfigureStrays();
  }

  private subjectivelyDown(node: string): boolean {
    const nowMs = this.now();
    const seen = this.seen.get(node);
    const pingedMs = this.unanswered.get(node);
    if (pingedMs !== undefined && nowMs - pingedMs > this.options.downAfterMs) return true;
    // A primary that says it is a replica is, to Sentinel, a primary that is not working.
    return (
      node === this.config.primary &&
      seen?.info.role === 'slave' &&
      nowMs - seen.roleSinceMs > this.options.downAfterMs + 2 * INFO_PERIOD_MS
    );
  }

  private objectivelyDown(): boolean {
    const nowMs = this.now();
    let agree = 1;
    for (const answer of this.answers.values()) if (answer.down && nowMs - answer.atMs <= 5 * ASK_PERIOD_MS) agree++;
    return agree >= SENTINEL_QUORUM;
  }

  private ask(runid: string | null): void {
    const epoch = this.config.currentEpoch;
    for (const other of this.others)
      this.sendSentinel(other, { type: 'is-down', primary: this.config.primary, epoch, runid });
  }

  private startFailover(): void {
    const { config } = this;
    config.currentEpoch++;
    config.leader = this.host.id;
    config.leaderEpoch = config.currentEpoch;
    const nowMs = this.now();
    this.failover = {
      epoch: config.currentEpoch,
      startedMs: nowMs,
      phase: 'election',
      promoted: null,
      promotedAtMs: 0,
    };
    this.failoverStartMs = nowMs + this.host.rng.int(0, MAX_DESYNC_MS - 1);
    this.lastAskMs = nowMs;
    this.ask(this.host.id);
  }

  private advanceFailover(): void {
    const failover = this.failover;
    if (failover === null) return;
    const nowMs = this.now();
    if (failover.epoch < this.config.currentEpoch && failover.phase === 'election') {
      // Someone else's failover of a newer epoch is under way.
      this.failover = null;
      return;
    }
    if (failover.phase === 'election') {
      if (this.votes(failover.epoch) >= Math.max(SENTINEL_QUORUM, Math.floor((this.others.length + 1) / 2) + 1)) {
        this.promote(failover);
      } else if (nowMs - failover.startedMs > Math.min(ELECTION_TIMEOUT_MS, this.options.failoverTimeoutMs)) {
        this.failover = null;
      }
      return;
    }
    const promoted = failover.promoted;
    const seen = promoted === null ? undefined : this.seen.get(promoted);
    if (promoted !== null && seen?.info.role === 'master' && seen.roleSinceMs >= failover.promotedAtMs) {
      this.switchPrimary(promoted, failover.epoch);
      this.failover = null;
      this.publishHello();
      for (const server of this.servers) if (server !== promoted) this.replicaOf(server, promoted);
    } else if (nowMs - failover.promotedAtMs > this.options.failoverTimeoutMs) {
      this.failover = null;
    }
  }

  private votes(epoch: number): number {
    let votes = this.config.leader === this.host.id && this.config.leaderEpoch === epoch ? 1 : 0;
    for (const answer of this.answers.values())
      if (answer.leader === this.host.id && answer.leaderEpoch === epoch) votes++;
    return votes;
  }

  /** The best replica: answering lately, the largest replication offset, then the lowest name. */
  private promote(failover: Failover): void {
    const nowMs = this.now();
    const candidates = this.servers
      .filter((s) => s !== this.config.primary)
      .flatMap((s) => {
        const seen = this.seen.get(s);
        if (seen === undefined || seen.info.role !== 'slave') return [];
        if (this.subjectivelyDown(s) || nowMs - seen.lastOkMs > 5 * Math.min(1000, this.options.downAfterMs)) return [];
        return [{ server: s, offset: seen.info.offset }];
      })
      .sort((a, b) => b.offset - a.offset || (a.server < b.server ? -1 : 1));
    const chosen = candidates[0];
    if (chosen === undefined) {
      this.failover = null;
      return;
    }
    failover.phase = 'promoting';
    failover.promoted = chosen.server;
    failover.promotedAtMs = nowMs;
    this.replicaOf(chosen.server, null);
  }

  /** Put right the nodes that report the wrong role (the old primary come back, a replica of the wrong primary). */
  private reconfigureStrays(): void {
    const nowMs = this.now();
    const { primary } = this.config;
    for (const server of this.servers) {
      const seen = this.seen.get(server);
      if (server === primary || seen === undefined || this.subjectivelyDown(server)) continue;
      const wrongRole = seen.info.role === 'master' && nowMs - seen.roleSinceMs > 4 * PUBLISH_PERIOD_MS;
      const wrongPrimary =
        seen.info.role === 'slave' &&
        seen.info.replicaOf !== primary &&
        nowMs - seen.replicaOfSinceMs > this.options.failoverTimeoutMs;
      if (!wrongRole && !wrongPrimary) continue;
      if (nowMs - (this.lastReconfigureMs.get(server) ?? -Infinity) < ASK_PERIOD_MS) continue;
      this.lastReconfigureMs.set(server, nowMs);
      this.replicaOf(server, primary);
    }
  }

  private publishHello(): void {
    const { currentEpoch, primary, configEpoch } = this.config;
    const hello: Hello = { sentinel: this.host.id, currentEpoch, primary, configEpoch };
    for (const server of this.servers) this.send(server, { type: 'sentinel-hello', hello });
  }

  private onPeer(message: Message): void {
    const body = message.payload as PeerMessage | SentinelMessage;
    switch (body.type) {
      case 'sentinel-pong':
        this.onPong(message.from, body.info);
        return;
      case 'sentinel-hello':
        this.onHello(body.hello as Hello);
        return;
      case 'is-down':
        this.onIsDown(message.from, body);
        return;
      case 'is-down-reply':
        this.answers.set(message.from, { ...body, atMs: this.now() });
        return;
      default:
        return;
    }
  }

  private onPong(node: string, info: InstanceInfo): void {
    const nowMs = this.now();
    this.unanswered.delete(node);
    const before = this.seen.get(node);
    this.seen.set(node, {
      info,
      lastOkMs: nowMs,
      roleSinceMs: before !== undefined && before.info.role === info.role ? before.roleSinceMs : nowMs,
      replicaOfSinceMs:
        before !== undefined && before.info.replicaOf === info.replicaOf ? before.replicaOfSinceMs : nowMs,
    });
  }

  private onHello(hello: Hello): void {
    const { config } = this;
    if (hello.sentinel === this.host.id) return;
    if (hello.currentEpoch > config.currentEpoch) config.currentEpoch = hello.currentEpoch;
    if (hello.configEpoch > config.configEpoch) this.switchPrimary(hello.primary, hello.configEpoch);
  }

  /**
   * A new config: the primary and its epoch. Like sentinelResetMasterAndChangeAddress, start the
   * records of every node afresh, so a former primary that turns up still claiming the role is
   * given the full wait from the moment it is seen.
   */
  private switchPrimary(primary: string, configEpoch: number): void {
    this.config.primary = primary;
    this.config.configEpoch = configEpoch;
    this.seen.clear();
    // The others' is-master-down answers were about the old primary.
    this.answers.clear();
  }

  /** is-master-down-by-addr: say whether the primary looks down here, and vote when asked to. */
  private onIsDown(from: string, request: Extract<SentinelMessage, { type: 'is-down' }>): void {
    const { config } = this;
    if (request.runid !== null) {
      if (request.epoch > config.currentEpoch) config.currentEpoch = request.epoch;
      if (config.leaderEpoch < request.epoch && config.currentEpoch <= request.epoch) {
        config.leader = request.runid;
        config.leaderEpoch = request.epoch;
        // Having voted for another, hold off a failover of one's own.
        if (request.runid !== this.host.id) this.failoverStartMs = this.now() + this.host.rng.int(0, MAX_DESYNC_MS - 1);
      }
    }
    const down = request.primary === config.primary && this.subjectivelyDown(config.primary);
    this.sendSentinel(from, { type: 'is-down-reply', down, leader: config.leader, leaderEpoch: config.leaderEpoch });
  }

  private replicaOf(server: string, primary: string | null): void {
    this.send(server, { type: 'sentinel-replicaof', primary });
  }

  private send(to: string, message: PeerMessage): void {
    this.host.send(to, message, { label: message.type });
  }

  private sendSentinel(to: string, message: SentinelMessage): void {
    this.host.send(to, message, { label: message.type });
  }
}
