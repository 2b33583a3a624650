/**
 * Safety of a mutex run, judged from its history and the register's write log alone.
 *
 *   overlaps             pairs of clients whose believed-holding intervals intersect in true time.
 *                        A client believes it holds from its acquire (or campaign) `ok` until it
 *                        invokes release (or resign) or crashes; if none of that happens, until the
 *                        end of the run. The same checks judge a lock and an election.
 *   lostUpdates          writes the register accepted minus its final value: every accepted write
 *                        should have added exactly one.
 *   staleWrites*         writes that reached the register after another client had been granted
 *                        the lock since the writer's own grant; accepted ones are the damage,
 *                        rejected ones are fencing doing its job. Without tokens, "since" is the
 *                        order in which clients came to believe they held the lock. A write that
 *                        carries a token is judged in the order the register enforces, the token
 *                        order: it is stale when the register has already seen a higher token, and
 *                        then it is refused. So a fenced write is never counted as accepted-stale;
 *                        what fencing cannot stop (two holders with equal tokens, RedLock's) shows
 *                        up as lost updates. This matters when a client pauses between winning a
 *                        lock and fetching its token: it comes to believe later, yet holds the
 *                        higher token, and the register rightly lets the other's earlier write in.
 */
import { isGrant, isLetGo, type Op, type RegisterWrite } from '../runner/history.ts';

export interface Interval {
  readonly process: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface MutexSafety {
  readonly overlaps: number;
  readonly lostUpdates: number;
  readonly staleWritesAccepted: number;
  readonly staleWritesRejected: number;
  readonly verdict: 'safe' | 'unsafe';
}

/** Believed-holding intervals; one still open when the history ends runs to `endMs` (default: the last operation). */
export function holdingIntervals(
  ops: readonly Op[],
  endMs: number = ops.reduce((max, op) => Math.max(max, op.timeMs), 0),
): Interval[] {
  const open = new Map<string, number>();
  const intervals: Interval[] = [];
  for (const op of ops) {
    if (isGrant(op)) {
      open.set(op.process, op.timeMs);
    } else if (isLetGo(op) || op.f === 'crash') {
      const startMs = open.get(op.process);
      if (startMs !== undefined) intervals.push({ process: op.process, startMs, endMs: op.timeMs });
      open.delete(op.process);
    }
  }
  for (const [process, startMs] of open) intervals.push({ process, startMs, endMs: Math.max(startMs, endMs) });
  return intervals.sort((a, b) => a.startMs - b.startMs);
}

export function countOverlaps(intervals: readonly Interval[]): number {
  let overlaps = 0;
  for (const [i, a] of intervals.entries()) {
    for (let j = i + 1; j < intervals.length; j++) {
      const b = intervals[j];
      if (b === undefined || b.startMs >= a.endMs) break;
      if (b.process !== a.process) overlaps++;
    }
  }
  return overlaps;
}

export function lostUpdates(writes: readonly RegisterWrite[], finalValue: number): number {
  return writes.filter((w) => w.accepted).length - finalValue;
}

/** Every write the register judged, with whether it was stale (see the header for "stale"). */
export function classifyWrites(
  ops: readonly Op[],
  writes: readonly RegisterWrite[],
): { write: RegisterWrite; stale: boolean }[] {
  const grants = ops.filter(isGrant);
  return writes.map((write) => {
    const own = lastBefore(grants, write.process, write.timeMs);
    if (own === undefined) return { write, stale: false };
    const stale =
      write.token === null
        ? grants.some((g) => g.process !== write.process && g.timeMs > own.timeMs && g.timeMs < write.timeMs)
        : !write.accepted;
    return { write, stale };
  });
}

export function staleWrites(
  ops: readonly Op[],
  writes: readonly RegisterWrite[],
): { accepted: number; rejected: number } {
  let accepted = 0;
  let rejected = 0;
  for (const { write, stale } of classifyWrites(ops, writes)) {
    if (!stale) continue;
    if (write.accepted) accepted++;
    else rejected++;
  }
  return { accepted, rejected };
}

export function checkMutex(ops: readonly Op[], writes: readonly RegisterWrite[], finalValue: number): MutexSafety {
  const overlaps = countOverlaps(holdingIntervals(ops));
  const lost = lostUpdates(writes, finalValue);
  const stale = staleWrites(ops, writes);
  return {
    overlaps,
    lostUpdates: lost,
    staleWritesAccepted: stale.accepted,
    staleWritesRejected: stale.rejected,
    verdict: lost > 0 || stale.accepted > 0 ? 'unsafe' : 'safe',
  };
}

function lastBefore(grants: readonly Op[], process: string, timeMs: number): Op | undefined {
  let found: Op | undefined;
  for (const g of grants) {
    if (g.timeMs > timeMs) break;
    if (g.process === process) found = g;
  }
  return found;
}
