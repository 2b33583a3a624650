/**
 * The results contract (DESIGN section 7): what a run directory's results.json and its
 * history/*.jsonl lines hold, as zod schemas. Both Worlds write these files and every reader
 * (the report, and tools to come) validates them here, since run directories are shared between
 * people and CI and a file may have been written by anyone.
 *
 * Objects are loose: a tool may add fields freely and they are carried along unchecked. The
 * fields named here are checked strictly: their types, numbers finite, strings bounded in length.
 */
import { z } from 'zod';
import type { Scenario } from '../scenarios/schema.ts';

/** Longest scenario, system, subject or client name, version, timestamp or provider. */
export const MAX_NAME_CHARS = 1000;
/** Longest scenario file path. */
export const MAX_PATH_CHARS = 4096;
/** Longest note, error or fault description. */
export const MAX_TEXT_CHARS = 10_000;
/** Longest command line stored in results.json. */
export const MAX_COMMAND_CHARS = 100_000;

const text = (max: number) => z.string().max(max, { error: `expected a string of at most ${max} characters` });
const name = text(MAX_NAME_CHARS);
const label = name.min(1, { error: 'expected a non-empty string' });
// JSON.parse turns 1e999 into Infinity; zod's number refuses infinities, so every number is finite.
const finite = z.number();
const count = z.number().int({ error: 'expected a whole number' }).min(0, { error: 'expected a number >= 0' });
const nonNegative = finite.min(0, { error: 'expected a number >= 0' });

export const percentilesSchema = z.looseObject({ p50: finite, p95: finite, p99: finite, max: finite });

/** A run's metrics. Election metrics, and takeoverMs (added later), are absent from some runs. */
export const runMetricsSchema = z.looseObject({
  lostUpdates: finite,
  staleWritesAccepted: finite,
  staleWritesRejected: finite,
  overlaps: finite,
  /** Absent from runs written before it existed. */
  acknowledgedWrites: count.optional(),
  acquisitions: finite,
  acquireFailures: finite,
  acquireLatencyMs: percentilesSchema.nullable(),
  unavailableMs: finite,
  takeoverMs: z.array(finite).optional(),
  leaderOverlapMs: finite.optional(),
  leaderlessMs: finite.optional(),
  failoverMs: z.array(finite).optional(),
});

/** The fields of one entry of results.json `runs`: a sim run, a live run, or a live run of a third-party subject. */
const runEntryFields = z.object({
  scenario: label,
  system: label,
  /** Runs of a subject (a third-party library, or a user's lock): its name (null for the system's own recipe). */
  subject: label.nullable().optional(),
  /** A subject loaded from a file: the file, as given to --subject (what a replay names). */
  subjectFile: text(MAX_PATH_CHARS).nullable().optional(),
  fencing: z.boolean(),
  seed: count.max(Number.MAX_SAFE_INTEGER, { error: 'expected a safe integer' }),
  mode: z.enum(['sim', 'live']),
  verdict: z.enum(['safe', 'unsafe', 'skipped', 'unknown']),
  skipped: text(MAX_TEXT_CHARS).nullable(),
  expected: z.enum(['safe', 'unsafe']).nullable(),
  expectationMet: z.boolean().nullable(),
  fencingSound: z.boolean().optional(),
  simulatedMs: nonNegative,
  /** The scenario's lease length (lock.ttlMs), so a report can mark where each grant's lease lapses; absent from older runs. */
  ttlMs: finite.gt(0, { error: 'expected a number > 0' }).optional(),
  wallMs: nonNegative.optional(),
  events: count.optional(),
  traceHash: name.nullable().optional(),
  file: text(MAX_PATH_CHARS).optional(),
  notes: z.array(text(MAX_TEXT_CHARS)).optional(),
  metrics: runMetricsSchema.nullable(),
  provider: name.optional(),
  durationMs: nonNegative.optional(),
});
export const runEntrySchema = runEntryFields.loose();

/**
 * The version of the results format this lockstep writes. Readers take a file without one as
 * version 1 (run directories written before the field existed), and refuse a version they do
 * not know rather than misread it.
 */
export const RESULTS_FORMAT_VERSION = 1;

/** A published result a scenario of the file reproduces (the scenario's `reference`), for the report to set beside its figure. */
const referenceFields = z.object({
  scenario: label,
  source: label,
  url: text(MAX_PATH_CHARS)
    .regex(/^https:\/\/[^\s"'<>`]+$/, { error: 'expected an https:// address without spaces or quotes' })
    .optional(),
  lostFraction: nonNegative.max(1, { error: 'expected a fraction, 0..1' }).optional(),
  note: text(MAX_TEXT_CHARS),
});

/**
 * A shard's record of itself (runner/shard.ts): shard `index` of `count` of work holding `planned`
 * units, cut from the inputs whose digest is `inputs`. Absent from unsharded and merged output.
 */
export const shardSchema = z.looseObject({
  index: count.min(1, { error: 'expected a number >= 1' }),
  count: count.min(1, { error: 'expected a number >= 1' }),
  planned: count,
  inputs: label,
});

/** results.json without its runs. createdAt and command are optional: DESIGN's example of the contract has neither. */
const resultsHeaderFields = z.object({
  formatVersion: z
    .literal(RESULTS_FORMAT_VERSION, { error: `expected formatVersion ${RESULTS_FORMAT_VERSION} (or none)` })
    .optional(),
  tool: z.looseObject({ name, version: name }),
  mode: z.enum(['sim', 'live']),
  provider: name.optional(),
  createdAt: name.optional(),
  command: text(MAX_COMMAND_CHARS).optional(),
  references: z.array(referenceFields.loose()).optional(),
  shard: shardSchema.optional(),
});

/** A results.json file. */
export const resultsFileSchema = resultsHeaderFields.extend({ runs: z.array(runEntrySchema) }).loose();

const opFields = z.object({
  kind: z.literal('op'),
  index: count,
  process: name,
  type: z.enum(['invoke', 'ok', 'fail', 'info']),
  f: z.enum(['acquire', 'release', 'read', 'write', 'campaign', 'resign', 'crash', 'fault-start', 'fault-end']),
  timeMs: finite,
  value: finite.optional(),
  token: finite.nullable().optional(),
  error: text(MAX_TEXT_CHARS).optional(),
  detail: text(MAX_TEXT_CHARS).optional(),
});
const opSchema = opFields.loose();

const registerWriteFields = z.object({
  kind: z.literal('register-write'),
  timeMs: finite,
  process: name,
  value: finite,
  token: finite.nullable(),
  accepted: z.boolean(),
});
const registerWriteSchema = registerWriteFields.loose();

/** One line of a history file: an operation (runner/history.ts Op) or a write the register judged (RegisterWrite). */
export const historyLineSchema = z.discriminatedUnion('kind', [opSchema, registerWriteSchema]);

export type RunMetricsEntry = z.infer<typeof runMetricsSchema>;
export type ReferenceEntry = z.infer<typeof referenceFields>;
export type RunEntry = z.infer<typeof runEntrySchema>;
export type ResultsFileContents = z.infer<typeof resultsFileSchema>;
export type HistoryLine = z.infer<typeof historyLineSchema>;

/**
 * Read-only all the way down, so that writers' readonly fields and arrays fit the types below, and
 * without the index signatures of loose objects: a writer's type names its fields.
 */
export type Written<T> = T extends readonly (infer E)[]
  ? readonly Written<E>[]
  : T extends object
    ? { readonly [K in keyof T as string extends K ? never : K]: Written<T[K]> }
    : T;

/**
 * What lockstep writes, derived from the schemas above: the fields they name and no others (these
 * types have no index signature, so a writer's field the contract lacks shows in a type check, see
 * test/results-contract.test.ts). A writer's type that stops fitting its schema fails to compile.
 */
export type RunEntryWritten = Written<z.input<typeof runEntryFields>>;
/** results.json's header as a writer gives it; the writer adds formatVersion itself. */
export type ResultsHeaderWritten = Written<Omit<z.input<typeof resultsHeaderFields>, 'formatVersion'>>;
/** History lines as written: `kind` is added by the writer. */
export type OpWritten = Written<Omit<z.input<typeof opFields>, 'kind'>>;
export type RegisterWriteWritten = Written<Omit<z.input<typeof registerWriteFields>, 'kind'>>;

/** The references of the scenarios that ran, each once, for results.json's header. */
export function referencesOf(
  scenarios: readonly Pick<Scenario, 'name' | 'reference'>[],
): Written<z.input<typeof referenceFields>>[] {
  const seen = new Set<string>();
  return scenarios.flatMap(({ name, reference }) => {
    if (reference === undefined || seen.has(name)) return [];
    seen.add(name);
    return [{ scenario: name, ...reference }];
  });
}

/** The fields of a run entry that name its history file. */
export type HistoryKey = Pick<RunEntryWritten, 'scenario' | 'system' | 'subject' | 'fencing' | 'seed'>;

/** The system, or for a live run of a third-party library, that library (it runs on the system's servers). */
export function runLabel(run: Pick<RunEntryWritten, 'system' | 'subject'>): string {
  return run.subject ?? run.system;
}

/** history/<scenario>.<system or subject>.<on|off>.<seed>.jsonl, the file holding a run's history. */
export function historyFileName(run: HistoryKey): string {
  return `${run.scenario}.${runLabel(run)}.${run.fencing ? 'on' : 'off'}.${run.seed}.jsonl`;
}
