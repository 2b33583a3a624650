/**
 * check.json: what `lockstep check` writes into its run directory beside results.json (which
 * holds the shrunk counterexample's run, when there is one) and the counterexample's scenario
 * file. Part of the results contract (see results.ts): loose objects, the named fields checked.
 */
import { z } from 'zod';
import { MAX_COMMAND_CHARS, MAX_NAME_CHARS, MAX_PATH_CHARS, shardSchema, type Written } from './results.ts';

export const CHECK_FORMAT_VERSION = 1;
export const CHECK_FILE = 'check.json';

const text = (max: number) => z.string().max(max, { error: `expected a string of at most ${max} characters` });
const name = text(MAX_NAME_CHARS).min(1, { error: 'expected a non-empty string' });
const count = z.number().int({ error: 'expected a whole number' }).min(0, { error: 'expected a number >= 0' });

export const checkFileSchema = z.looseObject({
  formatVersion: z.literal(CHECK_FORMAT_VERSION, { error: `expected formatVersion ${CHECK_FORMAT_VERSION}` }),
  tool: z.looseObject({ name, version: name }),
  command: text(MAX_COMMAND_CHARS).optional(),
  system: name,
  /** The subject checked instead of the system's recipe: its name, and the file it came from, if any. */
  subject: name.nullable(),
  subjectFile: text(MAX_PATH_CHARS).nullable(),
  differential: z.boolean(),
  fencing: z.enum(['off', 'on']),
  seed: count.max(Number.MAX_SAFE_INTEGER),
  /** Candidates the search was allowed (--runs). */
  runs: count,
  swarm: z.boolean(),
  durationMs: count,
  /** Candidates judged: up to and including the first unsafe one, or all of them. A shard counts its own. */
  tried: count,
  counterexample: z
    .looseObject({
      /** 1-based position of the first unsafe candidate in the whole search (what decides between shards). */
      candidate: count.min(1),
      shrinks: count,
      /** The scenario file, relative to the run directory. */
      file: text(MAX_PATH_CHARS),
      replay: text(MAX_COMMAND_CHARS),
      traceHash: name.nullable(),
    })
    .nullable(),
  shard: shardSchema.optional(),
});

export type CheckFile = z.infer<typeof checkFileSchema>;
export type CheckFileWritten = Written<z.input<typeof checkFileSchema>>;
