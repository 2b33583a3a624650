/**
 * The library's scenarios, unchanged, on real servers: no-faults must be safe on all seven systems,
 * and gc-pause-beyond-ttl and db-connection-cut must match their expectations live, fenced and
 * not; delayed-packets and leader-isolated too on the databases, unfenced; and one run that
 * crashes a RedLock node and restarts it empty at once; pause-after-careful-check on Redis and
 * PostgreSQL, whose pause must land before the write leaves (trigger `writing`); redis-sentinel's
 * crash after a grant and Jepsen's split brain, each unsafe fenced or not. The third-party
 * subjects run no-faults too. Runs whose faults touch only clients share one
 * cluster and go three at a time; each has its own proxies, keys and register.
 */
import { loadSubject } from '../subjects/index.ts';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_IDS } from '../backends/recipe.ts';
import { livePlan, type LivePlanItem } from '../cli/live.ts';
import { loadScenarios } from '../scenarios/loader.ts';
import type { Cluster } from './cluster.ts';
import { liveEnabled } from './gate.ts';
import { openCluster } from './providers.ts';
import { NEMESIS, type Op } from '../runner/history.ts';
import { runLive, type LiveRunOutput, type LiveRunResult } from './run.ts';
import { touchesOnlyClients } from '../faults/live.ts';

const LIBRARY = fileURLToPath(new URL('../scenarios', import.meta.url));
const SCENARIOS = ['no-faults', 'gc-pause-beyond-ttl', 'db-connection-cut'];
const SYSTEMS = SYSTEM_IDS;
const CONCURRENT_RUNS = 3;
/** How far the heal's record may trail the resumed client's first op (see heldBack). */
const HEAL_SLACK_MS = 100;

/** The built-in subjects, and the example subject file, run live beside the recipes, in no-faults. */
const SUBJECTS = await Promise.all(
  [
    'node-redlock',
    'redlock-v4',
    'sesamecare-redlock',
    'redis-semaphore',
    'redis-semaphore-redlock',
    'etcd3-lock',
    fileURLToPath(new URL('../examples/naive-redis-lock.ts', import.meta.url)),
  ].map(async (ref) => ({ ref, definition: await loadSubject(ref) })),
);

describe('the library, live, on all seven systems', { skip: !liveEnabled() && 'LIVE is not set' }, () => {
  let cluster: Cluster;
  let logDir = '';
  const results = new Map<LivePlanItem, Promise<LiveRunOutput>>();
  const scenarios = loadScenarios([LIBRARY]).filter(({ scenario }) => SCENARIOS.includes(scenario.name));
  // A hold partition on a database link: the live harness must end the session as the server's
  // keepalive would (Toxiproxy answers keepalives itself), or these come out safe.
  const holds = loadScenarios([LIBRARY]).filter(({ scenario }) =>
    ['delayed-packets', 'leader-isolated'].includes(scenario.name),
  );
  // A server crashed and restarted at once, without its data: the restart must follow the crash.
  const restart = loadScenarios([LIBRARY]).filter(
    ({ scenario }) => scenario.name === 'redlock-restart-without-persistence',
  );
  // A pause at the `writing` trigger: the client asks the harness before its write and waits for the SIGSTOP.
  const beforeWrite = loadScenarios([LIBRARY]).filter(({ scenario }) => scenario.name === 'pause-after-careful-check');
  // A failover under Sentinel: the primary crashed just after a grant, or cut off with one client (split brain).
  const sentinel = loadScenarios([LIBRARY]).filter(({ scenario }) =>
    ['sentinel-crash-after-grant', 'sentinel-split-brain'].includes(scenario.name),
  );
  const items = [
    ...livePlan({ scenarios, systems: [...SYSTEMS], subjects: [], fencing: 'both' }),
    ...livePlan({ scenarios: beforeWrite, systems: ['redis', 'postgres'], subjects: [], fencing: 'off' }),
    ...livePlan({ scenarios: holds, systems: ['postgres', 'mysql'], subjects: [], fencing: 'off' }),
    ...livePlan({ scenarios: restart, systems: ['redlock'], subjects: [], fencing: 'off' }),
    ...livePlan({ scenarios: sentinel, systems: ['redis-sentinel'], subjects: [], fencing: 'both' }),
    ...livePlan({
      scenarios: scenarios.filter(({ scenario }) => scenario.name === 'no-faults'),
      systems: [...SYSTEMS],
      subjects: SUBJECTS,
      fencing: 'off',
    }).filter((i) => i.subject !== null),
  ];

  before(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'lockstep-library-live-'));
    cluster = await openCluster({ provider: 'local' }, SYSTEMS, 2000);
    // Runs whose faults touch only their own clients start as soon as one of the CONCURRENT_RUNS
    // slots is free; a run that crashes a server goes alone afterwards. Tests await their own.
    const settled = new Map<LivePlanItem, { resolve: (r: LiveRunOutput) => void; reject: (e: unknown) => void }>();
    for (const item of items)
      results.set(item, new Promise((resolve, reject) => settled.set(item, { resolve, reject })));
    // A run the harness declared void because the machine forwarded a grant too late (its notes
    // say so) is run once more, alone, after the others: that is the machine, not the lock.
    const retry: LivePlanItem[] = [];
    const late = (result: LiveRunResult) =>
      result.verdict === 'unknown' && result.notes.some((n) => n.includes('too busy'));
    const run = (item: LivePlanItem, again = false) =>
      runLive({
        ...item,
        seed: 1,
        cluster,
        runIndex: items.indexOf(item) + 1 + (again ? items.length : 0),
        logDir,
      }).then(
        (output) => (!again && late(output.result) ? void retry.push(item) : settled.get(item)!.resolve(output)),
        (error: unknown) => settled.get(item)!.reject(error),
      );
    const shared = items.filter((i) => touchesOnlyClients(i.scenario.faults, cluster.servers(i.system).length));
    const alone = items.filter((i) => !shared.includes(i));
    let next = 0;
    const worker = async () => {
      while (next < shared.length) await run(shared[next++]!);
    };
    void Promise.all(Array.from({ length: CONCURRENT_RUNS }, worker)).then(async () => {
      for (const item of alone) await run(item);
      for (const item of retry) await run(item, true);
    });
  });

  after(async () => {
    await Promise.allSettled(results.values());
    // before() may have failed before it started the cluster.
    await (cluster as Cluster | undefined)?.stop();
    rmSync(logDir, { recursive: true, force: true });
  });

  for (const item of items) {
    const label = `${item.scenario.name} on ${item.subject ?? item.system}, fencing ${item.fencing ? 'on' : 'off'}`;
    it(label, async () => {
      const { result, history } = await results.get(item)!;
      const explain = `${label}: ${result.verdict}, expected ${result.expected}; metrics ${JSON.stringify(result.metrics)}; notes ${result.notes.join(' | ')}\n${faultStory(history)}`;
      assert.ok(result.metrics !== null && result.metrics.acquisitions > 0, `nothing was acquired: ${explain}`);
      // Where the scenario sets no expectation (RedLock fenced, the subjects) the run must still have a verdict.
      if (result.expected !== null) assert.equal(result.expectationMet, true, explain);
      else assert.ok(result.verdict === 'safe' || result.verdict === 'unsafe', explain);
      if (beforeWrite.some(({ scenario }) => scenario === item.scenario))
        assert.ok(
          heldBack(history, item.scenario.faults[0]?.forMs ?? 0),
          `the write left before the pause: ${explain}`,
        );
    });
  }
});

/**
 * Whether the paused client's next write was sent only once its pause was over. The harness
 * records the heal just after it sends SIGCONT, so the resumed client's own record of its write
 * may come a fraction of a millisecond before that; the pause's length is the yardstick, within
 * HEAL_SLACK_MS. A write that left before the pause would be stamped about when it began.
 */
function heldBack(history: readonly Op[], pauseMs: number): boolean {
  const start = history.find((op) => op.f === 'fault-start');
  const client = /^pause (c\d+)$/.exec(start?.detail ?? '')?.[1];
  if (start === undefined || client === undefined) return false;
  const write = history.find(
    (op) => op.process === client && op.f === 'write' && op.type === 'invoke' && op.timeMs >= start.timeMs,
  );
  return write !== undefined && write.timeMs >= start.timeMs + pauseMs - HEAL_SLACK_MS;
}

/**
 * What happened around each fault, for a run that missed its expectation: the nemesis's steps and
 * every operation of the clients they named (of every client, when a selector such as `holder`
 * named none), from a little before the fault to a little after; other clients' grants in between.
 */
function faultStory(history: readonly Op[]): string {
  const faults = history.filter((op) => op.process === NEMESIS);
  if (faults.length === 0) return 'no fault fired';
  const from = faults[0]!.timeMs - 500;
  const to = faults[faults.length - 1]!.timeMs + 1000;
  const named = new Set(faults.flatMap((op) => (op.detail ?? '').match(/\bc\d+\b/g) ?? []));
  const near = (op: Op) => faults.some((f) => op.timeMs >= f.timeMs - 300 && op.timeMs <= f.timeMs + 1500);
  const told = (op: Op) => (named.size === 0 ? near(op) : named.has(op.process));
  return history
    .filter(
      (op) =>
        op.timeMs >= from &&
        op.timeMs <= to &&
        (op.process === NEMESIS || told(op) || (op.type === 'ok' && op.f === 'acquire')),
    )
    .map(
      (op) =>
        `${op.timeMs.toFixed(1)} ${op.process} ${op.type} ${op.f}${op.value === undefined ? '' : ` ${op.value}`}${op.token == null ? '' : ` token ${op.token}`}${op.error ? ` (${op.error})` : ''}${op.detail ? ` [${op.detail}]` : ''}`,
    )
    .join('\n');
}
