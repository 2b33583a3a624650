import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BudgetExceededError, ProcessError, SchedulingError, SimUsageError, TimeoutError } from './errors.ts';
import { Sim } from './sim.ts';

describe('kernel run loop', () => {
  it('never fires events out of order, including events scheduled from inside events', async () => {
    // Event i fires after `delay` from when it is scheduled: at the start (parent -1), or from
    // inside the handler of an earlier event (parent < i).
    const plan = fc.array(
      fc.record({ delay: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 })), parent: fc.nat() }),
      { maxLength: 60 },
    );
    await fc.assert(
      fc.asyncProperty(plan, async (specs) => {
        const sim = new Sim({ seed: 1 });
        const children = specs.map(() => [] as number[]);
        const roots: number[] = [];
        specs.forEach((spec, i) =>
          (i === 0 || spec.parent % (i + 1) === i ? roots : children[spec.parent % i]!).push(i),
        );
        const fired: { time: number; order: number }[] = [];
        let scheduled = 0;
        const schedule = (i: number) => {
          const order = scheduled++;
          sim.after(specs[i]!.delay, 'e', () => {
            fired.push({ time: sim.nowMs, order });
            children[i]!.forEach(schedule);
          });
        };
        roots.forEach(schedule);
        await sim.run();
        assert.equal(fired.length, specs.length);
        for (let i = 1; i < fired.length; i++) {
          const a = fired[i - 1]!;
          const b = fired[i]!;
          assert.ok(
            a.time < b.time || (a.time === b.time && a.order < b.order),
            `fired ${JSON.stringify(a)} then ${JSON.stringify(b)}`,
          );
        }
      }),
    );
  });

  it('lets a woken thread finish its step, through nested awaits, before time moves on', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 12 })), {
          minLength: 1,
          maxLength: 20,
        }),
        async (steps) => {
          const sim = new Sim({ seed: 2 });
          const host = sim.addNode('n');
          const observed: [number, number][] = [];
          const nested = async (depth: number): Promise<number> => (depth === 0 ? sim.nowMs : nested(depth - 1));
          steps.forEach(([sleepMs, depth], i) =>
            host.spawn(`t${i}`, async () => {
              await host.sleep(sleepMs);
              observed.push([sleepMs, await nested(depth)]);
            }),
          );
          // A competing event at every millisecond: if a continuation ran late, it would see a later time.
          for (let t = 0; t <= 50; t++) sim.at(t, 'tick', () => {});
          await sim.run();
          assert.equal(observed.length, steps.length);
          for (const [sleepMs, seen] of observed) assert.equal(seen, sleepMs);
        },
      ),
    );
  });

  it('stops a runaway run at its event budget with a clear error', async () => {
    const sim = new Sim({ seed: 1, eventBudget: 1000 });
    const loop = () => void sim.after(1, 'forever', loop);
    loop();
    await assert.rejects(sim.run(), (error: unknown) => {
      assert.ok(error instanceof BudgetExceededError);
      assert.match(error.message, /event budget of 1000 exceeded at t=1001ms \(next event 'forever'\)/);
      return true;
    });
  });

  it('stops when a thread awaits a promise the kernel does not control', async () => {
    const sim = new Sim({ seed: 1, settleTurnLimit: 50 });
    const host = sim.addNode('n');
    host.spawn('stuck', async () => {
      await host.sleep(5);
      await new Promise(() => {});
    });
    await assert.rejects(sim.run(), (error: unknown) => {
      assert.ok(error instanceof SchedulingError);
      assert.match(error.message, /after event 'sleep' at t=5ms, 1 woken thread\(s\) did not block/);
      return true;
    });
  });

  it('rejects Promise.all over kernel futures instead of advancing time wrongly', async () => {
    const sim = new Sim({ seed: 1 });
    const host = sim.addNode('n');
    host.spawn('bad', async () => {
      await Promise.all([host.sleep(1), host.sleep(2)]);
    });
    await assert.rejects(sim.run(), (error: unknown) => {
      assert.ok(error instanceof SchedulingError);
      assert.match(error.message, /use host\.all\(\) or host\.deadline\(\)/);
      return true;
    });
  });

  it('host.all runs tasks concurrently and resumes once all are done', async () => {
    const sim = new Sim({ seed: 1 });
    const host = sim.addNode('n');
    let result: { values: number[]; at: number } | undefined;
    host.spawn('fan-out', async () => {
      const values = await host.all(
        [10, 30, 20].map((ms) => async () => {
          await host.sleep(ms);
          return ms;
        }),
      );
      result = { values, at: sim.nowMs };
    });
    await sim.run();
    assert.deepEqual(result, { values: [10, 30, 20], at: 30 });
  });

  it('host.deadline rejects with TimeoutError when the task is slower, and cancels its timer otherwise', async () => {
    const sim = new Sim({ seed: 1 });
    const host = sim.addNode('n');
    const outcomes: string[] = [];
    host.spawn('slow', async () => {
      try {
        await host.deadline(() => host.sleep(100), 40);
        outcomes.push('slow finished');
      } catch (error) {
        outcomes.push(`slow ${(error as Error).name} at ${sim.nowMs}`);
      }
    });
    host.spawn('fast', async () => {
      await host.deadline(() => host.sleep(10), 40);
      outcomes.push(`fast at ${sim.nowMs}`);
    });
    await sim.run();
    assert.deepEqual(outcomes, ['fast at 10', `slow ${TimeoutError.name} at 40`]);
  });

  it('fails the run with the process name when a spawned process throws', async () => {
    const sim = new Sim({ seed: 1 });
    const host = sim.addNode('worker');
    host.spawn('faulty', async () => {
      await host.sleep(3);
      throw new Error('boom');
    });
    await assert.rejects(sim.run(), (error: unknown) => {
      assert.ok(error instanceof ProcessError);
      assert.equal(error.message, "process 'faulty' on node 'worker' failed: boom");
      return true;
    });
  });

  it('runs until a time and leaves later events for the next run', async () => {
    const sim = new Sim({ seed: 1 });
    const fired: number[] = [];
    for (const t of [5, 10, 15]) sim.at(t, 'e', () => fired.push(t));
    await sim.run({ untilMs: 10 });
    assert.deepEqual(fired, [5, 10]);
    assert.equal(sim.nowMs, 10);
    await sim.run();
    assert.deepEqual(fired, [5, 10, 15]);
  });

  it('refuses negative, NaN and past times with a message naming the value', async () => {
    const sim = new Sim({ seed: 1 });
    const host = sim.addNode('n');
    assert.throws(
      () => sim.after(-1, 'x', () => {}),
      /delay of event 'x' must be a finite number of milliseconds >= 0, got -1/,
    );
    assert.throws(() => host.sleep(Number.NaN), /timer 'sleep' on node 'n' must be .* got NaN/);
    sim.at(10, 'x', () => {});
    await sim.run();
    assert.throws(() => sim.at(5, 'late', () => {}), /event 'late' at 5ms lies in the past \(now 10ms\)/);
    await assert.rejects(sim.run({ untilMs: 3 }), /untilMs must be >= the current time 10ms, got 3/);
    assert.throws(() => new Sim({ seed: 1, eventBudget: 0 }), SimUsageError);
    assert.throws(() => new Sim({ seed: 1.5 }), /seed must be a safe integer or a string, got 1.5/);
  });
});
