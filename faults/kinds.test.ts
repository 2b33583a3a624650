/**
 * Each fault kind on its own, through the planner against a recording world: what it does to the
 * world, how it heals, and the label the history records and the report draws.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { faultSchema } from '../scenarios/schema.ts';
import { planFaults } from './plan.ts';
import { castOf, RecordingWorld } from './recording-world.ts';

/** Plan one fault (in file form) on a fresh world, run to `untilMs`; what the world and the log saw. */
function run(raw: object, untilMs = 1000) {
  const world = new RecordingWorld();
  const log: string[] = [];
  planFaults([faultSchema.parse(raw)], world, castOf().cast, [], (phase, index, what) =>
    log.push(`${world.nowMs} ${phase} ${index} ${what}`),
  );
  world.runUntil(untilMs);
  return { calls: world.calls, log };
}

describe('each fault kind', () => {
  it('pause stops the nodes and resumes them forMs later', () => {
    const { calls, log } = run({ at: 10, pause: 'clients', forMs: 5 });
    assert.deepEqual(calls, [
      '10 pause c1',
      '10 pause c2',
      '10 pause c3',
      '15 resume c1',
      '15 resume c2',
      '15 resume c3',
    ]);
    assert.deepEqual(log, ['10 start 0 pause c1, c2, c3', '15 end 0 pause c1, c2, c3']);
  });

  it('crash without restartAfterMs stays down and never ends', () => {
    const { calls, log } = run({ at: 10, crash: 'server-1' });
    assert.deepEqual(calls, ['10 crash server-1']);
    assert.deepEqual(log, ['10 start 0 crash server-1']);
  });

  it('crash restarts after restartAfterMs, without its disk unless persist', () => {
    assert.deepEqual(run({ at: 10, crash: 'c2', restartAfterMs: 90 }).calls, [
      '10 crash c2',
      '100 restart c2 persist=false',
    ]);
    assert.deepEqual(run({ at: 10, crash: 'c2', restartAfterMs: 90, persist: true }).log, [
      '10 start 0 crash c2',
      '100 end 0 crash c2',
    ]);
  });

  it('partition bridge cuts the majority, bar its last server, from the minority, holding packets', () => {
    const { calls, log } = run({ at: 10, partition: { bridge: true }, mode: 'hold', forMs: 20 });
    assert.deepEqual(calls, [
      '10 cut server-1->server-3 hold',
      '10 cut server-3->server-1 hold',
      '30 heal server-1->server-3',
      '30 heal server-3->server-1',
    ]);
    assert.deepEqual(log, ['10 start 0 partition bridge (hold)', '30 end 0 partition bridge (hold)']);
  });

  it('partition labels its shape: isolate, groups, halves', () => {
    assert.equal(run({ at: 1, partition: { isolate: 'c1' } }).log[0], '1 start 0 partition isolate c1 (drop)');
    assert.equal(
      run({ at: 1, partition: { groups: [['c1', 'server-1'], ['servers']] } }).log[0],
      '1 start 0 partition c1+server-1 | servers (drop)',
    );
    assert.equal(run({ at: 1, partition: { halves: true }, forMs: 1 }).log[0], '1 start 0 partition halves (drop)');
  });

  it('delay slows every link to or from the nodes, and sets it back to 0', () => {
    const { calls, log } = run({ at: 0, delay: 'c1', delayMs: 7, forMs: 3 });
    const slowed = calls.filter((c) => c.startsWith('0 delay'));
    assert.equal(slowed.length, 12, 'six other nodes, both ways');
    assert.ok(slowed.every((c) => /^0 delay (c1->\S+|\S+->c1) 7$/.test(c)));
    assert.deepEqual(
      calls.slice(12),
      slowed.map((c) => c.replace(/^0 (.*) 7$/, '3 $1 0')),
    );
    assert.deepEqual(log, ['0 start 0 delay c1 +7ms', '3 end 0 delay c1 +7ms']);
  });

  it('loss loses packets on every link of the nodes with its probability, then none', () => {
    const { calls, log } = run({ at: 0, loss: 'server-2', probability: 0.25, forMs: 3 });
    assert.equal(calls.filter((c) => c.endsWith(' 0.25')).length, 12);
    assert.equal(calls.filter((c) => c.startsWith('3 loss') && c.endsWith(' 0')).length, 12);
    assert.deepEqual(log, ['0 start 0 loss server-2 0.25', '3 end 0 loss server-2 0.25']);
  });

  it('clock jump steps the clock once and ends at once; nothing undoes it', () => {
    const { calls, log } = run({ at: 10, clock: 'c2', jumpMs: -500, forMs: 50 });
    assert.deepEqual(calls, ['10 jump c2 -500']);
    assert.deepEqual(log, ['10 start 0 clock c2 jumps -500ms', '10 end 0 clock c2 jumps -500ms']);
  });

  it('clock drift runs the clock fast until forMs, then at the right rate', () => {
    const { calls, log } = run({ at: 10, clock: 'server-3', driftPpm: 300, forMs: 50 });
    assert.deepEqual(calls, ['10 drift server-3 300', '60 drift server-3 0']);
    assert.deepEqual(log, ['10 start 0 clock server-3 drifts 300ppm', '60 end 0 clock server-3 drifts 300ppm']);
  });
});
