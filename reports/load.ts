/**
 * Reading run directories: results.json, and a run's history file when a chart needs it. Reports
 * read these files and nothing else, so a sim run, a live run or both merged render alike.
 *
 * Run directories are shared between people and CI, so what is read is treated as hostile: a file
 * is refused before it is read when it is not a regular file or is larger than its limit, and
 * every value is validated against the results contract (runner/results.ts). Any problem is a
 * ReportError naming the file, the line or field, and what was expected.
 */
import { join } from 'node:path';
import type { Op, RegisterWrite } from '../runner/history.ts';
import {
  historyFileName,
  historyLineSchema,
  resultsFileSchema,
  type ReferenceEntry,
  type RunEntry,
} from '../runner/results.ts';
import { COMPARE_FILE, compareFileSchema, type CompareFile } from '../runner/compare-file.ts';
import {
  MAX_RESULTS_BYTES,
  parseJson,
  readBounded,
  readJsonFile,
  ReportError,
  statOrNull,
  validate,
} from '../runner/read-json.ts';

export { MAX_RESULTS_BYTES, readJsonFile, ReportError };

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
    const results = readJsonFile(file, resultsFileSchema);
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
        file: readJsonFile(compared, compareFileSchema),
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
