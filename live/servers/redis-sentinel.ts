/**
 * A private replicated Redis under Sentinel for the live harness: three data nodes (server-1 the
 * primary at the start, server-2 and server-3 its replicas) and three Sentinels monitoring them
 * as `lockstep` with a quorum of two. Debian's redis-server is both: `redis-server FILE` and
 * `redis-server FILE --sentinel`.
 *
 * Every instance runs from a configuration file of its own, as deployed Redis does, because
 * Sentinel rewrites them: a Sentinel records what it learnt (replicas, other Sentinels, epochs),
 * and when it reconfigures a data node (SLAVEOF, then CONFIG REWRITE) the node's file records its
 * new role. So a crashed instance restarts as what its file says: a restarted Sentinel keeps its
 * state, and a data node comes back with the role it last had, a former primary as a primary,
 * until Sentinel sees it and turns it into a replica (about 8 s later, Sentinel's own wait).
 * Without persistence (the default, `save ""`, no append-only file) a restarted data node comes
 * back empty; with it, an append-only file synced on every write.
 *
 * Run as root, each of the six instances is in a network namespace of its own (./netns.ts): the
 * replicas and the Sentinels learn one address per instance, so links between instances (the
 * replication, Sentinel's pings and hellos) cannot go through per-link proxies, but a blackhole
 * route in the sender's namespace cuts exactly one of them. Otherwise they share 127.0.0.1 and
 * such links cannot be cut.
 *
 * The Sentinels start knowing each other and the replicas (their files hold `sentinel myid`,
 * `known-sentinel` and `known-replica`, which is what Sentinel itself writes there after its
 * discovery), so the cluster is ready without waiting out two hello periods.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { SENTINEL_SERVERS, SENTINELS } from '../../backends/redis-sentinel/index.ts';
import { SENTINEL_MASTER_NAME } from '../../backends/redis-sentinel/port.ts';
import { SENTINEL_QUORUM } from '../../backends/redis-sentinel/sentinel.ts';
import { SENTINEL_DEFAULTS, type SentinelOptions } from '../../backends/system.ts';
import { ask, EnvironmentError, freePort, keepLog, ManagedServer, settleAll, sleep, wrapped } from '../process.ts';
import { MemberNetwork } from './netns.ts';

// The simulator's topology, so that both worlds run the same deployment.
const DATA_NODES = SENTINEL_SERVERS;
/** How long one question to an instance may take before the harness counts it as no answer. */
const PROBE_TIMEOUT_MS = 1000;
/**
 * How long a cluster whose six instances all run may take to look at its start again before
 * prepare starts it afresh: a busy machine answers late, and a fresh start would kill the
 * servers under any run that shares the cluster.
 */
const SETTLE_MS = 3000;
const READY_WITHIN_MS = 20_000;
/** How long a fresh start may take before it is made again (it takes about a second here). */
const FIRST_START_WITHIN_MS = 12_000;

type Role = 'data' | 'sentinel';

/** One redis-server process, a data node or a Sentinel, run from its configuration file. */
export class RedisInstance extends ManagedServer {
  constructor(
    readonly role: Role,
    name: string,
    readonly host: string,
    readonly port: number,
    readonly dir: string,
    wrap: readonly string[],
  ) {
    const command = wrapped(wrap, 'redis-server', [
      join(dir, `${name}.conf`),
      ...(role === 'sentinel' ? ['--sentinel'] : []),
    ]);
    super({
      name,
      command: command.command,
      args: command.args,
      logFile: join(dir, `${name}.log`),
      ready: async () =>
        (await ask(port, 'PING\r\n', { host, complete: (a) => a.includes('\r\n'), timeoutMs: 500 })).startsWith(
          '+PONG',
        ),
      timeoutMs: 10_000,
    });
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get configFile(): string {
    return join(this.dir, `${this.name}.conf`);
  }

  /** Throw away what a data node keeps on disk (it must not be running); its configuration stays. */
  wipe(): void {
    rmSync(join(this.dir, `${this.name}-aof`), { recursive: true, force: true });
    rmSync(join(this.dir, `${this.name}.rdb`), { force: true });
  }

  /** Whether the harness may ask it something now: running, not stopped. */
  get answers(): boolean {
    return this.isRunning && !this.isPaused;
  }
}

/** A Sentinel's run id, fixed by its name, so that the others can be told it in advance. */
function sentinelId(name: string): string {
  return createHash('sha1').update(`lockstep ${name}`).digest('hex');
}

function dataConfig(node: RedisInstance, primary: RedisInstance, persist: boolean, settings: SentinelOptions): string {
  return [
    `port ${node.port}`,
    `bind ${node.host}`,
    'protected-mode no',
    `dir ${node.dir}`,
    `dbfilename ${node.name}.rdb`,
    'save ""',
    ...(persist ? ['appendonly yes', 'appendfsync always', `appenddirname ${node.name}-aof`] : ['appendonly no']),
    ...(node === primary ? [] : [`replicaof ${primary.host} ${primary.port}`]),
    // A primary otherwise waits 5 s for more replicas before it streams a full sync to the first.
    'repl-diskless-sync-delay 0',
    `min-replicas-to-write ${settings.minReplicasToWrite}`,
    `min-replicas-max-lag ${settings.minReplicasMaxLagS}`,
    '',
  ].join('\n');
}

function sentinelConfig(
  sentinel: RedisInstance,
  data: readonly RedisInstance[],
  sentinels: readonly RedisInstance[],
  settings: SentinelOptions,
): string {
  const [primary, ...replicas] = data;
  if (primary === undefined) throw new Error('redis-sentinel: no data nodes');
  const name = SENTINEL_MASTER_NAME;
  return [
    `port ${sentinel.port}`,
    `bind ${sentinel.host}`,
    'protected-mode no',
    `dir ${sentinel.dir}`,
    `sentinel myid ${sentinelId(sentinel.name)}`,
    `sentinel monitor ${name} ${primary.host} ${primary.port} ${SENTINEL_QUORUM}`,
    `sentinel down-after-milliseconds ${name} ${settings.downAfterMs}`,
    `sentinel failover-timeout ${name} ${settings.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${name} 1`,
    ...replicas.map((r) => `sentinel known-replica ${name} ${r.host} ${r.port}`),
    ...sentinels
      .filter((s) => s !== sentinel)
      .map((s) => `sentinel known-sentinel ${name} ${s.host} ${s.port} ${sentinelId(s.name)}`),
    '',
  ].join('\n');
}

/** RESP arrays of field, value, field, value as an object. */
function fields(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

/** INFO's `key:value` lines as an object. */
function info(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

export interface SentinelClusterOptions {
  /** Run each instance in a network namespace of its own, so that links between them can be cut. Needs root. */
  readonly namespaces?: boolean;
}

export class SentinelCluster {
  private readonly admins = new Map<RedisInstance, Redis>();
  private persistNow = false;
  private settingsNow: SentinelOptions = SENTINEL_DEFAULTS;

  private constructor(
    /** server-1 .. server-3: the data nodes. */
    readonly data: readonly RedisInstance[],
    /** sentinel-1 .. sentinel-3. */
    readonly sentinels: readonly RedisInstance[],
    /** The links between instances (indexes: data nodes 0..2, then Sentinels 3..5); null on loopback. */
    readonly network: MemberNetwork | null,
    private readonly dir: string,
  ) {}

  static async start(dir: string, options: SentinelClusterOptions = {}): Promise<SentinelCluster> {
    mkdirSync(dir, { recursive: true });
    const network = options.namespaces === true ? MemberNetwork.create(DATA_NODES + SENTINELS) : null;
    // In namespaces every instance has an address of its own, so each uses Redis's usual port.
    const portOf = async (role: Role) => (network === null ? freePort() : role === 'data' ? 6379 : 26379);
    const instance = async (role: Role, name: string, index: number) =>
      new RedisInstance(
        role,
        name,
        network?.addresses[index] ?? '127.0.0.1',
        await portOf(role),
        dir,
        network?.wrap(index) ?? [],
      );
    const data: RedisInstance[] = [];
    const sentinels: RedisInstance[] = [];
    for (let i = 0; i < DATA_NODES; i++) data.push(await instance('data', `sentinel-redis-${i + 1}`, i));
    for (let i = 0; i < SENTINELS; i++) sentinels.push(await instance('sentinel', `sentinel-${i + 1}`, DATA_NODES + i));
    const cluster = new SentinelCluster(data, sentinels, network, dir);
    try {
      await cluster.reset();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  get instances(): readonly RedisInstance[] {
    return [...this.data, ...this.sentinels];
  }

  get persist(): boolean {
    return this.persistNow;
  }

  /**
   * Make the cluster what a run starts from: server-1 the primary of two replicas, every Sentinel
   * agreeing, the run's settings in force. A cluster already there keeps running (runs that share
   * it may be using it) and only gets the settings (SENTINEL SET, CONFIG SET, each rewritten to
   * its file); anything else is started afresh.
   */
  async prepare(options: { readonly persist: boolean; readonly sentinel?: SentinelOptions }): Promise<void> {
    const settings = options.sentinel ?? SENTINEL_DEFAULTS;
    if (options.persist === this.persistNow && (await this.settled()) === null) {
      if (!sameServerSettings(settings, this.settingsNow)) await this.apply(settings);
      return;
    }
    this.persistNow = options.persist;
    this.settingsNow = settings;
    await this.reset();
  }

  /**
   * Kill every instance, write every file anew, start them all, and wait until the cluster is at
   * its start. A start that does not get there is made once more from nothing before the harness
   * gives up: on a loaded machine a replica has been seen never to come in sync with a fresh
   * primary, and the second start is cheap beside a failed suite.
   */
  async reset(): Promise<void> {
    try {
      await this.startAfresh();
      await this.untilAtStart(FIRST_START_WITHIN_MS);
    } catch (error) {
      if (!(error instanceof EnvironmentError)) throw error;
      process.stderr.write(`${error.message}; starting the cluster afresh once more\n`);
      await this.startAfresh();
      await this.untilAtStart(READY_WITHIN_MS);
    }
  }

  /** Kill every instance, drop the harness's connections to them, write every file anew and start them all. */
  private async startAfresh(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.kill()));
    for (const admin of this.admins.values()) admin.disconnect();
    this.admins.clear();
    this.network?.healAll();
    const [primary] = this.data;
    if (primary === undefined) throw new Error('redis-sentinel: no data nodes');
    for (const node of this.data) {
      node.wipe();
      writeFileSync(node.configFile, dataConfig(node, primary, this.persistNow, this.settingsNow));
    }
    for (const sentinel of this.sentinels)
      writeFileSync(sentinel.configFile, sentinelConfig(sentinel, this.data, this.sentinels, this.settingsNow));
    await settleAll(this.data.map((n) => n.start()));
    await settleAll(this.sentinels.map((s) => s.start()));
  }

  /** Resolve once the cluster is at its start; EnvironmentError naming what is not, and the logs, after `withinMs`. */
  async untilAtStart(withinMs: number): Promise<void> {
    const deadline = performance.now() + withinMs;
    for (;;) {
      const why = await this.notAtStart();
      if (why === null) return;
      if (performance.now() > deadline)
        throw new EnvironmentError(
          `redis-sentinel: not ready within ${withinMs} ms (${why}); logs: ${this.instances.map((i) => keepLog(i.logFile)).join(', ')}`,
        );
      await sleep(50);
    }
  }

  /**
   * Why the cluster is not at its start, or null once it is. A cluster that may get there by
   * itself (every instance running, server-1 still the primary the Sentinels name, a replica
   * resyncing or an answer late) gets up to SETTLE_MS; one that failed over is not waited for.
   */
  private async settled(): Promise<string | null> {
    const deadline = performance.now() + SETTLE_MS;
    for (;;) {
      const why = await this.notAtStart();
      if (why === null || performance.now() > deadline || (await this.movedOn())) return why;
      await sleep(100);
    }
  }

  /** Whether the cluster cannot be at its start without a fresh start: an instance down or stopped, or a failover. */
  private async movedOn(): Promise<boolean> {
    if (this.instances.some((i) => !i.answers)) return true;
    const leader = await this.leader();
    return (leader !== null && leader !== 1) || (await this.roleOf(1)) === 'slave';
  }

  /** Why the cluster is not at its start (server-1 primary of two live replicas, three Sentinels agreeing), or null. */
  async notAtStart(): Promise<string | null> {
    const down = this.instances.find((i) => !i.answers);
    if (down !== undefined) return `${down.name} is ${down.isRunning ? 'paused' : 'down'}`;
    const [primary, ...replicas] = this.data;
    if (primary === undefined) return 'no data nodes';
    const ofPrimary = info(await this.text(primary, 'info', 'replication'));
    if (ofPrimary.role !== 'master' || ofPrimary.connected_slaves !== String(replicas.length))
      return `${primary.name} is ${ofPrimary.role ?? 'silent'} with ${ofPrimary.connected_slaves ?? 'no'} replicas`;
    for (const replica of replicas) {
      const of = info(await this.text(replica, 'info', 'replication'));
      if (
        of.role !== 'slave' ||
        `${of.master_host}:${of.master_port}` !== primary.address ||
        of.master_link_status !== 'up'
      )
        return (
          `${replica.name} is not a replica of ${primary.name} in sync (role ${of.role ?? 'unknown'}, ` +
          `primary ${of.master_host ?? '?'}:${of.master_port ?? '?'}, link ${of.master_link_status ?? '?'}, ` +
          `sync in progress ${of.master_sync_in_progress ?? '?'})`
        );
    }
    for (const sentinel of this.sentinels) {
      const master = fields(await this.ask(sentinel, 'sentinel', 'master', SENTINEL_MASTER_NAME).catch(() => []));
      if (`${master.ip}:${master.port}` !== primary.address || master.flags !== 'master')
        return `${sentinel.name} sees ${master.ip ?? '?'}:${master.port ?? '?'} (${master.flags ?? 'no answer'}) as the primary`;
      if (master['num-other-sentinels'] !== String(this.sentinels.length - 1))
        return `${sentinel.name} knows ${master['num-other-sentinels']} other Sentinels`;
      const known = (await this.ask(sentinel, 'sentinel', 'replicas', SENTINEL_MASTER_NAME).catch(
        () => [],
      )) as unknown[];
      const good = known.map(fields).filter((r) => r.flags === 'slave' && r['master-link-status'] === 'ok');
      if (good.length !== replicas.length) return `${sentinel.name} sees ${good.length} replicas in sync`;
    }
    return null;
  }

  /**
   * The index (1-based) of the data node a majority of the Sentinels that answer name as the
   * primary (SENTINEL get-master-addr-by-name); null while no address has a majority of all three.
   */
  async leader(): Promise<number | null> {
    const answers = await Promise.all(
      this.sentinels
        .filter((s) => s.answers)
        .map((s) =>
          this.ask(s, 'sentinel', 'get-master-addr-by-name', SENTINEL_MASTER_NAME).then(
            (reply) => (Array.isArray(reply) ? `${String(reply[0])}:${String(reply[1])}` : null),
            () => null,
          ),
        ),
    );
    const majority = Math.floor(this.sentinels.length / 2) + 1;
    for (const [i, node] of this.data.entries())
      if (answers.filter((a) => a === node.address).length >= majority) return i + 1;
    return null;
  }

  /** What a data node says it is: `master`, `slave`, or null when it does not answer. */
  async roleOf(index: number): Promise<string | null> {
    const node = this.data[index - 1];
    if (node === undefined || !node.answers) return null;
    return info(await this.text(node, 'info', 'replication')).role ?? null;
  }

  /** Sentinel's and the data nodes' settings changed in place, and each written back to its file. */
  private async apply(settings: SentinelOptions): Promise<void> {
    const name = SENTINEL_MASTER_NAME;
    await Promise.all([
      ...this.sentinels.map((s) =>
        this.ask(
          s,
          'sentinel',
          'set',
          name,
          'down-after-milliseconds',
          String(settings.downAfterMs),
          'failover-timeout',
          String(settings.failoverTimeoutMs),
        ),
      ),
      ...this.data.map(async (node) => {
        await this.ask(
          node,
          'config',
          'set',
          'min-replicas-to-write',
          String(settings.minReplicasToWrite),
          'min-replicas-max-lag',
          String(settings.minReplicasMaxLagS),
        );
        await this.ask(node, 'config', 'rewrite');
      }),
    ]);
    this.settingsNow = settings;
  }

  /** A command whose answer is text (INFO), or '' when the instance does not answer in time. */
  private async text(instance: RedisInstance, ...args: string[]): Promise<string> {
    return this.ask(instance, ...args).then(
      (reply) => (typeof reply === 'string' ? reply : ''),
      () => '',
    );
  }

  /** One command to one instance, on the harness's own connection to it (kept, and reconnected after a restart). */
  async ask(instance: RedisInstance, ...args: string[]): Promise<unknown> {
    let admin = this.admins.get(instance);
    if (admin === undefined) {
      admin = new Redis({
        host: instance.host,
        port: instance.port,
        commandTimeout: PROBE_TIMEOUT_MS,
        connectTimeout: PROBE_TIMEOUT_MS,
        maxRetriesPerRequest: 0,
        retryStrategy: () => 50,
        enableReadyCheck: false,
        lazyConnect: true,
      });
      // Errors reach the commands that suffer them (a restart, Sentinel's CLIENT KILL).
      admin.on('error', () => {});
      this.admins.set(instance, admin);
    }
    const [command, ...rest] = args;
    if (command === undefined) throw new Error('redis-sentinel: ask needs a command');
    return admin.call(command, ...rest);
  }

  async stop(): Promise<void> {
    for (const admin of this.admins.values()) admin.disconnect();
    this.admins.clear();
    await Promise.all(this.instances.map((i) => i.stop()));
    this.network?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Whether two runs' settings agree on what the servers hold (not the recipe's WAIT, which is the client's). */
export function sameServerSettings(a: SentinelOptions, b: SentinelOptions): boolean {
  return (
    a.downAfterMs === b.downAfterMs &&
    a.failoverTimeoutMs === b.failoverTimeoutMs &&
    a.minReplicasToWrite === b.minReplicasToWrite &&
    a.minReplicasMaxLagS === b.minReplicasMaxLagS
  );
}
