/**
 * A duration a scenario may draw afresh each time: a fixed number of ms, `{ uniform: [min, max] }`,
 * or `{ exponential: { meanMs } }` (cut at ten means, so a run stays bounded). Draws come from the
 * client's own random stream (the simulator's seeded one), one per use: the same seed draws the
 * same holds. A fixed duration draws nothing, so scenarios that use none keep their trace hashes.
 */
import type { RandomSource } from '../backends/runtime.ts';

export type DurationSpec =
  | number
  | { readonly uniform: readonly [number, number] }
  | { readonly exponential: { readonly meanMs: number } };

/** An exponential draw is cut here, in means: beyond it, e^-10 of the mass. */
export const EXPONENTIAL_CUT = 10;
/** Resolution of a uniform variate drawn through RandomSource.int. */
const STEPS = 1_000_000;

/** A duration in ms for one use. */
export function drawMs(spec: DurationSpec, rng: RandomSource): number {
  if (typeof spec === 'number') return spec;
  if ('uniform' in spec) return rng.int(spec.uniform[0], spec.uniform[1]);
  const u = rng.int(0, STEPS - 1) / STEPS;
  return Math.min(EXPONENTIAL_CUT * spec.exponential.meanMs, -spec.exponential.meanMs * Math.log(1 - u));
}

/** The longest a draw can be: what the end-of-run grace must leave room for. */
export function maxMs(spec: DurationSpec): number {
  if (typeof spec === 'number') return spec;
  if ('uniform' in spec) return spec.uniform[1];
  return EXPONENTIAL_CUT * spec.exponential.meanMs;
}

/** The shortest a draw can be. */
export function minMs(spec: DurationSpec): number {
  if (typeof spec === 'number') return spec;
  if ('uniform' in spec) return spec.uniform[0];
  return 0;
}
