/**
 * compare.json: what `lockstep compare` writes beside an empty results.json in its run directory,
 * and what the report reads back. Part of the results contract (see results.ts): loose objects,
 * the named fields checked strictly, every number finite, every string bounded.
 */
import { z } from 'zod';
import {
  MAX_COMMAND_CHARS,
  MAX_NAME_CHARS,
  MAX_PATH_CHARS,
  MAX_TEXT_CHARS,
  shardSchema,
  type Written,
} from './results.ts';

export const COMPARE_FORMAT_VERSION = 1;
export const COMPARE_FILE = 'compare.json';
/** Most schedules one campaign runs: each is a run per system and fencing, and the file lists them all. */
export const MAX_SCHEDULES = 100_000;

const text = (max: number) => z.string().max(max, { error: `expected a string of at most ${max} characters` });
const name = text(MAX_NAME_CHARS).min(1, { error: 'expected a non-empty string' });
const count = z.number().int({ error: 'expected a whole number' }).min(0, { error: 'expected a number >= 0' });
const fraction = z.number().min(0).max(1, { error: 'expected a fraction between 0 and 1' });
const nonNegative = z.number().min(0, { error: 'expected a number >= 0' });
const percentiles = z.looseObject({ p50: nonNegative, p95: nonNegative, p99: nonNegative, max: nonNegative });

/** The live runs of a cell, beside the simulated ones (compare --live K). */
const liveCellSchema = z.looseObject({
  runs: count,
  notApplicable: count,
  unknown: count,
  unsafe: count,
  unsafeFraction: fraction.nullable(),
  interval: z.tuple([fraction, fraction]),
  /** Schedules whose live verdict differs from the simulated one. */
  disagreements: z.array(z.looseObject({ schedule: count, sim: name, live: name })),
});

export const compareCellSchema = z.looseObject({
  /** The system whose servers the cell ran on (and whose recipe, when there is no subject). */
  system: name,
  /** A subject run instead of the system's recipe (compare --subject): its name; absent or null otherwise. */
  subject: name.nullable().optional(),
  /** A subject loaded from a file: the file, as given to --subject (what the replay names). */
  subjectFile: text(MAX_PATH_CHARS).nullable().optional(),
  fencing: z.enum(['off', 'on']),
  fencingSound: z.boolean(),
  runs: count,
  notApplicable: count,
  notApplicableReasons: z.array(z.looseObject({ reason: text(MAX_TEXT_CHARS), schedules: count })),
  unknown: count,
  unsafe: count,
  unsafeFraction: fraction.nullable(),
  interval: z.tuple([fraction, fraction]),
  ackedWrites: count,
  lostUpdates: z.number(),
  staleWritesAccepted: count,
  lostPer1000: z.number().nullable(),
  stalePer1000: nonNegative.nullable(),
  unavailableFraction: fraction.nullable(),
  takeoverMs: z.looseObject({ p50: nonNegative, p99: nonNegative, samples: count }).nullable(),
  firstUnsafe: count.nullable(),
  /** The shrunk counterexample's scenario file, relative to the run directory, or null. */
  counterexample: text(MAX_PATH_CHARS).nullable(),
  replay: text(MAX_COMMAND_CHARS).nullable(),
  live: liveCellSchema.optional(),
});

export const speedRowSchema = z.looseObject({
  system: name,
  /** A subject's speed, on its system's servers: its name; absent or null for the system's own recipe. */
  subject: name.nullable().optional(),
  source: z.enum(['sim', 'live']),
  uncontendedMs: percentiles.nullable(),
  uncontendedRounds: count,
  contendedClients: count,
  contendedAcquisitionsPerSec: nonNegative,
});

/** One run of a shard's campaign as its cell counted it (runner/compare.ts CellRecord). */
const cellRecordSchema = z.union([
  z.looseObject({ cell: name, schedule: count, notApplicable: text(MAX_TEXT_CHARS) }),
  z.looseObject({
    cell: name,
    schedule: count,
    summary: z.looseObject({
      verdict: z.enum(['safe', 'unsafe', 'skipped', 'unknown']),
      lostUpdates: z.number(),
      staleWritesAccepted: count,
      ackedWrites: count,
      unavailableMs: nonNegative,
      simulatedMs: nonNegative,
      takeoverMs: z.array(nonNegative),
    }),
  }),
]);

export const compareFileSchema = z.looseObject({
  formatVersion: z.literal(COMPARE_FORMAT_VERSION, { error: `expected formatVersion ${COMPARE_FORMAT_VERSION}` }),
  tool: z.looseObject({ name, version: name }),
  command: text(MAX_COMMAND_CHARS).optional(),
  seed: count.max(Number.MAX_SAFE_INTEGER),
  workload: z.looseObject({
    clients: count,
    durationMs: nonNegative,
    ttlMs: nonNegative,
    holdMs: nonNegative,
    thinkMs: nonNegative,
    latencyMs: z.looseObject({ min: nonNegative, max: nonNegative }),
  }),
  systems: z.array(name),
  /** How many live schedules ran (compare --live K); 0 when none did. */
  live: count,
  cells: z.array(compareCellSchema),
  speed: z.array(speedRowSchema),
  /** The campaign's schedules, in order: scenario objects that fit no system yet. */
  schedules: z.array(z.looseObject({ faults: z.array(z.unknown()) })).max(MAX_SCHEDULES),
  /**
   * A shard of a campaign (compare --shard): which one, and every run its cells counted, so that
   * `lockstep merge` counts the whole campaign's cells again. Absent from whole campaigns.
   */
  shard: shardSchema.extend({ records: z.array(cellRecordSchema) }).optional(),
});

export type CompareFile = z.infer<typeof compareFileSchema>;
export type CompareCellEntry = z.infer<typeof compareCellSchema>;
/** What compare writes: the fields the schemas name and no others. */
export type CompareFileWritten = Written<z.input<typeof compareFileSchema>>;
export type CompareCellWritten = Written<z.input<typeof compareCellSchema>>;
