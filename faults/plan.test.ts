/**
 * The fault planner on its own, against a recording world: when each fault fires, what it hits,
 * when it heals, and what it notes. Every World (the simulator, the live harness) relies on this.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { faultSchema, type Fault } from '../scenarios/schema.ts';
import { planFaults, whyNot } from './plan.ts';
import { resolve } from './selectors.ts';
import { castOf, RecordingWorld } from './recording-world.ts';

const faults = (...raw: object[]): Fault[] => raw.map((f) => faultSchema.parse(f));

describe('the fault planner', () => {
  it('fires a fault at its time and heals it forMs later', () => {
    const world = new RecordingWorld();
    const { cast } = castOf();
    planFaults(faults({ at: 1000, pause: 'c2', forMs: 500 }), world, cast, []);
    world.runUntil(999);
    assert.deepEqual(world.calls, []);
    world.runUntil(5000);
    assert.deepEqual(world.calls, ['1000 pause c2', '1500 resume c2']);
  });

  it('fires just after the nth grant, waitMs later, counting only grants to the named client', () => {
    const world = new RecordingWorld();
    const { cast, grant } = castOf();
    planFaults(
      faults({
        after: { event: 'acquired', client: 'c1', nth: 2, waitMs: 10 },
        crash: 'c1',
        restartAfterMs: 100,
        persist: true,
      }),
      world,
      cast,
      [],
    );
    world.nowMs = 100;
    grant('c1');
    grant('c2');
    world.runUntil(200);
    assert.deepEqual(world.calls, [], 'one grant to c1 so far');
    grant('c1');
    world.runUntil(1000);
    assert.deepEqual(world.calls, ['210 crash c1', '310 restart c1 persist=true']);
  });

  it('resolves holder and leader when the fault fires, not when it is planned', () => {
    const world = new RecordingWorld();
    const { cast, state } = castOf();
    planFaults(faults({ at: 100, pause: 'holder', forMs: 10 }, { at: 200, crash: 'leader' }), world, cast, []);
    state.holder = 'c3';
    state.leader = 'server-3';
    world.runUntil(300);
    assert.deepEqual(world.calls, ['100 pause c3', '110 resume c3', '200 crash server-3']);
  });

  it('notes a dynamic selector that finds nobody, and does nothing', () => {
    const world = new RecordingWorld();
    const { cast } = castOf();
    const notes: string[] = [];
    planFaults(faults({ at: 100, pause: 'holder', forMs: 10 }), world, cast, notes);
    world.runUntil(300);
    assert.deepEqual(notes, ['fault 1 (holder) at 100ms found no node to hit']);
    assert.deepEqual(world.calls, []);
  });

  it('cuts every directed link between the sides of a partition, and heals each', () => {
    const world = new RecordingWorld();
    const { cast } = castOf();
    planFaults(
      faults({ at: 0, partition: { groups: [['c1'], ['server-1', 'server-2']] }, mode: 'hold', forMs: 50 }),
      world,
      cast,
      [],
    );
    world.runUntil(100);
    assert.deepEqual(world.calls, [
      '0 cut c1->server-1 hold',
      '0 cut server-1->c1 hold',
      '0 cut c1->server-2 hold',
      '0 cut server-2->c1 hold',
      '50 heal c1->server-1',
      '50 heal server-1->c1',
      '50 heal c1->server-2',
      '50 heal server-2->c1',
    ]);
  });

  it('logs each start and heal with what the fault did, for the report to draw', () => {
    const world = new RecordingWorld();
    const { cast } = castOf();
    const log: string[] = [];
    planFaults(
      faults({ at: 10, clock: 'server-1', driftPpm: 500, forMs: 20 }, { at: 15, clock: 'one', jumpMs: -3000 }),
      world,
      cast,
      [],
      (phase, index, what) => log.push(`${world.nowMs} ${phase} ${index} ${what}`),
    );
    world.runUntil(100);
    assert.deepEqual(log, [
      '10 start 0 clock server-1 drifts 500ppm',
      '15 start 1 clock server-3 jumps -3000ms',
      '15 end 1 clock server-3 jumps -3000ms',
      '30 end 0 clock server-1 drifts 500ppm',
    ]);
    assert.deepEqual(world.calls, ['10 drift server-1 500', '15 jump server-3 -3000', '30 drift server-1 0']);
  });

  it('does not pause a node that is already paused, nor resume one another fault still holds', () => {
    const world = new RecordingWorld();
    const { cast } = castOf();
    planFaults(faults({ at: 10, pause: 'c1', forMs: 100 }, { at: 20, pause: 'clients', forMs: 10 }), world, cast, []);
    world.runUntil(200);
    assert.deepEqual(world.calls, [
      '10 pause c1',
      '20 pause c2',
      '20 pause c3',
      '30 resume c2',
      '30 resume c3',
      '110 resume c1',
    ]);
  });

  it('skips, with the reason, a run whose faults name what the system does not have', () => {
    assert.equal(
      whyNot(faults({ at: 0, pause: 'server-4' }), { servers: 3, hasLeader: true, sentinels: 0 }),
      'selector server-4: this system has 3 server(s)',
    );
    assert.equal(
      whyNot(faults({ at: 0, crash: 'leader' }), { servers: 5, hasLeader: false, sentinels: 0 }),
      'selector leader: this system has no leader among its servers',
    );
    assert.equal(
      whyNot(faults({ at: 0, partition: { isolate: 'minority' } }), { servers: 1, hasLeader: true, sentinels: 0 }),
      'selector minority: a single server has no minority',
    );
    assert.equal(
      whyNot(faults({ at: 0, partition: { bridge: true } }), { servers: 2, hasLeader: true, sentinels: 0 }),
      "a bridge partition needs more servers than this system's 2",
    );
    assert.equal(whyNot(faults({ at: 0, pause: 'servers' }), { servers: 1, hasLeader: true, sentinels: 0 }), null);
  });

  it('resolves the static selectors to the cast', () => {
    const { cast } = castOf();
    assert.deepEqual(resolve('majority', cast), ['server-1', 'server-2']);
    assert.deepEqual(resolve('minority', cast), ['server-3']);
    assert.deepEqual(resolve('clients', cast), ['c1', 'c2', 'c3']);
    assert.deepEqual(resolve('one', cast), ['server-3']);
    assert.deepEqual(resolve('c2', cast), ['c2']);
  });
});
