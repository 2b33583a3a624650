/**
 * What a lock costs, from the same history the safety checks read:
 *   acquisitions       grants (acquire or campaign ok);
 *   acquireFailures    attempts that failed or whose outcome is unknown;
 *   acquireLatencyMs   invoke-to-ok time of successful attempts, as percentiles;
 *   unavailableMs      time during which some client was trying to acquire and nobody held it
 *                      while able to use it: a holder stopped by a pause fault, or cut off from
 *                      every other node (servers and register) by an isolating partition, holds
 *                      a lock nobody can use;
 *   takeoverMs         for every holder lost while holding (crashed, paused, or cut off from
 *                      every node by an isolating partition), the time from that fault until the
 *                      lock was next granted: to another client, or to the same one once restarted,
 *                      resumed or reconnected. What a partition or a pause costs those who wait.
 */
import { holdingIntervals } from './mutex.ts';
import { isGrant, isLetGo, NEMESIS, type Op } from '../runner/history.ts';

export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface Performance {
  readonly acquisitions: number;
  readonly acquireFailures: number;
  readonly acquireLatencyMs: Percentiles | null;
  readonly unavailableMs: number;
  readonly takeoverMs: readonly number[];
}

/** Nearest-rank percentiles, rounded to 0.1 ms; null without samples. */
export function percentiles(samples: readonly number[]): Percentiles | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  // sorted is non-empty and every index below is clamped to [0, length - 1].
  // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- see above
  const rank = (p: number) => round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
  // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- see above
  return { p50: rank(50), p95: rank(95), p99: rank(99), max: round(sorted[sorted.length - 1]!) };
}

export function performance(ops: readonly Op[], endMs: number): Performance {
  const started = new Map<string, number>();
  const latencies: number[] = [];
  const waiting: { startMs: number; endMs: number }[] = [];
  let acquisitions = 0;
  let acquireFailures = 0;
  for (const op of ops) {
    if (op.f !== 'acquire' && op.f !== 'campaign') continue;
    if (op.type === 'invoke') {
      started.set(op.process, op.timeMs);
      continue;
    }
    const startMs = started.get(op.process);
    started.delete(op.process);
    if (startMs !== undefined) waiting.push({ startMs, endMs: op.timeMs });
    if (op.type === 'ok') {
      acquisitions++;
      if (startMs !== undefined) latencies.push(op.timeMs - startMs);
    } else {
      acquireFailures++;
    }
  }
  for (const startMs of started.values()) waiting.push({ startMs, endMs });
  return {
    acquisitions,
    acquireFailures,
    acquireLatencyMs: percentiles(latencies),
    unavailableMs: round(unavailable(waiting, runningHolds(ops, endMs), endMs)),
    takeoverMs: takeovers(ops),
  };
}

function takeovers(ops: readonly Op[]): number[] {
  const holding = new Set<string>();
  const out: number[] = [];
  const lost = (i: number, atMs: number) => {
    // Only a restarted, resumed or reconnected holder can be granted under its own name: that counts.
    const next = ops.slice(i + 1).find(isGrant);
    if (next !== undefined) out.push(round(next.timeMs - atMs));
  };
  ops.forEach((op, i) => {
    if (isGrant(op)) holding.add(op.process);
    else if (isLetGo(op)) holding.delete(op.process);
    else if (op.f === 'crash' && holding.delete(op.process)) lost(i, op.timeMs);
    else if (op.process === NEMESIS && op.f === 'fault-start' && op.detail !== undefined) {
      // One hand-over however many holders the fault hit (with a sound lock there is one); a
      // grant is lost once, so a crash of a paused holder is not a second hand-over.
      const hit = clientsMadeUseless(op.detail).filter((c) => holding.delete(c));
      if (hit.length > 0) lost(i, op.timeMs);
    }
  });
  return out;
}

/** The holding intervals, less the time each holder was stopped or cut off from everything. */
function runningHolds(ops: readonly Op[], endMs: number): { startMs: number; endMs: number }[] {
  const paused = uselessWindows(ops, endMs);
  return holdingIntervals(ops, endMs).flatMap((hold) => {
    let pieces = [{ startMs: hold.startMs, endMs: hold.endMs }];
    for (const stop of paused.get(hold.process) ?? [])
      pieces = pieces.flatMap((p) =>
        stop.endMs <= p.startMs || stop.startMs >= p.endMs
          ? [p]
          : [
              { startMs: p.startMs, endMs: stop.startMs },
              { startMs: stop.endMs, endMs: p.endMs },
            ].filter((q) => q.endMs > q.startMs),
      );
    return pieces;
  });
}

/** The clients a fault's label says it stopped or cut off from everything; none for other faults. */
function clientsMadeUseless(detail: string): string[] {
  const named = /^pause (.+)$/.exec(detail) ?? /^partition isolate (.+) \((?:drop|hold)\)$/.exec(detail);
  return (named?.[1] ?? '').split(', ').filter((n) => /^c\d+$/.test(n));
}

/**
 * When each client could not use a lock it held, from the nemesis's records: a fault labelled
 * `pause c1, c2` or `partition isolate c1 (drop)`, from its start to its end (or the end of the
 * run). Labels are the planner's (faults/pause.ts, faults/partition.ts).
 */
function uselessWindows(ops: readonly Op[], endMs: number): Map<string, { startMs: number; endMs: number }[]> {
  const open = new Map<number | undefined, { clients: string[]; startMs: number }>();
  const out = new Map<string, { startMs: number; endMs: number }[]>();
  const close = (clients: readonly string[], startMs: number, atMs: number) => {
    for (const client of clients) out.set(client, [...(out.get(client) ?? []), { startMs, endMs: atMs }]);
  };
  for (const op of ops) {
    if (op.process !== NEMESIS || op.detail === undefined) continue;
    if (op.f === 'fault-start') {
      const clients = clientsMadeUseless(op.detail);
      if (clients.length > 0) open.set(op.value, { clients, startMs: op.timeMs });
    } else if (op.f === 'fault-end') {
      const started = open.get(op.value);
      open.delete(op.value);
      if (started !== undefined) close(started.clients, started.startMs, op.timeMs);
    }
  }
  for (const started of open.values()) close(started.clients, started.startMs, endMs);
  return out;
}

/** Time in [0, endMs) covered by some waiting interval and by no holding interval. */
function unavailable(
  waiting: readonly { startMs: number; endMs: number }[],
  holding: readonly { startMs: number; endMs: number }[],
  endMs: number,
): number {
  const edges: { atMs: number; wait: number; hold: number }[] = [];
  for (const w of waiting) edges.push({ atMs: w.startMs, wait: 1, hold: 0 }, { atMs: w.endMs, wait: -1, hold: 0 });
  for (const h of holding) edges.push({ atMs: h.startMs, wait: 0, hold: 1 }, { atMs: h.endMs, wait: 0, hold: -1 });
  edges.sort((a, b) => a.atMs - b.atMs);
  let waiters = 0;
  let holders = 0;
  let lastMs = 0;
  let total = 0;
  for (const edge of edges) {
    const atMs = Math.min(edge.atMs, endMs);
    if (waiters > 0 && holders === 0) total += Math.max(0, atMs - lastMs);
    lastMs = Math.max(lastMs, atMs);
    waiters += edge.wait;
    holders += edge.hold;
  }
  return total;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
