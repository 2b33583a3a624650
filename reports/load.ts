/**
 * Reading run directories: results.json, and a run's history file when a chart needs it. Reports
 * read these files and nothing else, so a sim run, a live run or both merged render alike.
 *
 * Run directories are shared between people and CI, so what is read is treated as hostile: a file
 * is refused before it is read when it is not a regular file or is larger than its limit, and
 * every value is validated against the results contract (runner/results.ts). Any problem is a
 * ReportError naming the file, the line or field, and what was expected.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import type { Op, RegisterWrite } from '../runner/history.ts';
import {
  historyFileName,
  historyLineSchema,
  resultsFileSchema,
  type ReferenceEntry,
  type RunEntry,
} from '../runner/results.ts';
import { COMPARE_FILE, compareFileSchema, type CompareFile } from '../runner/compare-file.ts';

export class ReportError extends Error {
  override name = 'ReportError';
}

/** The largest results.json read: about 70,000 runs, far more than any real run directory holds. */
export const MAX_RESULTS_BYTES = 64 * 1024 * 1024;
/** The largest history file read: about a million operations, an hour-long run many times over. */
export const MAX_HISTORY_BYTES = 64 * 1024 * 1024;

/** One entry of results.json `runs`, with the directory it came from; `system` is the subject for a third-party library's runs. */
export type LoadedRun = RunEntry & {
  /** The run directory it came from. */
  readonly dir: string;
  /** The system whose servers it ran on: `system` itself, but for a subject's run. */
  readonly runsOn?: string;
};

export interface Source {
  readonly dir: string;
  readonly version: string;
  readonly mode: string;
  readonly createdAt: string;
  readonly command: string;
}

export interface LoadedRuns {
  readonly sources: readonly Source[];
  readonly runs: readonly LoadedRun[];
  /** The campaigns of `lockstep compare`: compare.json of each directory that holds one. */
  readonly campaigns: readonly { readonly dir: string; readonly file: CompareFile }[];
  /** Published results the scenarios reproduce, each scenario's once (the first directory's). */
  readonly references: readonly ReferenceEntry[];
}

export function loadRunDirs(dirs: readonly string[]): LoadedRuns {
  if (dirs.length === 0) throw new ReportError('name at least one run directory');
  const sources: Source[] = [];
  const runs: LoadedRun[] = [];
  const campaigns: { dir: string; file: CompareFile }[] = [];
  const references: ReferenceEntry[] = [];
  for (const dir of dirs) {
    const file = join(dir, 'results.json');
    if (statOrNull(file) === null)
      throw new ReportError(
        `${dir}: no results.json (expected a run directory written by lockstep run or lockstep live)`,
      );
    const results = validate(file, '', resultsFileSchema, parseJson(file, '', readBounded(file, MAX_RESULTS_BYTES)));
    sources.push({
      dir,
      version: results.tool.version,
      mode: results.mode,
      createdAt: results.createdAt ?? '',
      command: results.command ?? '',
    });
    for (const reference of results.references ?? [])
      if (!references.some((r) => r.scenario === reference.scenario)) references.push(reference);
    // A third-party subject's runs are its own column, apart from the system whose servers it ran on.
    for (const run of results.runs) runs.push({ ...run, system: run.subject ?? run.system, runsOn: run.system, dir });
    const compared = join(dir, COMPARE_FILE);
    if (statOrNull(compared) !== null)
      campaigns.push({
        dir,
        file: validate(
          compared,
          '',
          compareFileSchema,
          parseJson(compared, '', readBounded(compared, MAX_RESULTS_BYTES)),
        ),
      });
  }
  return { sources, runs, campaigns, references };
}

/**
 * The run's history file, or null when its names cannot name one: a scenario or system holding a
 * path separator would reach outside history/ (lockstep could not have written such a file).
 */
export function historyPath(run: LoadedRun): string | null {
  const name = historyFileName(run);
  return /[/\\\0]/.test(name) ? null : join(run.dir, 'history', name);
}

/** A run's operations and the register's judged writes, or null when the run has no history file. */
export function readHistory(run: LoadedRun): { ops: Op[]; writes: RegisterWrite[] } | null {
  const path = historyPath(run);
  if (path === null || statOrNull(path) === null) return null;
  const ops: Op[] = [];
  const writes: RegisterWrite[] = [];
  readBounded(path, MAX_HISTORY_BYTES)
    .split('\n')
    .forEach((text, i) => {
      if (text.trim() === '') return;
      const where = `line ${i + 1}`;
      const line = validate(path, where, historyLineSchema, parseJson(path, where, text));
      if (line.kind === 'register-write') {
        // eslint-disable-next-line @typescript-eslint/no-unused-vars -- kind is taken out so the rest is the write
        const { kind: _, ...write } = line;
        writes.push(write);
      } else {
        // eslint-disable-next-line @typescript-eslint/no-unused-vars -- kind is taken out so the rest is the op
        const { kind: _, ...op } = line;
        ops.push(op);
      }
    });
  return { ops, writes };
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new ReportError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/**
 * The file's text, refused before a byte is read when it is not a regular file (a FIFO would block
 * and /dev/zero never ends) or is larger than `limitBytes`. The check is made on the path, so no
 * device is even opened, and again on the opened descriptor, so a file swapped in between is caught;
 * no more than the size checked is read, so a file that grows meanwhile cannot exceed the limit.
 */
function readBounded(file: string, limitBytes: number): string {
  checkReadable(file, statOrNull(file), limitBytes);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new ReportError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    const stats = fstatSync(fd);
    checkReadable(file, stats, limitBytes);
    const buffer = Buffer.alloc(stats.size);
    let filled = 0;
    for (let n = -1; n !== 0 && filled < buffer.length; filled += n)
      n = readSync(fd, buffer, filled, buffer.length - filled, filled);
    return buffer.subarray(0, filled).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function checkReadable(file: string, stats: Stats | null, limitBytes: number): void {
  if (stats === null) throw new ReportError(`${file}: no such file`);
  if (!stats.isFile())
    throw new ReportError(`${file}: not a regular file (a directory, FIFO, socket or device is never read)`);
  if (stats.size > limitBytes)
    throw new ReportError(
      `${file}: ${stats.size} bytes, larger than the limit of ${limitBytes} bytes (${limitBytes / 1024 / 1024} MiB)`,
    );
}

function parseJson(file: string, where: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ReportError(`${at(file, where)}not valid JSON (${plain((error as Error).message)})`);
  }
}

function validate<T extends z.ZodType>(file: string, where: string, schema: T, data: unknown): z.output<T> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue === undefined) throw new ReportError(`${at(file, where)}invalid, and zod named no issue`);
  const path = formatPath(issue.path);
  throw new ReportError(`${at(file, where)}${path === '' ? '' : `${path}: `}${describeIssue(issue)}`);
}

function at(file: string, where: string): string {
  return where === '' ? `${file}: ` : `${file}: ${where}: `;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message))
    return `missing; expected ${article(issue.expected)}`;
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input'))
    return `expected ${article(issue.expected)}`;
  if (issue.code === 'invalid_value') return `expected one of ${issue.values.map((v) => `'${String(v)}'`).join(', ')}`;
  return plain(issue.message);
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Error text that may quote the file: control characters (a newline, a terminal escape) taken out, so the message stays one plain line. */
function plain(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}
