import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ProcessKilled } from './errors.ts';
import { Sim } from './sim.ts';

describe('nodes: pause, crash, restart', () => {
  it('a paused node runs nothing until it resumes: no timer, no handler, no thread', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 200 }),
        async (seed, sleeps, pauseAt, pauseFor) => {
          const resumeAt = pauseAt + pauseFor;
          const sim = new Sim({ seed, network: { latency: { minMs: 1, maxMs: 9 } } });
          const ranAt: number[] = [];
          sim.addNode('peer', (host) =>
            host.spawn('chatter', async () => {
              for (let i = 0; i < 40; i++) {
                host.send('target', i);
                await host.sleep(7);
              }
            }),
          );
          sim.addNode('target', (host) => {
            host.onMessage(() => ranAt.push(sim.nowMs));
            host.spawn('sleeper', async () => {
              for (const ms of sleeps) {
                await host.sleep(ms);
                ranAt.push(sim.nowMs);
              }
            });
            host.timer(pauseAt + pauseFor / 2, 'timer', () => ranAt.push(sim.nowMs));
          });
          sim.at(pauseAt, 'pause', () => sim.pause('target'));
          sim.at(resumeAt, 'resume', () => sim.resume('target'));
          await sim.run();
          for (const t of ranAt)
            assert.ok(t <= pauseAt || t >= resumeAt, `target ran at ${t}, while paused over (${pauseAt}, ${resumeAt})`);
          assert.equal(ranAt.length, sleeps.length + 1 + 40, 'everything deferred by the pause ran after it');
        },
      ),
    );
  });

  it('what came due during a pause runs at resume, in the order it came due', async () => {
    const sim = new Sim({ seed: 1 });
    const order: string[] = [];
    const host = sim.addNode('n');
    host.timer(10, 't', () => order.push('timer@10'));
    host.timer(20, 't', () => order.push('timer@20'));
    sim.at(5, 'pause', () => sim.pause('n'));
    sim.at(30, 'resume', () => sim.resume('n'));
    sim.at(30, 'other', () => order.push(`other@${sim.nowMs}`));
    await sim.run();
    assert.deepEqual(order, ['timer@10', 'timer@20', 'other@30']);
  });

  it('a packet that waited out a pause arrives before a later packet due at the resume instant', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 10, maxMs: 10 } } });
    const got: number[] = [];
    sim.addNode('a');
    sim.addNode('b', (host) => host.onMessage((m) => got.push(m.payload as number)));
    sim.at(0, 'pause', () => sim.pause('b'));
    sim.at(20, 'resume', () => sim.resume('b'));
    sim.at(5, 'send', () => sim.host('a').send('b', 0));
    sim.at(10, 'send', () => sim.host('a').send('b', 1));
    await sim.run();
    assert.deepEqual(got, [0, 1]);
  });

  it("a paused node's OS layer still answers, so its connections stay up", async () => {
    const sim = new Sim({ seed: 1 });
    const answers: number[] = [];
    sim.addNode('client', (host) => host.onOsMessage((m) => host.send(m.from, 'ack', { layer: 'os' })));
    sim.addNode('server', (host) => host.onOsMessage(() => answers.push(sim.nowMs)));
    sim.at(0, 'pause', () => sim.pause('client'));
    sim.at(10, 'probe', () => sim.host('server').send('client', 'probe', { layer: 'os' }));
    await sim.run();
    assert.deepEqual(answers, [12]);
  });

  it('a crash ends threads, timers, handlers and packets in flight; the restart boots a fresh program', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 5, maxMs: 5 } } });
    const log: string[] = [];
    let boots = 0;
    sim.addNode('other');
    sim.addNode('n', (host) => {
      const boot = ++boots;
      host.onMessage((m) => log.push(`boot ${boot} got ${String(m.payload)}`));
      host.spawn('ticker', async () => {
        for (;;) {
          await host.sleep(10);
          log.push(`boot ${boot} tick ${sim.nowMs}`);
        }
      });
    });
    sim.at(12, 'send', () => sim.host('other').send('n', 'early'));
    sim.at(15, 'crash', () => sim.crash('n'));
    sim.at(16, 'send', () => sim.host('other').send('n', 'while down'));
    sim.at(17, 'restart', () => sim.restart('n', { persist: false }));
    await sim.run({ untilMs: 30 });
    assert.deepEqual(log, ['boot 1 tick 10', 'boot 2 tick 27']);
  });

  it("a crash runs the node's crash handler as its OS, which can still tell peers the connection is gone", async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 2, maxMs: 2 } } });
    const heard: string[] = [];
    sim.addNode('server', (host) =>
      host.onOsMessage((m) => heard.push(`${String(m.payload)} from ${m.from} at ${sim.nowMs}`)),
    );
    sim.addNode('client', (host) => host.onCrash((os) => os.send('server', 'reset')));
    sim.at(10, 'crash', () => sim.crash('client'));
    await sim.run();
    assert.deepEqual(heard, ['reset from client at 12']);
  });

  it('disk survives a restart that persists, and only that', async () => {
    for (const persist of [true, false]) {
      const sim = new Sim({ seed: 1 });
      const seen: unknown[] = [];
      sim.addNode('db', (host) => {
        seen.push(host.disk.get('k'));
        host.disk.set('k', 'v');
      });
      sim.at(1, 'crash', () => sim.crash('db'));
      sim.at(2, 'restart', () => sim.restart('db', { persist }));
      await sim.run();
      assert.deepEqual(seen, [undefined, persist ? 'v' : undefined]);
    }
  });

  it('code of a crashed incarnation that touches the kernel stops quietly', () => {
    const sim = new Sim({ seed: 1 });
    const old = sim.addNode('n');
    sim.crash('n');
    assert.throws(() => old.sleep(1), ProcessKilled);
    assert.throws(() => old.send('n', 1), ProcessKilled);
    sim.restart('n', { persist: false });
    assert.notEqual(sim.host('n'), old);
    assert.equal(old.alive, false);
    assert.equal(sim.host('n').alive, true);
  });

  it('refuses impossible state changes with the node and its state named', () => {
    const sim = new Sim({ seed: 1 });
    sim.addNode('n');
    assert.throws(() => sim.resume('n'), /cannot resume node 'n': it is up, not paused/);
    assert.throws(() => sim.restart('n', { persist: true }), /cannot restart node 'n': it is up, not crashed/);
    sim.crash('n');
    assert.throws(() => sim.pause('n'), /cannot pause node 'n': it is crashed/);
    assert.throws(() => sim.crash('n'), /already crashed/);
    assert.throws(() => sim.addNode('n'), /node 'n' already exists/);
    assert.throws(() => sim.addNode('bad id'), /node id must match/);
    assert.throws(() => sim.pause('ghost'), /unknown node 'ghost' \(known nodes: n\)/);
  });
});

describe('host.quorum', () => {
  it('resolves at the instant the needed count says yes, with what has answered; the rest go on', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 1 } } });
    const finished: number[] = [];
    let answer: (boolean | undefined)[] = [];
    let answeredAt = -1;
    sim.addNode('n', (host) =>
      host.spawn('quorum', async () => {
        const delays = [50, 10, 40, 20, 30];
        answer = await host.quorum(
          delays.map((ms, i) => async () => {
            await host.sleep(ms);
            finished.push(i);
            return i !== 1; // the fastest says no
          }),
          3,
          (yes) => yes,
        );
        answeredAt = sim.nowMs;
      }),
    );
    await sim.run();
    assert.equal(answeredAt, 40, 'the third yes came at 40 ms (20, 30, 40), the no at 10 does not count');
    assert.deepEqual(answer, [undefined, false, true, true, true]);
    assert.deepEqual(finished, [1, 3, 4, 2, 0], 'the slowest task still ran to its end');
  });

  it('resolves once every task settled when the count cannot be reached, and rejects on a failed task', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 1 } } });
    let short: (boolean | undefined)[] = [];
    let failure: unknown = null;
    sim.addNode('n', (host) =>
      host.spawn('quorum', async () => {
        short = await host.quorum(
          [10, 20, 30].map((ms) => async () => (await host.sleep(ms), ms === 10)),
          2,
          (yes) => yes,
        );
        await host
          .quorum(
            [async () => (await host.sleep(5), true), async () => Promise.reject(new Error('node gone'))],
            2,
            (yes) => yes,
          )
          .then(
            () => {},
            (error: unknown) => (failure = error),
          );
      }),
    );
    await sim.run();
    assert.deepEqual(short, [true, false, false]);
    assert.match(String(failure), /node gone/);
  });
});
