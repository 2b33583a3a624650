/**
 * The timeline of an unsafe run, as plain data for charts.ts: who believed it held the lock when
 * and with which fencing token, when each grant's lease would lapse, the faults, and the writes.
 * Read from the run's history alone (and its TTL from results.json, when the run recorded it).
 */
import { classifyWrites, holdingIntervals } from '../checkers/mutex.ts';
import { kindOfLabel } from '../faults/index.ts';
import { isGrant, NEMESIS, type Op } from '../runner/history.ts';
import type { FaultWindow, HoldInterval, LeaseExpiry, TimelineWrite } from './charts.ts';
import { readHistory, type LoadedRun } from './load.ts';

export interface Timeline {
  readonly run: LoadedRun;
  readonly title: string;
  readonly endMs: number;
  /** The lease length the clients were configured with; absent for runs from before results.json held it. */
  readonly ttlMs?: number;
  readonly holds: HoldInterval[];
  readonly expiries: LeaseExpiry[];
  readonly faults: FaultWindow[];
  readonly writes: TimelineWrite[];
}

/** The timeline of an unsafe run: who believed it held the lock when, the faults, and the writes. */
export function timeline(run: LoadedRun, group?: { readonly unsafe: number; readonly runs: number }): Timeline | null {
  const history = readHistory(run);
  if (history === null) return null;
  const clientOps = history.ops.filter((op) => op.process !== NEMESIS);
  // A loop, not Math.max(...ops): a long history has more operations than a call may take arguments.
  const endMs = history.ops.reduce((max, op) => Math.max(max, op.timeMs), run.simulatedMs);
  const grants = clientOps.filter(isGrant);
  const tokens = new Map(grants.map((g) => [grantKey(g.process, g.timeMs), g.token ?? null]));
  return {
    run,
    title:
      `${run.scenario}: ${run.system}, fencing ${run.fencing ? 'on' : 'off'} (${run.mode})` +
      (group === undefined
        ? `, seed ${run.seed}`
        : `: unsafe in ${group.unsafe} of ${group.runs} seed${group.runs === 1 ? '' : 's'}, seed ${run.seed} drawn`),
    endMs,
    ...(run.ttlMs === undefined ? {} : { ttlMs: run.ttlMs }),
    holds: holdingIntervals(clientOps, endMs).map((i) => ({
      client: i.process,
      startMs: i.startMs,
      endMs: i.endMs,
      token: tokens.get(grantKey(i.process, i.startMs)) ?? null,
    })),
    expiries: leaseExpiries(grants, run.ttlMs),
    faults: faultWindows(history.ops, endMs),
    writes: classifyWrites(clientOps, history.writes).map(({ write, stale }) => ({
      client: write.process,
      atMs: write.timeMs,
      accepted: write.accepted,
      stale,
      token: write.token,
    })),
  };
}

function grantKey(process: string, timeMs: number): string {
  return `${process}\u0000${String(timeMs)}`;
}

/**
 * Where each grant's lease lapses unless renewed: the grant's time plus the TTL. The client can
 * only have started counting its lease when it was granted, so this is the latest it can believe
 * the lease lasts; a server may expire it sooner (a clock jump, a restart that forgot the key).
 * Session-based locks renew while the client lives, so there the mark is a deadline only for a
 * client that has stopped (paused, partitioned away).
 */
function leaseExpiries(grants: readonly Op[], ttlMs: number | undefined): LeaseExpiry[] {
  if (ttlMs === undefined) return [];
  return grants.map((g) => ({
    client: g.process,
    grantedMs: g.timeMs,
    expiresMs: g.timeMs + ttlMs,
    token: g.token ?? null,
  }));
}

/**
 * Each fault-start with the first fault-end of the same fault at or after it, coloured by the kind
 * its label names (the planner's labels begin with the kind: 'pause c1', 'partition halves
 * (drop)'). Histories are in time order, so each fault's ends are sorted and a binary search finds
 * it: searching the whole history per start is quadratic, and a hostile history can hold a
 * million starts.
 */
function faultWindows(ops: readonly Op[], endMs: number): FaultWindow[] {
  const ends = new Map<number | undefined, number[]>();
  for (const op of ops) {
    if (op.f !== 'fault-end') continue;
    const times = ends.get(op.value) ?? [];
    times.push(op.timeMs);
    ends.set(op.value, times);
  }
  return ops
    .filter((op) => op.f === 'fault-start')
    .map((start) => {
      const label = start.detail ?? `fault ${start.value ?? ''}`;
      const color = kindOfLabel(label)?.color;
      return {
        label,
        startMs: start.timeMs,
        endMs: firstAtOrAfter(ends.get(start.value) ?? [], start.timeMs) ?? endMs,
        ...(color === undefined ? {} : { color }),
      };
    });
}

function firstAtOrAfter(sorted: readonly number[], timeMs: number): number | undefined {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- low <= middle < high <= length: in bounds
    if (sorted[middle]! < timeMs) low = middle + 1;
    else high = middle;
  }
  return sorted[low];
}
