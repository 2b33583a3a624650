import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Op, OpName, OpType, RegisterWrite } from '../runner/history.ts';
import { electionTiming } from './election.ts';
import { performance } from './performance.ts';
import { checkMutex, countOverlaps, holdingIntervals, lostUpdates, staleWrites } from './mutex.ts';

/** A history from terse rows: [timeMs, process, type, f]. */
function history(rows: [number, string, OpType, OpName][]): Op[] {
  return rows.map(([timeMs, process, type, f], index) => ({ index, timeMs, process, type, f }));
}

const write = (timeMs: number, process: string, accepted = true, value = 1): RegisterWrite => ({
  timeMs,
  process,
  value,
  token: null,
  accepted,
});

describe('mutex checkers on hand-written histories', () => {
  it('a believed hold runs from acquire ok to release invoke; touching holds do not overlap', () => {
    const ops = history([
      [0, 'c1', 'invoke', 'acquire'],
      [2, 'c1', 'ok', 'acquire'],
      [3, 'c2', 'invoke', 'acquire'],
      [10, 'c1', 'invoke', 'release'],
      [10, 'c2', 'ok', 'acquire'],
      [12, 'c1', 'ok', 'release'],
      [20, 'c2', 'invoke', 'release'],
    ]);
    assert.deepEqual(holdingIntervals(ops), [
      { process: 'c1', startMs: 2, endMs: 10 },
      { process: 'c2', startMs: 10, endMs: 20 },
    ]);
    assert.equal(countOverlaps(holdingIntervals(ops)), 0);
  });

  it('counts a client that believes it holds while another does', () => {
    const ops = history([
      [0, 'c1', 'ok', 'acquire'],
      [5, 'c2', 'ok', 'acquire'],
      [8, 'c1', 'invoke', 'release'],
      [9, 'c3', 'ok', 'acquire'],
      [12, 'c2', 'invoke', 'release'],
      [15, 'c3', 'invoke', 'release'],
    ]);
    assert.equal(countOverlaps(holdingIntervals(ops)), 2);
  });

  it('an acquire whose outcome is unknown (info) or failed opens no hold', () => {
    const ops = history([
      [0, 'c1', 'invoke', 'acquire'],
      [5, 'c1', 'info', 'acquire'],
      [6, 'c2', 'invoke', 'acquire'],
      [7, 'c2', 'fail', 'acquire'],
    ]);
    assert.deepEqual(holdingIntervals(ops), []);
  });

  it('a client that crashes while holding stops holding when it crashes; one that never lets go holds to the end', () => {
    const ops = history([
      [0, 'c1', 'ok', 'acquire'],
      [1, 'c1', 'invoke', 'read'],
      [3, 'c1', 'info', 'crash'],
      [50, 'c2', 'ok', 'acquire'],
      [60, 'c2', 'invoke', 'release'],
      [70, 'c3', 'ok', 'acquire'],
    ]);
    assert.deepEqual(holdingIntervals(ops, 100), [
      { process: 'c1', startMs: 0, endMs: 3 },
      { process: 'c2', startMs: 50, endMs: 60 },
      { process: 'c3', startMs: 70, endMs: 100 },
    ]);
  });

  it('lost updates: accepted writes beyond the final value', () => {
    assert.equal(lostUpdates([write(1, 'c1'), write(2, 'c2'), write(3, 'c1', false)], 1), 1);
    assert.equal(lostUpdates([write(1, 'c1'), write(2, 'c2')], 2), 0);
  });

  it('a write that lands after someone else was granted the lock is stale, accepted or rejected', () => {
    const ops = history([
      [0, 'c1', 'ok', 'acquire'],
      [5, 'c2', 'ok', 'acquire'],
      [7, 'c2', 'invoke', 'release'],
    ]);
    assert.deepEqual(staleWrites(ops, [write(3, 'c1'), write(6, 'c2'), write(8, 'c1')]), { accepted: 1, rejected: 0 });
    assert.deepEqual(staleWrites(ops, [write(8, 'c1', false)]), { accepted: 0, rejected: 1 });
    const verdict = checkMutex(ops, [write(3, 'c1', true, 1), write(8, 'c1', true, 2)], 2);
    assert.equal(verdict.verdict, 'unsafe');
    assert.equal(verdict.staleWritesAccepted, 1);
  });

  it('with tokens, staleness follows the token order the register enforces', () => {
    // c2 won the lock first but paused before fetching its token; c3 took the lock after expiry
    // with token 6, then c2 woke and fetched token 7. The register serialises by token.
    const ops: Op[] = [
      { index: 0, process: 'c3', type: 'ok', f: 'acquire', timeMs: 10, token: 6 },
      { index: 1, process: 'c2', type: 'ok', f: 'acquire', timeMs: 20, token: 7 },
    ];
    const tokened = (timeMs: number, process: string, token: number, accepted: boolean): RegisterWrite => ({
      timeMs,
      process,
      value: 1,
      token,
      accepted,
    });
    assert.deepEqual(staleWrites(ops, [tokened(30, 'c2', 7, true)]), { accepted: 0, rejected: 0 });
    assert.deepEqual(
      staleWrites(ops, [tokened(25, 'c3', 6, true)]),
      { accepted: 0, rejected: 0 },
      'the register had not seen token 7 yet',
    );
    assert.deepEqual(
      staleWrites(ops, [tokened(35, 'c3', 6, false)]),
      { accepted: 0, rejected: 1 },
      'refused: the register had seen 7',
    );
  });

  it('a run with no violation is safe', () => {
    const ops = history([
      [0, 'c1', 'ok', 'acquire'],
      [4, 'c1', 'invoke', 'release'],
      [5, 'c2', 'ok', 'acquire'],
      [9, 'c2', 'invoke', 'release'],
    ]);
    assert.equal(checkMutex(ops, [write(2, 'c1', true, 1), write(7, 'c2', true, 2)], 2).verdict, 'safe');
  });
});

describe('election timing on hand-written histories', () => {
  it('measures overlap, leaderless time and failover', () => {
    const ops = history([
      [10, 'c1', 'ok', 'campaign'],
      [40, 'c2', 'ok', 'campaign'],
      [50, 'c1', 'invoke', 'resign'],
      [70, 'c2', 'invoke', 'resign'],
      [90, 'c3', 'ok', 'campaign'],
    ]);
    const timing = electionTiming(ops, 100);
    assert.equal(timing.leaderOverlapMs, 10);
    assert.equal(timing.leaderlessMs, 20, 'c3 still leads when the run ends at 100');
    assert.deepEqual(timing.failoverMs, [0, 20]);
  });
});

describe('what a lock costs, on hand-written histories', () => {
  it('takeover after a crash counts the next grant, also to the crashed client once restarted', () => {
    const ops = history([
      [0, 'c1', 'ok', 'acquire'],
      [10, 'c2', 'invoke', 'acquire'],
      [100, 'c1', 'info', 'crash'],
      // The restarted c1 takes the lock back first; c2 gets it much later.
      [2122, 'c1', 'ok', 'acquire'],
      [2200, 'c1', 'invoke', 'release'],
      [4290, 'c2', 'ok', 'acquire'],
    ]);
    assert.deepEqual(performance(ops, 5000).takeoverMs, [2022]);
  });

  /** A fault's start and end, as the nemesis records them. */
  const fault = (index: number, timeMs: number, f: 'fault-start' | 'fault-end', detail: string): Op => ({
    index,
    timeMs,
    process: 'nemesis',
    type: 'info',
    f,
    value: 0,
    detail,
  });
  /** c1 holds from 0 to 3000 while c2 waits, and `detail` strikes from 1000 to 2500. */
  const struckWhileHeld = (detail: string): Op[] =>
    [
      ...history([
        [0, 'c1', 'invoke', 'acquire'],
        [0, 'c1', 'ok', 'acquire'],
        [0, 'c2', 'invoke', 'acquire'],
        [3000, 'c1', 'invoke', 'release'],
        [3000, 'c2', 'ok', 'acquire'],
        [3100, 'c2', 'invoke', 'release'],
      ]),
      fault(6, 1000, 'fault-start', detail),
      fault(7, 2500, 'fault-end', detail),
    ].sort((a, b) => a.timeMs - b.timeMs);

  it('a holder stopped by a pause holds a lock nobody can use: that time is unavailable', () => {
    const ops = struckWhileHeld('pause c1');
    assert.equal(performance(ops, 4000).unavailableMs, 1500);
    // Without the pause, c2 waited while c1 held and ran: no unavailable time.
    assert.equal(
      performance(
        ops.filter((op) => op.process !== 'nemesis'),
        4000,
      ).unavailableMs,
      0,
    );
  });

  it('a holder cut off from every node by an isolating partition counts like a paused one; other cuts do not', () => {
    assert.equal(performance(struckWhileHeld('partition isolate c1 (drop)'), 4000).unavailableMs, 1500);
    assert.equal(performance(struckWhileHeld('partition isolate c1 (hold)'), 4000).unavailableMs, 1500);
    // A cut between groups may leave the holder its register; a server cut off is not a holder.
    assert.equal(performance(struckWhileHeld('partition c1 | server-1'), 4000).unavailableMs, 0);
    assert.equal(performance(struckWhileHeld('partition isolate server-1 (drop)'), 4000).unavailableMs, 0);
  });

  it('takeover also follows a holder paused or cut off from every node, once per grant', () => {
    const lost = (detail: string): Op[] =>
      [
        ...history([
          [0, 'c1', 'invoke', 'acquire'],
          [0, 'c1', 'ok', 'acquire'],
          [0, 'c2', 'invoke', 'acquire'],
          [2600, 'c2', 'ok', 'acquire'],
          [2700, 'c2', 'invoke', 'release'],
        ]),
        fault(5, 500, 'fault-start', detail),
        fault(6, 4500, 'fault-end', detail),
      ].sort((a, b) => a.timeMs - b.timeMs);
    assert.deepEqual(performance(lost('pause c1'), 5000).takeoverMs, [2100]);
    assert.deepEqual(performance(lost('partition isolate c1 (drop)'), 5000).takeoverMs, [2100]);
    // Nobody held what c2 lost, and a cut that leaves c1 its register is no loss.
    assert.deepEqual(performance(lost('pause c2'), 5000).takeoverMs, []);
    assert.deepEqual(performance(lost('partition c1 | server-1 (drop)'), 5000).takeoverMs, []);
    // Paused, then crashed: one grant lost, one hand-over.
    const crashed = [
      ...lost('pause c1'),
      { index: 99, timeMs: 1000, process: 'c1', type: 'info' as const, f: 'crash' as const },
    ].sort((a, b) => a.timeMs - b.timeMs);
    assert.deepEqual(performance(crashed, 5000).takeoverMs, [2100]);
  });
});
