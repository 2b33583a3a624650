/**
 * Seeded randomness. One root seed; every component forks a named stream, derived from the
 * parent's seed and the name alone, so a new draw in one component never shifts another's.
 */
import seedrandom from 'seedrandom';
import { SimUsageError, requireProbability } from './errors.ts';

export class Rng {
  private readonly prng: seedrandom.PRNG;

  constructor(readonly seed: string) {
    this.prng = seedrandom.alea(seed);
  }

  static root(seed: number | string): Rng {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new SimUsageError(`seed must be a safe integer or a string, got ${String(seed)}`);
    }
    return new Rng(`lockstep:${String(seed)}`);
  }

  /** An independent stream named `name` under this one. */
  fork(name: string): Rng {
    if (name.length === 0) throw new SimUsageError('Rng.fork needs a non-empty stream name');
    return new Rng(`${this.seed}/${name}`);
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform in [min, max). */
  uniform(min: number, max: number): number {
    if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max)) {
      throw new SimUsageError(`Rng.uniform needs finite min <= max, got [${min}, ${max}]`);
    }
    return min + (max - min) * this.prng();
  }

  /** Uniform integer in [min, max], both ends included. */
  int(min: number, max: number): number {
    if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min <= max)) {
      throw new SimUsageError(`Rng.int needs integers min <= max, got [${min}, ${max}]`);
    }
    return min + Math.floor(this.prng() * (max - min + 1));
  }

  /** True with probability `probability`. */
  chance(probability: number): boolean {
    requireProbability('Rng.chance probability', probability);
    return this.prng() < probability;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new SimUsageError('Rng.pick needs a non-empty list');
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- the index is in [0, length - 1] of a non-empty list (a guard would reject lists holding undefined)
    return items[this.int(0, items.length - 1)]!;
  }

  /** `bytes` random bytes as lowercase hex: lock values, request ids. */
  hex(bytes: number): string {
    if (!Number.isInteger(bytes) || bytes <= 0)
      throw new SimUsageError(`Rng.hex needs a positive byte count, got ${bytes}`);
    let out = '';
    for (let i = 0; i < bytes; i++)
      out += Math.floor(this.prng() * 256)
        .toString(16)
        .padStart(2, '0');
    return out;
  }
}
