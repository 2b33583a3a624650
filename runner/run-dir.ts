/**
 * The run directory: runs/<timestamp>/ with results.json and one history file per run, and
 * runs/latest pointing at it.
 *
 * What survives a kill at any moment: runs are written to `<timestamp>.partial/` as they finish
 * (history files at once, results.json entry by entry), so a long command keeps no history in
 * memory. Only a finished results.json is renamed to `<timestamp>/`, and `latest` moves to it only
 * once its report is written too, by an atomic rename of a fresh link. A `.partial` directory is
 * marked with its writer's process id and start time; the next command that writes into the same
 * `--out` removes those whose writer is gone. Everything `--out` needs (a directory it can create
 * and write, a `latest` that is a link or absent) is checked before any run starts.
 */
import {
  closeSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { accessSync, constants } from 'node:fs';
import { dirname, join, parse, relative, resolve, sep } from 'node:path';
import {
  RESULTS_FORMAT_VERSION,
  historyFileName,
  type OpWritten,
  type RegisterWriteWritten,
  type ResultsHeaderWritten,
  type RunEntryWritten,
} from './results.ts';
import { UsageError } from './errors.ts';

/** A finished run's entry in results.json: the results contract's type (runner/results.ts). */
export type TimedRun = RunEntryWritten;

/** results.json without its runs: what is known before the first run. */
export type ResultsHeader = ResultsHeaderWritten;

/** What a finished run leaves: its result, and the history behind it. */
export interface FinishedRun {
  readonly run: TimedRun;
  readonly history: readonly OpWritten[];
  readonly writes: readonly RegisterWriteWritten[];
}

const PARTIAL = '.partial';
const OWNER_FILE = '.lockstep-writer';

/**
 * Make `dir` ready to receive run directories, or refuse with a UsageError naming `option`:
 * created one level at a time (Node's recursive mkdir loops for ever under /proc), writable, and
 * its `latest` absent or a link. Removes `.partial` directories whose writer has died.
 */
export function prepareOutDir(dir: string, option = '--out'): void {
  ensureWritableDirectory(dir, option);
  const latest = join(dir, 'latest');
  const stat = lstatOrNull(latest);
  if (stat !== null && !stat.isSymbolicLink()) {
    throw new UsageError(
      `${option}: '${latest}' is a ${stat.isDirectory() ? 'directory' : 'file'}, not lockstep's link to the newest run; move it away or choose another --out`,
    );
  }
  removeAbandonedPartials(dir);
}

/** Create `dir` if need be and check it is writable, or refuse with a UsageError naming `option`. */
export function ensureWritableDirectory(dir: string, option: string): void {
  makeDirectory(dir, option);
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new UsageError(`${option}: cannot write to '${dir}': ${errorInWords(error)}`);
  }
}

/** mkdir -p, one component at a time, refusing a component that exists and is not a directory. */
function makeDirectory(dir: string, option: string): void {
  const absolute = resolve(dir);
  const { root } = parse(absolute);
  const parts = absolute
    .slice(root.length)
    .split(sep)
    .filter((p) => p.length > 0);
  let path = root;
  for (const part of parts) {
    path = join(path, part);
    const existing = statOrNull(path);
    if (existing?.isDirectory() === true) continue;
    if (existing !== null) throw new UsageError(`${option}: '${path}' exists and is not a directory`);
    // stat follows links: a link to nothing stats as absent, and mkdir would only say EEXIST.
    if (lstatOrNull(path)?.isSymbolicLink() === true)
      throw new UsageError(
        `${option}: '${path}' is a symbolic link whose target does not exist (or is a loop of links)`,
      );
    try {
      mkdirSync(path);
    } catch (error) {
      if (errorCode(error) === 'EEXIST' && statOrNull(path)?.isDirectory() === true) continue;
      throw new UsageError(`${option}: cannot create '${path}': ${errorInWords(error)}`);
    }
  }
}

/** This process, as it can be recognised later: its pid, and its start time so a reused pid is not taken for it. */
function writerIdentity(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (start time in clock ticks) counted after the command name, which may hold spaces.
    return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return null;
  }
}

function writerAlive(identity: string): boolean {
  const [pidText, start] = identity.split(' ');
  const pid = Number(pidText);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  const now = start === '?' ? null : writerIdentity(pid);
  if (now !== null) return now === identity;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

function removeAbandonedPartials(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(PARTIAL)) continue;
    const path = join(dir, name);
    let owner: string;
    try {
      owner = readFileSync(join(path, OWNER_FILE), 'utf8').trim();
    } catch {
      continue; // not ours, or not a directory: leave it
    }
    if (!writerAlive(owner)) rmSync(path, { recursive: true, force: true });
  }
}

/** Writes one run directory as its runs finish; `finish` makes it whole. */
export class RunDirWriter {
  readonly final: string;
  private readonly staging: string;
  private readonly results: number;
  private count = 0;

  private constructor(
    private readonly outDir: string,
    stamp: string,
    header: ResultsHeader,
  ) {
    this.final = resolve(outDir, stamp);
    this.staging = `${this.final}${PARTIAL}`;
    rmSync(this.staging, { recursive: true, force: true });
    mkdirSync(join(this.staging, 'history'), { recursive: true });
    writeFileSync(join(this.staging, OWNER_FILE), `${writerIdentity(process.pid) ?? `${process.pid} ?`}\n`);
    this.results = openSync(join(this.staging, 'results.json'), 'w');
    const head = JSON.stringify({ formatVersion: RESULTS_FORMAT_VERSION, ...header, runs: [] }, null, 2);
    writeSync(this.results, `${head.slice(0, head.lastIndexOf('[]'))}[`);
  }

  /** Start a run directory `stamp` under `outDir` (prepared by prepareOutDir). */
  static open(outDir: string, stamp: string, header: ResultsHeader): RunDirWriter {
    return new RunDirWriter(outDir, stamp, header);
  }

  /** Append one finished run: its history file now, its entry in results.json. */
  add({ run, history, writes }: FinishedRun): void {
    if (run.skipped === null) {
      // One line per operation, then one per write the register judged; `kind` tells them apart.
      const file = openSync(join(this.staging, 'history', historyFileName(run)), 'w');
      try {
        for (const op of history) writeSync(file, `${JSON.stringify({ kind: 'op', ...op })}\n`);
        for (const write of writes) writeSync(file, `${JSON.stringify({ kind: 'register-write', ...write })}\n`);
      } finally {
        closeSync(file);
      }
    }
    this.addEntry(run);
  }

  private addEntry(run: TimedRun): void {
    const entry = JSON.stringify(run, null, 2).replace(/\n/g, '\n    ');
    writeSync(this.results, `${this.count === 0 ? '' : ','}\n    ${entry}`);
    this.count += 1;
  }

  /** Append one finished run whose history is already written, in the file at `historyFrom` (copied), or none. */
  addWritten(run: TimedRun, historyFrom: string | null): void {
    if (historyFrom !== null) copyFileSync(historyFrom, join(this.staging, 'history', historyFileName(run)));
    this.addEntry(run);
  }

  /** Copy a file into the directory, at `path` relative to it. */
  copyFile(from: string, path: string): void {
    this.writeFile(path, '');
    copyFileSync(from, this.inside(path));
  }

  /** Write one more file into the directory, at `path` relative to it (a command's own output beside results.json). */
  writeFile(path: string, text: string): void {
    const target = this.inside(path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }

  private inside(path: string): string {
    const target = resolve(this.staging, path);
    if (!target.startsWith(`${this.staging}${sep}`)) throw new Error(`run directory: ${path} is outside it`);
    return target;
  }

  /** Close results.json and move the directory into place; returns its final path. `latest` is not moved yet. */
  finish(): string {
    writeSync(this.results, this.count === 0 ? ']\n}\n' : '\n  ]\n}\n');
    closeSync(this.results);
    rmSync(join(this.staging, OWNER_FILE));
    renameSync(this.staging, this.final);
    return this.final;
  }

  /** Remove everything written so far: the command failed, and a half-written directory would mislead. */
  abandon(): void {
    closeSync(this.results);
    rmSync(this.staging, { recursive: true, force: true });
  }

  /** Point `<outDir>/latest` at the finished directory: a new link renamed over the old one, so it never dangles. */
  pointLatest(): void {
    const latest = join(this.outDir, 'latest');
    const fresh = `${latest}.${process.pid}.tmp`;
    rmSync(fresh, { force: true });
    symlinkSync(relative(resolve(this.outDir), this.final), fresh);
    renameSync(fresh, latest);
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function lstatOrNull(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String(error);
}

/** What the file system refused, in words, with its code after them for a search: "permission denied (EACCES)". */
function errorInWords(error: unknown): string {
  const code = errorCode(error);
  const words: Readonly<Record<string, string>> = {
    EEXIST: 'something that is not a directory is already there',
    EACCES: 'permission denied',
    EPERM: 'the operation is not permitted',
    ENOENT: 'no such file or directory',
    ENOTDIR: 'a part of the path is not a directory',
    EROFS: 'the file system is read-only',
    ENOSPC: 'no space left on the device',
    EDQUOT: 'the disk quota is used up',
    ENAMETOOLONG: 'the name is too long',
    ELOOP: 'too many symbolic links (a loop?)',
  };
  const text = words[code];
  return text === undefined ? `the file system said ${code}` : `${text} (${code})`;
}
