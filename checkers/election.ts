/**
 * Timing of an election run, from believed-leadership intervals (campaign ok .. resign invoke):
 *   leaderOverlapMs  time during which two or more clients each believed they led;
 *   leaderlessMs     time, from the first election on, during which nobody believed it led;
 *   failoverMs       for every leadership that ended, the time until someone else next believed it led.
 * Safety is judged as for the mutex (checkMutex): leader work accepted from a deposed leader is a
 * stale write, and two leaders' increments show up as lost updates.
 */
import { holdingIntervals, type Interval } from './mutex.ts';
import type { Op } from '../runner/history.ts';

export interface ElectionTiming {
  readonly leaderOverlapMs: number;
  readonly leaderlessMs: number;
  readonly failoverMs: readonly number[];
}

export function electionTiming(ops: readonly Op[], endMs: number): ElectionTiming {
  const intervals = holdingIntervals(ops, endMs);
  const first = intervals[0];
  return {
    leaderOverlapMs: coveredBy(intervals, endMs, (n) => n >= 2),
    leaderlessMs: first === undefined ? 0 : coveredBy(intervals, endMs, (n) => n === 0, first.startMs),
    failoverMs: intervals.flatMap((ended) => {
      const next = intervals.find(
        (i) => i.process !== ended.process && i.startMs >= ended.startMs && i.endMs > ended.endMs,
      );
      return next === undefined ? [] : [Math.max(0, next.startMs - ended.endMs)];
    }),
  };
}

/** Total time in [fromMs, endMs) during which the number of open intervals satisfies `when`. */
function coveredBy(intervals: readonly Interval[], endMs: number, when: (open: number) => boolean, fromMs = 0): number {
  const edges = intervals.flatMap((i) => [
    { atMs: i.startMs, delta: 1 },
    { atMs: i.endMs, delta: -1 },
  ]);
  edges.sort((a, b) => a.atMs - b.atMs || a.delta - b.delta);
  let open = 0;
  let lastMs = fromMs;
  let total = 0;
  for (const edge of edges) {
    const atMs = Math.min(Math.max(edge.atMs, fromMs), endMs);
    if (when(open)) total += atMs - lastMs;
    lastMs = atMs;
    open += edge.delta;
  }
  if (when(open)) total += Math.max(0, endMs - lastMs);
  return total;
}
