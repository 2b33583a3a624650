/**
 * `lockstep bench --live`: what the live tier costs, on a private local cluster, with Toxiproxy in
 * front and no toxics.
 *
 *   liveAcquireMs         per system, one client alone: p50 and p99 of acquire and of a whole
 *                         acquire + release, through the system's own recipe and live port;
 *   harnessOverhead       the recipe's acquire through the harness (LiveRuntime, recipe, port)
 *                         divided by a bare loop of the same client calls on the same connection
 *                         path (Redis: SET NX PX; RedLock: SET NX PX on five nodes at once, done
 *                         at the third answer, as the recipe's round is);
 *   redlockVsNodeRedlock  lockstep's RedLock median acquire + release divided by node-redlock's,
 *                         the two interleaved in one run on the same five nodes.
 */
import { performance } from 'node:perf_hooks';
import { systemModule } from '../backends/index.ts';
import { SYSTEM_IDS, type LockRecipe, type SystemId } from '../backends/recipe.ts';
import { withAddress } from './servers/database.ts';
import type { SystemConfig } from '../backends/system.ts';
import type { Cluster } from './cluster.ts';
import { openCluster } from './providers.ts';
import { LiveRuntime } from './runtime.ts';
import { connectSubject } from './subjects/connect.ts';
import { loadSubject } from '../subjects/index.ts';
import type { Endpoint } from './system.ts';
import { liveSystem } from './systems/index.ts';
import { redisClient } from './systems/redis.ts';
import { redlockOptions } from '../backends/redlock/index.ts';

const SYSTEMS = SYSTEM_IDS;
const WARMUP = 30;
const ROUNDS = 300;
/** The ratios compare medians a few percent apart: they get more rounds. */
const RATIO_WARMUP = 100;
const RATIO_ROUNDS = 1500;

export interface LatencyFigures {
  readonly p50: number;
  readonly p99: number;
}

export interface LiveBenchResult {
  readonly clusterReadyMs: number;
  readonly liveAcquireMs: Partial<
    Record<SystemId, { readonly acquire: LatencyFigures; readonly acquireRelease: LatencyFigures }>
  >;
  /** Harness acquire median / bare acquire median, per system measured; `max` is the figure held to its target. */
  readonly harnessOverhead: { readonly max: number; readonly bySystem: Partial<Record<SystemId, number>> };
  readonly redlockVsNodeRedlock: {
    readonly ratio: number;
    readonly lockstepMedianMs: number;
    readonly nodeRedlockMedianMs: number;
  };
  readonly rounds: { readonly latency: number; readonly ratios: number };
}

function config(name: string): SystemConfig {
  return { ttlMs: 2000, fencing: false, acquireTimeoutMs: 8000, name };
}

/** Nearest-rank percentile of sorted samples, unrounded (the checkers' percentiles round to 0.1 ms). */
function percentile(sorted: readonly number[], p: number): number {
  const value = sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  if (value === undefined) throw new Error('bench: a percentile of no samples');
  return value;
}

function figures(samples: readonly number[]): LatencyFigures {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)) };
}

function median(samples: readonly number[]): number {
  return percentile(
    [...samples].sort((a, b) => a - b),
    50,
  );
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Resolves once `count` of the promises resolved. */
function firstOf(count: number, promises: readonly Promise<unknown>[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    for (const p of promises) p.then(() => ++seen === count && resolve(), reject);
  });
}

async function timed(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await call();
  return performance.now() - started;
}

/** One bench client's proxies: one per server of the system (or per Sentinel, with `sentinels`). */
async function proxiesFor(cluster: Cluster, system: SystemId, client: string, sentinels = false): Promise<Endpoint[]> {
  const endpoints: Endpoint[] = [];
  const targets = sentinels ? cluster.sentinels(system) : cluster.servers(system);
  for (const [i, server] of targets.entries()) {
    const upstream = `${server.upstream.host}:${server.upstream.port}`;
    const port = await cluster.toxiproxy.proxy(
      `bench-${client}-${system}-${sentinels ? 'sentinel-' : ''}${i + 1}`,
      upstream,
      cluster.proxyListenHost,
    );
    const url = server.url === undefined ? undefined : withAddress(server.url, cluster.clientHost, port);
    endpoints.push({ host: cluster.clientHost, port, upstream, ...(url === undefined ? {} : { url }) });
  }
  return endpoints;
}

async function recipeLock(
  cluster: Cluster,
  system: SystemId,
  client: string,
  name: string,
): Promise<{ lock: LockRecipe; close: () => Promise<void> }> {
  const runtime = new LiveRuntime(client);
  const connection = await liveSystem(system).connect(
    await proxiesFor(cluster, system, client),
    config(name),
    runtime,
    await proxiesFor(cluster, system, client, true),
  );
  return { lock: systemModule(system).lock(runtime, connection.ports, config(name)), close: () => connection.close() };
}

export async function runLiveBench(): Promise<LiveBenchResult> {
  const started = performance.now();
  const cluster = await openCluster({ provider: 'local' }, SYSTEMS, 2000);
  const clusterReadyMs = Math.round(performance.now() - started);
  try {
    const liveAcquireMs: LiveBenchResult['liveAcquireMs'] = {};
    for (const system of SYSTEMS) liveAcquireMs[system] = await acquireLatency(cluster, system);
    const bySystem: Partial<Record<SystemId, number>> = {};
    for (const system of ['redis', 'redlock'] as const) bySystem[system] = await harnessOverhead(cluster, system);
    return {
      clusterReadyMs,
      liveAcquireMs,
      harnessOverhead: { max: Math.max(...Object.values(bySystem)), bySystem },
      redlockVsNodeRedlock: await redlockVsNodeRedlock(cluster),
      rounds: { latency: ROUNDS, ratios: RATIO_ROUNDS },
    };
  } finally {
    await cluster.stop();
  }
}

/** One client alone: p50 and p99 of acquire, and of acquire + release, after a warm-up. */
async function acquireLatency(
  cluster: Cluster,
  system: SystemId,
): Promise<{ acquire: LatencyFigures; acquireRelease: LatencyFigures }> {
  const { lock, close } = await recipeLock(cluster, system, 'solo', `bench-solo-${system}`);
  const acquire: number[] = [];
  const cycle: number[] = [];
  for (let i = 0; i < WARMUP + ROUNDS; i++) {
    const t0 = performance.now();
    const grant = await lock.acquire();
    const t1 = performance.now();
    if (grant === null) throw new Error(`bench: ${system} did not grant an uncontended lock`);
    await lock.release(grant);
    const t2 = performance.now();
    if (i < WARMUP) continue;
    acquire.push(t1 - t0);
    cycle.push(t2 - t0);
  }
  await close();
  return { acquire: figures(acquire), acquireRelease: figures(cycle) };
}

/**
 * Medians of two kinds of round, interleaved round by round so that drift hits both alike, and
 * alternating which goes first, so that neither always follows the other's traffic.
 */
async function interleaved(
  first: (i: number) => Promise<number>,
  second: (i: number) => Promise<number>,
): Promise<[number, number]> {
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < RATIO_WARMUP + RATIO_ROUNDS; i++) {
    let x: number;
    let y: number;
    if (i % 2 === 0) {
      x = await first(i);
      y = await second(i);
    } else {
      y = await second(i);
      x = await first(i);
    }
    if (i < RATIO_WARMUP) continue;
    a.push(x);
    b.push(y);
  }
  return [median(a), median(b)];
}

/** The recipe's acquire through the harness, divided by a bare loop of the same client calls. */
async function harnessOverhead(cluster: Cluster, system: 'redis' | 'redlock'): Promise<number> {
  const name = `bench-overhead-${system}`;
  const { lock, close } = await recipeLock(cluster, system, 'harness', name);
  const timeoutMs = system === 'redlock' ? redlockOptions(config(name)).requestTimeoutMs : 500;
  const bare = (await proxiesFor(cluster, system, 'bare')).map((e) => redisClient(e, timeoutMs));
  const bareKey = `${name}-bare`;
  const harnessRound = async () => {
    const started = performance.now();
    const grant = await lock.acquire();
    const ms = performance.now() - started;
    if (grant === null) throw new Error(`bench: ${system} did not grant an uncontended lock`);
    await lock.release(grant);
    return ms;
  };
  const majority = Math.floor(bare.length / 2) + 1;
  const bareRound = async (i: number) => {
    // The recipe's round ends at a majority of yes; so does the bare one.
    const ms = await timed(() =>
      firstOf(
        majority,
        bare.map((c) => c.set(bareKey, `v${i}`, 'PX', 2000, 'NX')),
      ),
    );
    await Promise.all(bare.map((c) => c.del(bareKey)));
    return ms;
  };
  const [harness, plain] = await interleaved(harnessRound, bareRound);
  bare.forEach((c) => c.disconnect());
  await close();
  return round(harness / plain);
}

/** lockstep's RedLock against node-redlock, on the same nodes, interleaved. */
async function redlockVsNodeRedlock(cluster: Cluster): Promise<LiveBenchResult['redlockVsNodeRedlock']> {
  const ours = await recipeLock(cluster, 'redlock', 'ours', 'bench-redlock-ours');
  const connection = await connectSubject(
    await loadSubject('node-redlock'),
    await proxiesFor(cluster, 'redlock', 'theirs'),
    config('bench-redlock-theirs'),
  );
  const theirs = connection.lock(new LiveRuntime('theirs'));
  const [lockstepMedianMs, nodeRedlockMedianMs] = await interleaved(
    () =>
      timed(async () => {
        const grant = await ours.lock.acquire();
        if (grant === null) throw new Error('bench: redlock did not grant an uncontended lock');
        await ours.lock.release(grant);
      }),
    () =>
      timed(async () => {
        const grant = await theirs.acquire();
        if (grant === null) throw new Error('bench: node-redlock did not grant an uncontended lock');
        await theirs.release(grant);
      }),
  );
  await ours.close();
  await connection.close();
  return {
    ratio: round(lockstepMedianMs / nodeRedlockMedianMs),
    lockstepMedianMs: round(lockstepMedianMs),
    nodeRedlockMedianMs: round(nodeRedlockMedianMs),
  };
}
