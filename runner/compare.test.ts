import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SYSTEM_IDS } from '../backends/recipe.ts';
import { scenarioSchema, selectorsOf, type Scenario } from '../scenarios/schema.ts';
import {
  CLIENT_SELECTORS,
  DEFAULT_WORKLOAD,
  fitSchedule,
  logUniform,
  scheduleArbitrary,
  SERVER_SELECTORS,
  wilson,
} from './campaign.ts';
import { RunPool } from './check-pool.ts';
import { compare, type CompareOptions, type CompareOutcome } from './compare.ts';
import { summarizeRun, type RunRequest, type RunSummary } from './run-summary.ts';
import { compareFileSchema } from './compare-file.ts';
import { runScenario } from './run.ts';
import { loadSubject } from '../subjects/index.ts';

async function serially(requests: readonly RunRequest[]): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const request of requests) out.push(await summarizeRun(request));
  return out;
}

function schedule(faults: unknown[]): Scenario {
  return scenarioSchema.parse({
    name: 'campaign-schedule',
    description: 'test',
    clients: 3,
    durationMs: 2000,
    lock: { ttlMs: 1000, holdMs: 250, thinkMs: 50 },
    faults,
  });
}

describe('the campaign space', () => {
  it('names nodes only through selectors every deployment has', () => {
    const allowed = new Set<string>([...CLIENT_SELECTORS, ...SERVER_SELECTORS]);
    for (const s of fc.sample(scheduleArbitrary(DEFAULT_WORKLOAD), { seed: 7, numRuns: 300 }))
      for (const fault of s.faults)
        for (const selector of selectorsOf(fault)) assert.ok(allowed.has(selector), selector);
  });

  it('applies nearly every schedule to every system: nothing is left not applicable in 300 draws', () => {
    const schedules = fc.sample(scheduleArbitrary(DEFAULT_WORKLOAD), { seed: 3, numRuns: 300 });
    for (const system of SYSTEM_IDS)
      for (const fencing of [false, true]) {
        const reasons = schedules.flatMap((s) => fitSchedule(s, system, fencing).notApplicable ?? []);
        assert.deepEqual(reasons, [], `${system} fencing ${fencing}`);
      }
  });

  it('draws durations on a log scale: a short restart is as likely as a long one', () => {
    const values = fc.sample(logUniform(0, 3000), { seed: 1, numRuns: 2000 });
    assert.ok(values.every((v) => Number.isInteger(v) && v >= 0 && v <= 3000));
    const short = values.filter((v) => v < 100).length / values.length;
    // Uniform would give 3%; on a log scale from 1 to 3000 ms, about 57%.
    assert.ok(short > 0.4 && short < 0.7, `share under 100 ms: ${short}`);
  });
});

describe('fitting a schedule to a system', () => {
  it('takes a fault on a minority out on a single server, and says so; keeps it on three', () => {
    const s = schedule([
      { at: 100, pause: 'minority', forMs: 500 },
      { at: 200, pause: 'holder', forMs: 300 },
    ]);
    const single = fitSchedule(s, 'postgres', false);
    assert.equal(single.scenario?.faults.length, 1);
    assert.equal(single.scenario.faults[0]!.pause, 'holder');
    assert.match(single.scenario.description, /minority of the servers, which on a single server is nobody/);
    assert.equal(fitSchedule(s, 'etcd', false).scenario?.faults.length, 2);
  });

  it('aims leader at one of RedLock peers and at the server of a single-server system', () => {
    const s = schedule([{ at: 100, crash: 'leader', restartAfterMs: 10 }]);
    assert.equal(fitSchedule(s, 'redlock', true).scenario?.faults[0]?.crash, 'one');
    assert.equal(fitSchedule(s, 'redis', true).scenario?.faults[0]?.crash, 'leader');
    assert.equal(fitSchedule(s, 'zookeeper', true).scenario?.faults[0]?.crash, 'leader');
  });

  it('restarts without the disk only where the system has that choice (an absent persist is no disk)', () => {
    const s = schedule([{ at: 100, crash: 'one', restartAfterMs: 0 }]);
    assert.equal(fitSchedule(s, 'redis', true).scenario?.faults[0]?.persist, undefined);
    assert.equal(fitSchedule(s, 'redlock', true).scenario?.faults[0]?.persist, undefined);
    for (const system of ['zookeeper', 'etcd', 'postgres', 'mysql'] as const)
      assert.equal(fitSchedule(s, system, true).scenario?.faults[0]?.persist, true, system);
  });

  it('counts a schedule that cannot apply as not applicable, with its reason', () => {
    // server-4 is not in the campaign space; a schedule from elsewhere that names it cannot apply to one server.
    const fitted = fitSchedule(schedule([{ at: 100, pause: 'server-4', forMs: 100 }]), 'redis', false);
    assert.equal(fitted.scenario, null);
    assert.match(fitted.notApplicable, /server-4/);
  });
});

describe('the Wilson interval', () => {
  it('matches published values', () => {
    const [low, high] = wilson(5, 10);
    assert.ok(Math.abs(low - 0.2366) < 1e-4 && Math.abs(high - 0.7634) < 1e-4, `${low} ${high}`);
    const [zeroLow, zeroHigh] = wilson(0, 500);
    assert.equal(zeroLow, 0);
    assert.ok(Math.abs(zeroHigh - 0.0076) < 1e-4, String(zeroHigh));
    assert.deepEqual(wilson(0, 0), [0, 1]);
  });
});

describe('compare', () => {
  const small: Omit<CompareOptions, 'summaries'> = {
    schedules: 12,
    seed: 5,
    systems: ['redis', 'etcd', 'postgres'],
    workload: { ...DEFAULT_WORKLOAD, durationMs: 3000 },
    shrinkBudget: 20,
  };

  it('gives the same cells and counterexamples with two workers as on one thread', async () => {
    const pool = new RunPool(2);
    try {
      const parallel = await compare({ ...small, summaries: (r) => pool.summaries(r) });
      const serial = await compare({ ...small, summaries: serially });
      assert.deepEqual(parallel.cells, serial.cells);
      assert.deepEqual(
        parallel.counterexamples.map((c) => c.summary.traceHash),
        serial.counterexamples.map((c) => c.summary.traceHash),
      );
    } finally {
      await pool.close();
    }
  });

  it('runs every schedule on every system and fencing, and never counts an unjudged run as safe', async () => {
    const outcome = await compare({ ...small, summaries: serially });
    assert.equal(outcome.cells.length, small.systems.length * 2);
    for (const cell of outcome.cells) {
      assert.equal(cell.runs + cell.notApplicable + cell.unknown, small.schedules, `${cell.system} ${cell.fencing}`);
      if (cell.runs > 0) assert.equal(cell.unsafeFraction, Math.round((cell.unsafe / cell.runs) * 10_000) / 10_000);
      assert.ok(cell.interval[0] <= (cell.unsafeFraction ?? 0) && (cell.unsafeFraction ?? 1) <= cell.interval[1]);
    }
    for (const counterexample of outcome.counterexamples) {
      const replay = await summarizeRun({
        scenario: counterexample.scenario,
        seed: small.seed,
        system: counterexample.system,
        fencing: counterexample.fencing === 'on',
      });
      assert.equal(replay.verdict, 'unsafe', `${counterexample.system} ${counterexample.fencing} replays unsafe`);
      assert.equal(replay.traceHash, counterexample.summary.traceHash);
    }
  });

  it('counts a run without a verdict as unknown: no fraction, never safe', async () => {
    const outcome = await compare({
      ...small,
      schedules: 3,
      systems: ['redis'],
      summaries: async (requests) => (await serially(requests)).map((s) => ({ ...s, verdict: 'unknown' as const })),
    });
    for (const cell of outcome.cells) {
      assert.equal(cell.runs, 0);
      assert.equal(cell.unknown, 3);
      assert.equal(cell.unsafeFraction, null);
      assert.deepEqual(cell.interval, [0, 1]);
    }
  });
});

describe('compare with a subject', () => {
  // Seed 6: redlock-v4 is unsafe in one of the six schedules unfenced, lockstep's RedLock in none.
  const campaign: Omit<CompareOptions, 'summaries'> = {
    schedules: 6,
    seed: 6,
    systems: ['redlock'],
    workload: { ...DEFAULT_WORKLOAD, durationMs: 3000 },
    shrinkBudget: 10,
  };
  const ref = 'redlock-v4';
  /** The campaign with the subject, run once for the tests below, and its campaign's requests. */
  let once: Promise<{ outcome: CompareOutcome; requests: readonly RunRequest[] }> | undefined;
  const withSubject = () =>
    (once ??= (async () => {
      const batches: (readonly RunRequest[])[] = [];
      const subjects = [{ ref, definition: await loadSubject(ref) }];
      const outcome = await compare({
        ...campaign,
        subjects,
        summaries: (batch) => {
          batches.push(batch);
          return serially(batch);
        },
      });
      // Six schedules fit one batch: the first is the whole campaign, the rest are shrinks.
      return { outcome, requests: batches[0] ?? [] };
    })());
  const cell = (cells: CompareOutcome['cells'], label: string, fencing: 'off' | 'on') => {
    const found = cells.find((c) => (c.subject ?? c.system) === label && c.fencing === fencing);
    assert.ok(found !== undefined, `${label} ${fencing}`);
    return found;
  };

  it('gives the subject cells of its own, run on exactly the schedules its system faced, fitted to it', async () => {
    const { outcome, requests } = await withSubject();
    assert.deepEqual(
      outcome.cells.map((c) => `${c.subject ?? c.system}/${c.fencing}`),
      ['redlock/off', 'redlock/on', 'redlock-v4/off', 'redlock-v4/on'],
    );
    const own = cell(outcome.cells, 'redlock', 'off');
    const subject = cell(outcome.cells, ref, 'off');
    assert.equal(subject.system, 'redlock');
    assert.equal(subject.subjectFile, undefined, 'a built-in is named, not a file');
    assert.equal(subject.runs + subject.unknown, own.runs + own.unknown);
    assert.deepEqual(subject.notApplicableReasons, own.notApplicableReasons);
    assert.ok(subject.unsafe > 0 && own.unsafe === 0, 'this seed tells the library from the recipe');
    // Every campaign run of the subject has its twin among the recipe's: the same fitted scenario and seed.
    const subjectRuns = requests.filter((r) => r.subject === ref);
    assert.equal(subjectRuns.length, campaign.schedules, 'unfenced only: fenced, it has no token');
    const ownRuns = requests.filter((r) => r.subject === undefined && !r.fencing);
    assert.deepEqual(
      subjectRuns.map((r) => ({ scenario: r.scenario, seed: r.seed, system: r.system, fencing: r.fencing })),
      ownRuns,
    );
  });

  it('counts its fenced cell not applicable, with the reason, and never safe, since it gives no token', async () => {
    const { outcome } = await withSubject();
    const fenced = cell(outcome.cells, ref, 'on');
    assert.equal(fenced.runs, 0);
    assert.equal(fenced.unsafeFraction, null);
    assert.equal(fenced.fencingSound, false);
    assert.equal(fenced.notApplicable, campaign.schedules);
    assert.deepEqual(fenced.notApplicableReasons, [
      { reason: `subject ${ref} gives no fencing token`, schedules: campaign.schedules },
    ]);
    assert.ok(outcome.verdicts.get(`${ref}/on`)?.every((v) => v === null));
    assert.ok(outcome.speed.some((s) => s.subject === ref && s.system === 'redlock' && s.uncontendedRounds > 0));
  });

  it("shrinks the subject's first unsafe schedule to a counterexample that replays unsafe with the subject", async () => {
    const { outcome } = await withSubject();
    const counterexample = outcome.counterexamples.find((c) => c.subject === ref);
    assert.ok(counterexample !== undefined);
    assert.equal(counterexample.schedule, cell(outcome.cells, ref, 'off').firstUnsafe);
    const { result } = await runScenario({
      scenario: counterexample.scenario,
      system: counterexample.system,
      fencing: counterexample.fencing === 'on',
      seed: campaign.seed,
      subject: ref,
    });
    assert.equal(result.verdict, 'unsafe');
    assert.equal(result.traceHash, counterexample.summary.traceHash);
  });

  it("leaves the systems' cells, counterexamples and speed as they are without it", async () => {
    const { outcome } = await withSubject();
    const alone = await compare({ ...campaign, summaries: serially });
    assert.deepEqual(
      outcome.cells.filter((c) => c.subject === undefined),
      alone.cells,
    );
    assert.deepEqual(
      outcome.counterexamples.filter((c) => c.subject === undefined),
      alone.counterexamples,
    );
    assert.deepEqual(
      outcome.speed.filter((s) => s.subject === undefined),
      alone.speed,
    );
    assert.deepEqual(outcome.schedules, alone.schedules);
  });

  it('refuses a subject whose system the campaign leaves out', async () => {
    const definition = await loadSubject(ref);
    await assert.rejects(
      compare({ ...campaign, systems: ['redis'], subjects: [{ ref, definition }], summaries: serially }),
      /subject redlock-v4 runs on redlock, which the campaign leaves out/,
    );
  });
});

/**
 * What theory predicts for the default campaign (500 schedules, seed 1), with no expectation
 * tuned to it: without fencing every lease-based lock is unsafe sometimes; fenced, ZooKeeper, etcd
 * and the databases never are; fenced Redis is, since a restart without persistence resets its
 * INCR counter; RedLock's token is marked unsound.
 */
describe('the default campaign finds what theory predicts', () => {
  it('unfenced all unsafe sometimes; fenced ZooKeeper, etcd, PostgreSQL, MySQL never; fenced Redis sometimes', async () => {
    const pool = new RunPool(2);
    try {
      const outcome = await compare({
        schedules: 500,
        seed: 1,
        systems: [...SYSTEM_IDS],
        workload: DEFAULT_WORKLOAD,
        summaries: (r) => pool.summaries(r),
        shrinkBudget: 5,
      });
      const cell = (system: string, fencing: 'off' | 'on') => {
        const found = outcome.cells.find((c) => c.system === system && c.fencing === fencing);
        assert.ok(found !== undefined, `${system} ${fencing}`);
        return found;
      };
      for (const system of SYSTEM_IDS) assert.ok(cell(system, 'off').unsafe > 0, `${system} unfenced`);
      for (const system of ['zookeeper', 'etcd', 'postgres', 'mysql'])
        assert.equal(cell(system, 'on').unsafe, 0, `${system} fenced`);
      assert.ok(cell('redis', 'on').unsafe > 0, 'redis fenced: its token resets with a restart without persistence');
      assert.equal(cell('redlock', 'on').fencingSound, false);
      const redis = outcome.counterexamples.find((c) => c.system === 'redis' && c.fencing === 'on');
      assert.ok(
        redis?.scenario.faults.some((f) => f.crash !== undefined && f.persist !== true),
        'the fenced Redis counterexample restarts a server without its disk',
      );
    } finally {
      await pool.close();
    }
  });
});

describe('compare.json', () => {
  it('refuses a cell whose fraction is not a fraction', () => {
    const file = {
      formatVersion: 1,
      tool: { name: 'lockstep', version: '0' },
      seed: 1,
      workload: { ...DEFAULT_WORKLOAD },
      systems: ['redis'],
      live: 0,
      speed: [],
      schedules: [],
      cells: [
        {
          system: 'redis',
          fencing: 'off',
          fencingSound: true,
          runs: 1,
          notApplicable: 0,
          notApplicableReasons: [],
          unknown: 0,
          unsafe: 1,
          unsafeFraction: 7,
          interval: [0, 1],
          ackedWrites: 1,
          lostUpdates: 0,
          staleWritesAccepted: 0,
          lostPer1000: 0,
          stalePer1000: 0,
          unavailableFraction: 0,
          takeoverMs: null,
          firstUnsafe: 0,
          counterexample: null,
          replay: null,
        },
      ],
    };
    const parsed = compareFileSchema.safeParse(file);
    assert.equal(parsed.success, false);
    assert.deepEqual(parsed.error.issues[0]!.path, ['cells', 0, 'unsafeFraction']);
  });
});
