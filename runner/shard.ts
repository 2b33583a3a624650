/**
 * Shards: one command's work split across processes or machines, and told apart again.
 *
 * A simulated run depends only on its scenario, system, subject, fencing and seed, so any split
 * of the work gives the same runs. Shard I of N takes the units (runs of `run` and `live`,
 * schedules of `compare`, candidates of `check`) whose 0-based position in the unsharded order
 * is I-1 modulo N: every shard gets an even share whatever the order holds, and the merge puts
 * the units back in order by dealing them out again.
 *
 * Each shard records what it was (I, N, how many units the whole holds) and a digest of the
 * inputs that decide the work, so that a merge can refuse shards that overlap, are missing, or
 * were cut from different work.
 */
import { createHash } from 'node:crypto';
import { UsageError } from './errors.ts';

/** Most shards one piece of work is cut into: more than enough for a cluster, few enough to list in a message. */
export const MAX_SHARDS = 1000;

export interface Shard {
  /** 1-based: shard `index` of `count`. */
  readonly index: number;
  readonly count: number;
}

/** What a shard's output records about itself (results.json, compare.json and check.json `shard`). */
export interface ShardRecord extends Shard {
  /** Units of the whole, unsharded work. */
  readonly planned: number;
  /** Digest of the inputs that decide the work (see inputsDigest). */
  readonly inputs: string;
}

/** Parse `I/N` as given to `option`, or throw a UsageError saying what was expected. */
export function parseShard(raw: string, option = '--shard'): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(raw.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || !Number.isSafeInteger(index) || !Number.isSafeInteger(count))
    throw new UsageError(`${option} must be I/N, shard I of N (e.g. 2/4), got '${raw}'`);
  if (count < 1 || count > MAX_SHARDS)
    throw new UsageError(`${option} ${raw}: N must be between 1 and ${MAX_SHARDS}, got ${count}`);
  if (index < 1 || index > count)
    throw new UsageError(`${option} ${raw}: I must be between 1 and N (${count}), got ${index}`);
  return { index, count };
}

/** Whether the unit at 0-based `position` of the unsharded order belongs to `shard` (every unit does without one). */
export function inShard(position: number, shard: Shard | null): boolean {
  return shard === null || position % shard.count === shard.index - 1;
}

/** The units of `items` that belong to `shard`, in order. */
export function shareOf<T>(items: readonly T[], shard: Shard | null): T[] {
  return items.filter((_, i) => inShard(i, shard));
}

/** How many of `planned` units shard `index` of `count` holds (all of them without a shard). */
export function shareSize(planned: number, shard: Shard | null): number {
  if (shard === null) return planned;
  return planned < shard.index ? 0 : Math.floor((planned - shard.index) / shard.count) + 1;
}

/**
 * A digest of the inputs that decide a command's work: two shards with the same digest were cut
 * from the same work. Keys are sorted, so the digest does not depend on the order fields were set.
 */
export function inputsDigest(inputs: unknown): string {
  return createHash('sha256').update(canonicalJson(inputs)).digest('hex').slice(0, 32);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

/** The shard as the command line gives it, e.g. `2/4`. */
export function shardLabel(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** A command line with its `--shard I/N` (or `--shard=I/N`) taken out: the unsharded command it was cut from. */
export function withoutShard(commandLine: string): string {
  return commandLine.replace(/ --shard(?:=| )\S+/g, '');
}
