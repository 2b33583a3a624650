import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judgeConsistency } from './claims.ts';
import type { LoadedRun } from './load.ts';
import {
  boxPoints,
  comparison,
  safetyRows,
  sharedScenarios,
  speedScope,
  unsafeGroups,
  verdictMatrix,
  type Cell,
} from './model.ts';
import { cellText, consistencyLines, speedLines } from './wording.ts';

/** A judged run (safe unless told otherwise) with metrics, as results.json holds it. */
function run(fields: Partial<LoadedRun> & { lost?: number; p50?: number }): LoadedRun {
  const { lost = 0, p50 = 10, ...rest } = fields;
  const verdict = rest.verdict ?? (lost > 0 ? 'unsafe' : 'safe');
  return {
    scenario: 'no-faults',
    system: 'redis',
    fencing: false,
    seed: 1,
    mode: 'sim',
    expected: null,
    expectationMet: null,
    skipped: null,
    simulatedMs: 1000,
    dir: '/nowhere',
    metrics:
      verdict === 'skipped'
        ? null
        : {
            lostUpdates: lost,
            staleWritesAccepted: lost,
            staleWritesRejected: 0,
            overlaps: 0,
            acquisitions: 10,
            acquireFailures: 0,
            acquireLatencyMs: { p50, p95: p50, p99: p50 * 2, max: p50 * 3 },
            unavailableMs: 0,
          },
    ...rest,
    verdict,
  };
}

/** Both fencing settings of one system in one scenario. */
function both(fields: Parameters<typeof run>[0], fencedLost = 0): LoadedRun[] {
  return [run({ ...fields, fencing: false }), run({ ...fields, fencing: true, lost: fencedLost })];
}

const MINORITY = 'selector minority: a single server has no minority';

describe('the latency box plot data', () => {
  it('reduces samples to min, quartiles interpolated as Vega does (R-7), and max', () => {
    assert.deepEqual(boxPoints([4, 1, 3, 2]), [1, 1.75, 2.5, 3.25, 4]);
    assert.deepEqual(boxPoints([7]), [7, 7, 7, 7, 7]);
    assert.deepEqual(boxPoints([]), []);
  });

  it('gives the box of five points back unchanged, so Vega draws from them the box of every sample', () => {
    const samples = Array.from({ length: 1001 }, (_, i) => (i * 7919) % 1001);
    const points = boxPoints(samples);
    assert.deepEqual(boxPoints(points), points);
  });
});

describe('skipped runs', () => {
  const runs = [
    run({ scenario: 'minority-cut', verdict: 'skipped', skipped: MINORITY }),
    run({ scenario: 'minority-cut', fencing: true, verdict: 'skipped', skipped: MINORITY }),
    ...both({ scenario: 'minority-cut', system: 'etcd' }),
    ...both({ scenario: 'no-faults', system: 'etcd' }),
  ];

  it('make a matrix cell "not run" with the reason, never safe', () => {
    const cell = verdictMatrix(runs)[0]?.cells.get('redis/off')?.sim;
    assert.equal(cell?.verdict, 'skipped');
    assert.equal(cellText(cell), `not run: ${MINORITY}`);
  });

  it('leave a system that ran nothing out of the damage rows and the speed figures, instead of a 0', () => {
    assert.deepEqual(sharedScenarios(runs, 'sim'), [], 'redis judged no scenario, so none is shared');
    assert.ok(!safetyRows(runs, 'sim').some((row) => row.system === 'redis'));
    const redis = comparison(runs).find((row) => row.system === 'redis');
    assert.ok(redis !== undefined);
    assert.deepEqual(redis.p50Ms, {});
    assert.deepEqual(speedLines(redis), ['no judged run to time']);
  });

  it('read "not run: <reason>" in the comparison, and nowhere "safe"', () => {
    const redis = comparison(runs).find((row) => row.system === 'redis')!;
    const lines = consistencyLines(redis);
    assert.deepEqual(lines, [
      `sim, unfenced: not run: ${MINORITY} (minority-cut)`,
      `sim, fenced: not run: ${MINORITY} (minority-cut)`,
    ]);
    assert.ok(!lines.some((line) => /\bsafe\b/.test(line)));
  });

  it('keep a cell of safe and skipped seeds from reading as safe in every seed', () => {
    const cell = verdictMatrix([
      run({ seed: 1 }),
      run({ seed: 2, verdict: 'skipped', skipped: 'no provider' }),
      run({ seed: 3, verdict: 'unknown' }),
    ])[0]?.cells.get('redis/off')?.sim;
    assert.ok(cell !== undefined);
    assert.equal(cell.verdict, 'unknown');
    assert.equal(cellText(cell), 'unknown in 1 of 3 seeds, 1 safe, 1 not run: no provider');
  });
});

describe('matrix cells of several seeds', () => {
  const cellOf = (runs: LoadedRun[]): Cell => verdictMatrix(runs)[0]!.cells.get('redis/off')!.sim!;
  const seeds = (unsafe: number, total: number) =>
    Array.from({ length: total }, (_, i) => run({ seed: i + 1, lost: i < unsafe ? 1 : 0 }));

  it('read "unsafe in K of N seeds" and "safe in N of N seeds"', () => {
    assert.equal(cellText(cellOf(seeds(3, 20))), 'unsafe in 3 of 20 seeds, lost 3');
    assert.equal(cellText(cellOf(seeds(0, 20))), 'safe in 20 of 20 seeds');
    assert.equal(cellText(cellOf(seeds(1, 1))), 'unsafe, lost 1');
  });

  it('of a mechanism without a sound token never read safe', () => {
    assert.equal(cellText(cellOf(seeds(0, 20)), { unproven: true }), 'no damage seen in 20 of 20 seeds');
  });
});

describe('the consistency claims', () => {
  const unsafeUnfenced = ['leader-isolated (sim)'];

  it('judge a strong claim by the fenced runs: unsafe unfenced runs are a note, not a contradiction', () => {
    const judged = judgeConsistency({
      claimed: { consistency: 'strong' },
      tokenSound: true,
      unsafeUnfenced,
      unsafeFenced: [],
      judgedFenced: ['leader-isolated'],
    });
    assert.deepEqual(judged.contradictions, []);
    assert.equal(judged.notes.length, 1);
    assert.match(judged.notes[0]!, /^unsafe without fencing in leader-isolated \(sim\)/);
  });

  it('contradict a strong claim with an unsafe fenced run', () => {
    const judged = judgeConsistency({
      claimed: { consistency: 'strong' },
      tokenSound: true,
      unsafeUnfenced: [],
      unsafeFenced: ['db-connection-cut (sim)'],
      judgedFenced: ['db-connection-cut'],
    });
    assert.deepEqual(judged.contradictions, ['claimed strong, but unsafe with fencing in db-connection-cut (sim)']);
  });

  it('state unsafe unfenced runs in the same words whatever the claim', () => {
    const notes = (claimed?: { consistency: 'strong' | 'medium' }) =>
      judgeConsistency({
        ...(claimed === undefined ? {} : { claimed }),
        tokenSound: true,
        unsafeUnfenced,
        unsafeFenced: [],
        judgedFenced: [],
      }).notes[0];
    assert.ok(notes() !== undefined);
    assert.equal(notes({ consistency: 'strong' }), notes());
    assert.equal(notes({ consistency: 'medium' }), notes());
  });

  it('contradict a medium claim with any unsafe run, and name the unsound token', () => {
    const fencedOnly = judgeConsistency({
      claimed: { consistency: 'medium' },
      tokenSound: false,
      unsafeUnfenced: [],
      unsafeFenced: ['redlock-restart-without-persistence (sim)'],
      judgedFenced: ['redlock-restart-without-persistence'],
    });
    assert.deepEqual(fencedOnly.contradictions, [
      'claimed medium, but unsafe in redlock-restart-without-persistence (sim) fenced (no sound token)',
    ]);
    const unfencedOnly = judgeConsistency({
      claimed: { consistency: 'medium' },
      tokenSound: false,
      unsafeUnfenced,
      unsafeFenced: [],
      judgedFenced: [],
    });
    assert.deepEqual(unfencedOnly.contradictions, ['claimed medium, but unsafe in leader-isolated (sim) unfenced']);
  });

  it('in the comparison: ZooKeeper safe fenced is not flagged, RedLock unsafe fenced is, and its fenced line never reads safe', () => {
    const runs = [
      ...both({ scenario: 'leader-isolated', system: 'zookeeper', lost: 1 }),
      ...both({ scenario: 'leader-isolated', system: 'redlock', fencingSound: false }),
      ...both({ scenario: 'redlock-restart', system: 'redlock', fencingSound: false, lost: 1 }, 1),
    ];
    const rows = comparison(runs);
    const zookeeper = rows.find((r) => r.system === 'zookeeper')!;
    const redlock = rows.find((r) => r.system === 'redlock')!;
    assert.deepEqual(zookeeper.contradictions, []);
    assert.match(zookeeper.notes.join(), /unsafe without fencing in leader-isolated \(sim\)/);
    assert.equal(redlock.tokenSound, false);
    assert.match(redlock.contradictions.join(), /claimed medium, but unsafe in .*redlock-restart \(sim\) fenced/);
    const fenced = consistencyLines(redlock).find((line) => line.startsWith('sim, fenced'))!;
    assert.match(fenced, /no sound token/);
    assert.doesNotMatch(fenced, /\bsafe\b/);
  });
});

describe('figures that compare systems', () => {
  // No no-faults runs, so speed too is read from the shared scenarios.
  const shared = [
    ...both({ scenario: 'gc-pause', system: 'redis', lost: 2, p50: 20 }),
    ...both({ scenario: 'gc-pause', system: 'zookeeper', lost: 1, p50: 30 }),
    ...both({ scenario: 'delayed', system: 'redis', p50: 40 }),
    ...both({ scenario: 'delayed', system: 'zookeeper', p50: 50 }),
  ];
  const dedicated = [...shared, ...both({ scenario: 'zk-session-expiry', system: 'zookeeper', lost: 24, p50: 9000 })];

  it('are not moved by a scenario only one system ran', () => {
    assert.deepEqual(sharedScenarios(dedicated, 'sim'), ['delayed', 'gc-pause']);
    assert.deepEqual(safetyRows(dedicated, 'sim'), safetyRows(shared, 'sim'));
    assert.deepEqual(speedScope(dedicated, 'sim'), speedScope(shared, 'sim'));
    const speed = (runs: LoadedRun[]) =>
      comparison(runs).map((r) => [r.system, r.p50Ms, r.p99Ms, r.acquisitionsPerSec, r.contradictions]);
    assert.deepEqual(speed(dedicated), speed(shared));
  });

  it("keep the dedicated scenario in its own system's line, apart from the shared ones", () => {
    const zookeeper = comparison(dedicated).find((r) => r.system === 'zookeeper')!;
    assert.equal(
      consistencyLines(zookeeper)[0],
      'sim, unfenced: unsafe in 1 of the 2 shared scenarios (gc-pause); in scenarios not every system ran: unsafe in zk-session-expiry',
    );
  });

  it('keep live speed figures in a merged report, even where live ran no no-faults', () => {
    const merged = [
      ...both({ scenario: 'no-faults', system: 'redis', p50: 5 }),
      ...both({ scenario: 'gc-pause', system: 'redis', p50: 50, mode: 'live' }),
    ];
    const redis = comparison(merged)[0]!;
    assert.deepEqual(redis.p50Ms, { sim: 5, live: 50 });
    assert.deepEqual(speedLines(redis), [
      'sim: p50 5 ms, p99 10 ms, 10 acquisitions/s',
      'live: p50 50 ms, p99 100 ms, 10 acquisitions/s',
    ]);
  });

  it("say when two systems' simulated figures come from one shared model", () => {
    const runs = [...both({ system: 'postgres' }), ...both({ system: 'mysql' })];
    const [postgres, mysql] = comparison(runs);
    assert.match(
      speedLines(postgres!).join('\n'),
      /one model shared with MySQL GET_LOCK \(backends\/shared\/dbsession\)/,
    );
    assert.match(speedLines(mysql!).join('\n'), /one model shared with PostgreSQL advisory lock/);
    assert.equal(comparison([...both({ system: 'postgres' })])[0]?.sharesSimModel, null, 'not without the other');
  });
});

describe('timelines of many seeds', () => {
  it('are one per unsafe cell, from its first unsafe seed, counting the unsafe seeds', () => {
    const runs = [1, 2, 3, 4].map((seed) => run({ seed, lost: seed >= 3 ? 1 : 0 }));
    runs.push(run({ seed: 1, fencing: true }));
    const groups = unsafeGroups([...runs].reverse());
    assert.equal(groups.length, 1);
    const [group] = groups;
    assert.ok(group !== undefined);
    assert.deepEqual([group.run.seed, group.unsafe, group.runs], [3, 2, 4]);
  });
});
