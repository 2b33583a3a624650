import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScenario } from '../scenarios/loader.ts';
import { BudgetExceededError } from '../sim/errors.ts';
import type { FaultTarget } from '../faults/kind.ts';
import { History, type Op, type RegisterWrite } from './history.ts';
import { graceMs, runWorld } from './loop.ts';
import { runScenario } from './run.ts';
import { scenarioSchema } from '../scenarios/schema.ts';
import type { Measured, World } from './world.ts';

const scenarioWith = (faults: string, expect = '  - { system: redis, fencing: off, verdict: safe }') =>
  parseScenario(
    `
name: fake
description: the loop against a scripted world
clients: 2
durationMs: 5000
lock: { ttlMs: 1000, holdMs: 100, thinkMs: 50 }
faults:
${faults}
expect:
${expect}
`,
    'inline.yaml',
  );

const PAUSE_C1 = '  - { at: 1000, pause: c1, forMs: 500 }';
const write = (timeMs: number, process: string): RegisterWrite => ({
  timeMs,
  process,
  value: 1,
  token: null,
  accepted: true,
});

/** c1 then c2 hold the lock in turn; with `overlap`, c2 is granted it while c1 still holds it, and one write is lost. */
type Script = 'in turn' | 'overlap';

/** A world whose verbs record what the loop asked of it, and whose workload writes a scripted history. */
class FakeWorld implements World<{ fake: true }> {
  readonly mode = 'sim';
  readonly sim = null;
  readonly servers = ['server-1'];
  readonly clients = ['c1', 'c2'];
  readonly sentinels = [];
  readonly nodes = ['server-1', 'register', 'c1', 'c2'];
  readonly notes: string[] = [];
  readonly calls: string[] = [];
  readonly expectationsApply = true;
  readonly register: { writes: RegisterWrite[]; value: number } = { writes: [], value: 0 };
  nowMs = 0;
  readonly history = new History(() => this.nowMs);
  private readonly timers: { atMs: number; fire: () => void }[] = [];
  private readonly paused = new Set<string>();
  readonly target: FaultTarget;

  constructor(
    private readonly script: Script,
    private readonly options: { whyNot?: string; throwOnRun?: Error; unknownBecause?: string } = {},
  ) {
    const verb =
      (name: string) =>
      (...args: unknown[]) =>
        void this.calls.push(`${name} ${args.join(' ')}`);
    const now = () => this.nowMs;
    this.target = {
      get nowMs() {
        return now();
      },
      pause: (node) => {
        this.paused.add(node);
        verb('pause')(node);
      },
      resume: (node) => {
        this.paused.delete(node);
        verb('resume')(node);
      },
      crash: verb('crash'),
      restart: verb('restart'),
      isCrashed: () => false,
      isPaused: (node) => this.paused.has(node),
      partition: verb('partition'),
      heal: verb('heal'),
      delay: verb('delay'),
      loss: verb('loss'),
      jumpClock: verb('jumpClock'),
      setDrift: verb('setDrift'),
      at: (atMs, fire) => void this.timers.push({ atMs, fire }),
    };
  }

  whyNot() {
    return this.options.whyNot ?? null;
  }
  start() {
    this.calls.push('start');
    return Promise.resolve();
  }
  leader() {
    return 'server-1';
  }
  afterGrant() {}
  afterAttempt() {}
  afterWriting() {}
  /** Fires the scheduled faults in time order, including heals they schedule, and writes the script. */
  run(durationMs: number) {
    this.calls.push(`run ${durationMs}`);
    if (this.options.throwOnRun !== undefined) return Promise.reject(this.options.throwOnRun);
    for (let next = this.nextTimer(durationMs); next !== undefined; next = this.nextTimer(durationMs)) {
      this.nowMs = next.atMs;
      next.fire();
    }
    this.perform();
    return Promise.resolve();
  }
  healAll() {
    this.calls.push('healAll');
    return Promise.resolve();
  }
  grace(ms: number) {
    this.calls.push(`grace ${ms}`);
    return Promise.resolve();
  }
  whyUnknown() {
    return this.options.unknownBecause === undefined ? [] : [this.options.unknownBecause];
  }
  measured(): Measured {
    return { simulatedMs: 5000, events: this.history.ops.length, traceHash: null };
  }
  resultFields() {
    return { fake: true as const };
  }
  close() {
    this.calls.push('close');
    return Promise.resolve();
  }

  private nextTimer(untilMs: number) {
    const due = this.timers.filter((t) => t.atMs <= untilMs).sort((a, b) => a.atMs - b.atMs)[0];
    if (due !== undefined) this.timers.splice(this.timers.indexOf(due), 1);
    return due;
  }

  private perform(): void {
    const at = (timeMs: number, process: string, type: 'invoke' | 'ok', f: 'acquire' | 'release') =>
      this.history.append({ timeMs, process, type, f });
    const c2GrantedMs = this.script === 'overlap' ? 200 : 400;
    at(100, 'c1', 'ok', 'acquire');
    at(c2GrantedMs, 'c2', 'ok', 'acquire');
    at(300, 'c1', 'invoke', 'release');
    at(500, 'c2', 'invoke', 'release');
    this.register.writes.push(write(150, 'c1'), write(450, 'c2'));
    this.register.value = this.script === 'overlap' ? 1 : 2;
  }
}

const spec = (faults = PAUSE_C1, expect?: string) => ({
  scenario: scenarioWith(faults, expect),
  system: 'redis' as const,
  fencing: false,
  seed: 1,
});

describe('the run loop', () => {
  it('skips a run whose faults cannot apply to the system, with the reason, and starts nothing', async () => {
    const world = new FakeWorld('in turn');
    const { result } = await runWorld(spec('  - { at: 1000, pause: server-3, forMs: 500 }'), world);
    assert.equal(result.verdict, 'skipped');
    assert.match(result.skipped ?? '', /server-3/);
    assert.equal(result.expectationMet, false);
    assert.deepEqual(world.calls, []);
  });

  it("skips a run the world itself cannot perform, with the world's reason", async () => {
    const world = new FakeWorld('in turn', { whyNot: 'this world cannot pause c1' });
    const { result } = await runWorld(spec(), world);
    assert.equal(result.verdict, 'skipped');
    assert.equal(result.skipped, 'this world cannot pause c1');
    assert.equal(result.fake, true);
    assert.deepEqual(world.calls, []);
  });

  it("plans the faults on the world's verbs, heals them, logs them as the nemesis, then heals everything and gives a grace period", async () => {
    const world = new FakeWorld('in turn');
    const { history } = await runWorld(spec(), world);
    assert.deepEqual(world.calls, [
      'start',
      'run 5000',
      'pause c1',
      'resume c1',
      'healAll',
      `grace ${graceMs(1000, 100)}`,
      'close',
    ]);
    const nemesis = history.filter((op) => op.process === 'nemesis').map((op) => `${op.f}@${op.timeMs}`);
    assert.deepEqual(nemesis, ['fault-start@1000', 'fault-end@1500']);
  });

  it('judges the history and meets the expectation, with what the world measured and adds', async () => {
    const { result } = await runWorld(spec(), new FakeWorld('in turn'));
    assert.equal(result.verdict, 'safe');
    assert.equal(result.expected, 'safe');
    assert.equal(result.expectationMet, true);
    assert.equal(result.metrics?.acquisitions, 2);
    assert.equal(result.simulatedMs, 5000);
    assert.equal(result.mode, 'sim');
    assert.equal(result.fake, true);
  });

  it('an unsafe history fails a safe expectation', async () => {
    const { result } = await runWorld(spec(), new FakeWorld('overlap'));
    assert.equal(result.verdict, 'unsafe');
    assert.equal(result.expectationMet, false);
    assert.ok((result.metrics?.lostUpdates ?? 0) > 0);
  });

  it("a run the world says has no verdict is unknown, with the world's reason in its notes", async () => {
    const { result } = await runWorld(spec(), new FakeWorld('in turn', { unknownBecause: 'the machine was too busy' }));
    assert.equal(result.verdict, 'unknown');
    assert.equal(result.expectationMet, false);
    assert.ok(result.notes.includes('the machine was too busy'));
  });

  it('a run that exceeds its event budget is unknown with the reason, and the world is still closed', async () => {
    const world = new FakeWorld('in turn', { throwOnRun: new BudgetExceededError('event budget of 10 exceeded') });
    const { result } = await runWorld(spec(), world);
    assert.equal(result.verdict, 'unknown');
    assert.equal(result.skipped, null);
    assert.equal(result.metrics, null);
    assert.deepEqual(result.notes, ['event budget of 10 exceeded']);
    assert.deepEqual(world.calls, ['start', 'run 5000', 'close']);
  });

  it('any other error ends the run as a failure, after closing the world', async () => {
    const world = new FakeWorld('in turn', { throwOnRun: new Error('the cluster went away') });
    await assert.rejects(runWorld(spec(), world), /the cluster went away/);
    assert.deepEqual(world.calls.at(-1), 'close');
  });
});

describe('expectations with bounds', () => {
  it('a run that keeps its verdict but breaks a bound does not meet its expectation, and says which bound', async () => {
    const scenario = scenarioSchema.parse({
      name: 'bounded',
      description: 'a crashed holder; the takeover cannot take under 1 ms',
      systems: ['redis'],
      fencing: 'off',
      durationMs: 8000,
      lock: { ttlMs: 1000 },
      faults: [{ after: { event: 'acquired', nth: 2 }, crash: 'holder' }],
      expect: [{ system: 'redis', fencing: 'off', verdict: 'safe', bounds: { takeoverMs: 1 } }],
    });
    const { result } = await runScenario({ scenario, system: 'redis', fencing: false, seed: 1 });
    assert.equal(result.verdict, 'safe');
    assert.equal(result.expectationMet, false);
    assert.ok(
      result.notes.some((n) => /^bound broken: takeoverMs \d+(\.\d+)? > 1$/.test(n)),
      result.notes.join(' | '),
    );
    const generous = scenarioSchema.parse({
      ...scenario,
      expect: [{ system: 'redis', fencing: 'off', verdict: 'safe', bounds: { takeoverMs: 5000, lostFraction: 0 } }],
    });
    assert.equal(
      (await runScenario({ scenario: generous, system: 'redis', fencing: false, seed: 1 })).result.expectationMet,
      true,
    );
  });

  it('refuses an empty or malformed bounds object, naming it', () => {
    const base = { name: 'b', description: 'b', systems: ['redis'], durationMs: 1000 };
    for (const [bounds, message] of [
      [{}, /bounds names no bound/],
      [{ lostFraction: 2 }, /bounds.lostFraction is a fraction of acknowledged writes/],
      [{ takeoverMs: -1 }, /bounds.takeoverMs must be >= 0/],
      [{ latencyMs: 3 }, /Unrecognized key/],
    ] as const) {
      const result = scenarioSchema.safeParse({
        ...base,
        expect: [{ system: 'redis', fencing: 'off', verdict: 'safe', bounds }],
      });
      assert.equal(result.success, false, JSON.stringify(bounds));
      assert.match(JSON.stringify(result.error.issues), message);
    }
  });
});

describe('elections: the elected client and the servers leader', () => {
  it('`elected` crashes the client that leads; `leader` crashes a server, and the run says which is which', async () => {
    const scenario = (selector: string) =>
      scenarioSchema.parse({
        name: 'who-leads',
        description: 'crash whoever the selector names, just after the first election',
        workload: 'election',
        systems: ['etcd'],
        fencing: 'off',
        durationMs: 6000,
        lock: { ttlMs: 1000 },
        faults: [{ after: { event: 'elected', nth: 1, waitMs: 10 }, crash: selector }],
      });
    const elected = await runScenario({ scenario: scenario('elected'), system: 'etcd', fencing: false, seed: 2 });
    const crashedClient = elected.history.find((op) => op.f === 'fault-start')?.detail ?? '';
    assert.match(crashedClient, /^crash c\d+$/);
    const firstLeader = elected.history.find((op) => op.f === 'campaign' && op.type === 'ok')?.process;
    assert.equal(crashedClient, `crash ${firstLeader ?? '?'}`);
    const leader = await runScenario({ scenario: scenario('leader'), system: 'etcd', fencing: false, seed: 2 });
    assert.match(leader.history.find((op) => op.f === 'fault-start')?.detail ?? '', /^crash server-\d$/);
    assert.ok(leader.result.notes.some((n) => n.includes('`elected` names the client')));
    assert.ok(!elected.result.notes.some((n) => n.includes('`elected` names the client')));
  });
});

describe('a careful client', () => {
  it('checks what its recipe knows before writing: after a pause past the lease it does not write', async () => {
    const scenario = (careful: boolean) =>
      scenarioSchema.parse({
        name: 'careful',
        description: 'a pause past the lease right after the grant, then the hold and the write',
        durationMs: 12_000,
        lock: { ttlMs: 2000, holdMs: 100, thinkMs: 50, careful },
        faults: [{ after: { event: 'acquired', nth: 3 }, pause: 'holder', forMs: 4000 }],
      });
    for (const system of ['redis', 'redlock', 'etcd', 'zookeeper'] as const) {
      const careless = await runScenario({ scenario: scenario(false), system, fencing: false, seed: 1 });
      const careful = await runScenario({ scenario: scenario(true), system, fencing: false, seed: 1 });
      assert.equal(careless.result.verdict, 'unsafe', `${system} careless`);
      assert.equal(careful.result.verdict, 'safe', `${system} careful`);
      assert.ok(
        careful.history.some(
          (op) => op.f === 'write' && op.type === 'fail' && op.error?.startsWith('careful') === true,
        ),
        `${system}: the careful client skipped a write`,
      );
    }
  });
});

describe('a fault triggered while a client acquires', () => {
  it('fires after the attempt starts and before its answer arrives', async () => {
    const scenario = scenarioSchema.parse({
      name: 'acquiring',
      description: 'pause c1 during its second attempt',
      systems: ['redis'],
      fencing: 'off',
      clients: 2,
      durationMs: 5000,
      lock: { ttlMs: 2000, thinkMs: 400 },
      faults: [{ after: { event: 'acquiring', client: 'c1', nth: 2 }, pause: 'c1', forMs: 1000 }],
    });
    const { history } = await runScenario({ scenario, system: 'redis', fencing: false, seed: 1 });
    const attempts = history.filter((op) => op.process === 'c1' && op.f === 'acquire' && op.type === 'invoke');
    const start = history.find((op) => op.f === 'fault-start');
    const second = attempts[1];
    assert.ok(second !== undefined && start !== undefined);
    const answer = history.find(
      (op) => op.process === 'c1' && op.f === 'acquire' && op.type !== 'invoke' && op.index > second.index,
    );
    assert.ok(start.timeMs >= second.timeMs, 'after the attempt started');
    assert.ok(answer !== undefined && answer.timeMs >= start.timeMs + 1000, 'its answer came only after the pause');
  });
});

describe('a fault triggered just before a write', () => {
  const scenario = (fault: Record<string, unknown>) =>
    scenarioSchema.parse({
      name: 'writing',
      description: 'a fault at c1 just before its second write',
      systems: ['redis'],
      fencing: 'off',
      clients: 2,
      durationMs: 5000,
      lock: { ttlMs: 2000, holdMs: 100, thinkMs: 400, careful: true },
      faults: [{ after: { event: 'writing', client: 'c1', nth: 2 }, forMs: 1000, ...fault }],
    });
  const writesOf = (history: readonly Op[], process: string) =>
    history.filter((op) => op.process === process && op.f === 'write' && op.type === 'invoke');

  it('a pause lands after the careful check and before the write leaves: the write goes only after the resume', async () => {
    const { history } = await runScenario({
      scenario: scenario({ pause: 'c1' }),
      system: 'redis',
      fencing: false,
      seed: 1,
    });
    const start = history.find((op) => op.f === 'fault-start');
    const [first, second] = writesOf(history, 'c1');
    assert.ok(first !== undefined && second !== undefined && start !== undefined);
    assert.ok(start.timeMs > first.timeMs, 'not at the first write');
    assert.ok(
      second.timeMs >= start.timeMs + 1000,
      `the second write left at ${second.timeMs}, the pause began at ${start.timeMs}`,
    );
  });

  it('a cut lands before the write leaves: the write is lost in it', async () => {
    const { history } = await runScenario({
      scenario: scenario({ partition: { isolate: 'c1' } }),
      system: 'redis',
      fencing: false,
      seed: 1,
    });
    const start = history.find((op) => op.f === 'fault-start');
    const second = writesOf(history, 'c1')[1];
    assert.ok(second !== undefined && start !== undefined);
    assert.ok(second.timeMs <= start.timeMs + 1, 'the write was invoked as the cut began');
    const outcome = history.find((op) => op.process === 'c1' && op.f === 'write' && op.index > second.index);
    assert.notEqual(outcome?.type, 'ok', 'the write did not reach the register');
  });

  it('needs the mutex workload', () => {
    const result = scenarioSchema.safeParse({
      name: 'writing',
      description: 'an election has no such write',
      workload: 'election',
      durationMs: 5000,
      faults: [{ after: { event: 'writing' }, pause: 'elected' }],
    });
    assert.equal(result.success, false);
    assert.match(JSON.stringify(result.error.issues), /event 'writing' needs workload: mutex/);
  });
});
