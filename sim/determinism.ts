/**
 * Determinism, checked: run the same seed twice and name the first event where the runs part.
 * Used by `--check-determinism` and by the tests.
 */
import { describeEntry, type Trace, type TraceEntry, type TraceOptions } from './trace.ts';

export interface Divergence {
  readonly index: number;
  readonly first: TraceEntry | undefined;
  readonly second: TraceEntry | undefined;
}

export interface DeterminismReport {
  readonly deterministic: boolean;
  readonly hashes: readonly [string, string];
  readonly events: readonly [number, number];
  /** The first event that differs; null when the runs agree, or when they differ only past the recorded entries. */
  readonly divergence: Divergence | null;
  readonly message: string;
}

export const DEFAULT_RECORD_LIMIT = 2_000_000;

/** `runOnce` builds a fresh simulation with the given trace options, runs it, and returns its trace. */
export async function checkDeterminism(
  runOnce: (trace: TraceOptions) => Promise<Trace>,
  recordLimit: number = DEFAULT_RECORD_LIMIT,
): Promise<DeterminismReport> {
  const first = await runOnce({ recordLimit });
  const second = await runOnce({ recordLimit });
  return compareTraces(first, second, recordLimit);
}

/** Compare two traces recorded with the same `recordLimit`, naming the first event where they part. */
export function compareTraces(
  first: Trace,
  second: Trace,
  recordLimit: number = DEFAULT_RECORD_LIMIT,
): DeterminismReport {
  const hashes = [first.hash(), second.hash()] as const;
  const events = [first.length, second.length] as const;
  if (hashes[0] === hashes[1]) {
    return {
      deterministic: true,
      hashes,
      events,
      divergence: null,
      message: `deterministic: ${events[0]} events, trace ${hashes[0]}`,
    };
  }
  const divergence = firstDifference(first.entries, second.entries);
  const message =
    divergence === null
      ? `not deterministic: traces ${hashes[0]} and ${hashes[1]} differ after the ${recordLimit} recorded events`
      : `not deterministic: first divergence at event #${divergence.index}\n  run 1: ${describeEntry(divergence.first)}\n  run 2: ${describeEntry(divergence.second)}`;
  return { deterministic: false, hashes, events, divergence, message };
}

function firstDifference(a: readonly TraceEntry[], b: readonly TraceEntry[]): Divergence | null {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (
      x === undefined ||
      y === undefined ||
      x.timeMs !== y.timeMs ||
      x.node !== y.node ||
      x.label !== y.label ||
      x.aux !== y.aux
    ) {
      return { index: i, first: x, second: y };
    }
  }
  return null;
}
