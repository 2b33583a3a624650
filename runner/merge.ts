/**
 * `lockstep merge`: shard run directories (written with --shard I/N) joined into one run directory
 * whose rows, metrics, trace hashes and counterexample are those one unsharded command writes.
 *
 * - run and live: the rows are dealt back into the unsharded order (shard I holds positions
 *   I-1, I-1+N, ...), each with its history file.
 * - compare: every cell is counted again from the records of all shards, in schedule order, as
 *   one process counts it; a cell's counterexample is the shard's whose first unsafe schedule is
 *   the campaign's first.
 * - check: the counterexample is the one with the lowest candidate: every shard judged all of
 *   its candidates below its own answer, so no earlier candidate of any shard was unsafe.
 *
 * Shards are refused, naming them, when they are not shards, overlap, are missing, or were cut
 * from different work or by different versions: a merge of those would read as a run that never
 * happened.
 */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECK_FILE, checkFileSchema, type CheckFile, type CheckFileWritten } from './check-file.ts';
import { COMPARE_FILE, compareFileSchema, type CompareFile, type CompareFileWritten } from './compare-file.ts';
import { countRecords, key, type CellRecord } from './compare.ts';
import { UsageError } from './errors.ts';
import { historyFileName, resultsFileSchema, type ResultsFileContents } from './results.ts';
import { RunDirWriter, type TimedRun } from './run-dir.ts';
import { shardLabel, shareSize, withoutShard } from './shard.ts';
import { readJsonFile, ReportError } from './read-json.ts';

export type MergeKind = 'run' | 'compare' | 'check';

/** One shard's run directory, read and validated. */
export interface ShardDir {
  readonly dir: string;
  readonly kind: MergeKind;
  readonly results: ResultsFileContents;
  /** The rows as the shard wrote them, key order and all (validated as `results.runs`), for an identical merge. */
  readonly rows: readonly TimedRun[];
  readonly compare: CompareFile | null;
  /** compare.json as the shard wrote it (validated as `compare`), for an identical merge. */
  readonly rawCompare: CompareFileWritten | null;
  readonly check: CheckFile | null;
  readonly shard: { readonly index: number; readonly count: number; readonly planned: number; readonly inputs: string };
}

export interface Merged {
  readonly dir: string;
  readonly kind: MergeKind;
  readonly mode: 'sim' | 'live';
  /** The merged rows (run and live), or the counterexample's run (check); none for compare. */
  readonly runs: readonly TimedRun[];
  readonly compare: CompareFileWritten | null;
  readonly check: CheckFileWritten | null;
  readonly shards: number;
}

/** Read every shard directory (a run directory, or an --out directory whose `latest` is one) and check they make a whole. */
export function readShards(dirs: readonly string[]): ShardDir[] {
  if (dirs.length === 0) throw new UsageError('merge: name the shard directories to merge');
  const shards = dirs.map(readShard);
  checkWhole(shards);
  return [...shards].sort((a, b) => a.shard.index - b.shard.index);
}

function readShard(given: string): ShardDir {
  const dir = existsSync(join(given, 'results.json')) ? given : join(given, 'latest');
  if (!existsSync(join(dir, 'results.json')))
    throw new UsageError(`merge: ${given} holds no results.json (expected a run directory written with --shard)`);
  try {
    const results = readJsonFile(join(dir, 'results.json'), resultsFileSchema);
    const compare = existsSync(join(dir, COMPARE_FILE))
      ? readJsonFile(join(dir, COMPARE_FILE), compareFileSchema)
      : null;
    const check = existsSync(join(dir, CHECK_FILE)) ? readJsonFile(join(dir, CHECK_FILE), checkFileSchema) : null;
    const shard = compare?.shard ?? check?.shard ?? results.shard;
    if (shard === undefined) throw new UsageError(`merge: ${given} is not a shard (it was written without --shard)`);
    const kind: MergeKind = compare !== null ? 'compare' : check !== null ? 'check' : 'run';
    const { runs: rows } = rawJson(join(dir, 'results.json')) as { runs: TimedRun[] };
    const rawCompare = compare === null ? null : (rawJson(join(dir, COMPARE_FILE)) as CompareFileWritten);
    return { dir, kind, results, rows, compare, rawCompare, check, shard };
  } catch (error) {
    if (error instanceof ReportError) throw new UsageError(`merge: ${error.message}`);
    throw error;
  }
}

/** A file already read and validated, parsed again as written: zod's output puts the fields it names first. */
function rawJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Refuse shards that are not, together, every shard of one piece of work, once each. */
function checkWhole(shards: readonly ShardDir[]): void {
  const [first] = shards;
  if (first === undefined) return;
  const name = (s: ShardDir) => `${s.dir} (shard ${shardLabel(s.shard)})`;
  for (const s of shards) {
    if (s.kind !== first.kind || s.results.mode !== first.results.mode)
      throw new UsageError(
        `merge: ${name(s)} is a ${s.results.mode} ${s.kind}, ${name(first)} a ${first.results.mode} ${first.kind}`,
      );
    if (s.results.tool.version !== first.results.tool.version)
      throw new UsageError(
        `merge: ${name(s)} was written by lockstep ${s.results.tool.version}, ${name(first)} by ${first.results.tool.version}`,
      );
    if (s.shard.count !== first.shard.count)
      throw new UsageError(`merge: ${name(s)} and ${name(first)} were cut into different numbers of shards`);
    if (s.shard.inputs !== first.shard.inputs || s.shard.planned !== first.shard.planned)
      throw new UsageError(
        `merge: ${name(s)} and ${name(first)} were cut from different work (other scenarios, systems, seeds or options)`,
      );
  }
  for (const s of shards) {
    const twin = shards.find((t) => t !== s && t.shard.index === s.shard.index);
    if (twin !== undefined)
      throw new UsageError(`merge: ${s.dir} and ${twin.dir} are both shard ${shardLabel(s.shard)}`);
  }
  const missing = Array.from({ length: first.shard.count }, (_, i) => i + 1).filter(
    (i) => !shards.some((s) => s.shard.index === i),
  );
  if (missing.length > 0)
    throw new UsageError(
      `merge: shard${missing.length === 1 ? '' : 's'} ${missing.map((i) => `${i}/${first.shard.count}`).join(', ')} missing (given: ${shards.map((s) => shardLabel(s.shard)).join(', ')})`,
    );
  if (first.kind === 'run')
    for (const s of shards) {
      const expected = shareSize(s.shard.planned, s.shard);
      if (s.results.runs.length !== expected)
        throw new UsageError(
          `merge: ${name(s)} holds ${s.results.runs.length} run(s), but its share of ${s.shard.planned} is ${expected}: it is unfinished or was changed`,
        );
    }
}

/** Merge checked shards into a new run directory under `outDir` (prepared by prepareOutDir); `latest` is not moved yet. */
export function mergeShards(
  shards: readonly ShardDir[],
  outDir: string,
  stamp: string,
  createdAt: string,
): Merged & { writer: RunDirWriter } {
  const [first] = shards;
  if (first === undefined) throw new UsageError('merge: name the shard directories to merge');
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the shard record and the runs are what the merge replaces
  const { shard: _shard, runs: _runs, formatVersion: _version, ...header } = first.results;
  const writer = RunDirWriter.open(outDir, stamp, {
    ...header,
    tool: { name: 'lockstep', version: first.results.tool.version },
    createdAt,
    command: withoutShard(first.results.command ?? ''),
  });
  try {
    const base = { dir: writer.final, kind: first.kind, mode: first.results.mode, shards: shards.length, writer };
    if (first.kind === 'compare') return { ...base, runs: [], check: null, compare: mergeCompare(shards, writer) };
    if (first.kind === 'check') {
      const { runs, check } = mergeCheck(shards, writer);
      return { ...base, runs, check, compare: null };
    }
    return { ...base, runs: mergeRuns(shards, writer), check: null, compare: null };
  } catch (error) {
    writer.abandon();
    throw error;
  }
}

/** The rows dealt back into the unsharded order, each with its history. */
function mergeRuns(shards: readonly ShardDir[], writer: RunDirWriter): TimedRun[] {
  const count = shards.length;
  const planned = shards[0]?.shard.planned ?? 0;
  const out: TimedRun[] = [];
  for (let position = 0; position < planned; position++) {
    const shard = shards[position % count];
    const run = shard?.rows[Math.floor(position / count)];
    if (shard === undefined || run === undefined) throw new Error(`merge: no run at position ${position}`);
    writer.addWritten(run, historyOf(shard, run));
    out.push(run);
  }
  return out;
}

function historyOf(shard: ShardDir, run: TimedRun): string | null {
  const name = historyFileName(run);
  if (/[/\\\0]/.test(name)) return null;
  const path = join(shard.dir, 'history', name);
  return regularFile(path) ? path : null;
}

/** Whether `path` is a regular file itself: not a link (which could reach any file), a FIFO (which would block) or a device. */
function regularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The counterexample file a shard names (check.json, compare.json), where the shard wrote it:
 * a name lockstep writes, inside the shard, a regular file; anything else is refused, naming it.
 */
function counterexampleIn(shard: ShardDir, file: string, pattern: RegExp): string {
  const path = join(shard.dir, file);
  if (!pattern.test(file) || !regularFile(path))
    throw new UsageError(
      `merge: ${shard.dir} names a counterexample file '${file}' that is not one lockstep wrote there`,
    );
  return path;
}

/** The counterexample with the lowest candidate, with its run and file; or none, when no shard found one. */
function mergeCheck(shards: readonly ShardDir[], writer: RunDirWriter): { runs: TimedRun[]; check: CheckFileWritten } {
  const found = shards
    .filter((s) => s.check?.counterexample != null)
    .sort((a, b) => (a.check?.counterexample?.candidate ?? 0) - (b.check?.counterexample?.candidate ?? 0));
  const [winner] = found;
  const source = winner ?? shards[0];
  if (source?.check == null) throw new Error('merge: a check shard without check.json');
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the merged search is not a shard
  const { shard: _, ...search } = source.check;
  const runs: TimedRun[] = [];
  let counterexample: CheckFileWritten['counterexample'] = null;
  const found0 = winner?.check?.counterexample;
  if (winner !== undefined && found0 != null) {
    const path = join(writer.final, found0.file);
    writer.copyFile(counterexampleIn(winner, found0.file, /^[a-z0-9-]+\.yaml$/), found0.file);
    for (const run of winner.rows) {
      const moved = { ...run, file: path };
      writer.addWritten(moved, historyOf(winner, run));
      runs.push(moved);
    }
    // The replay names the file where the shard wrote it, as its run's row does: it moves here.
    const written = winner.rows[0]?.file;
    counterexample = {
      ...found0,
      replay: written === undefined ? found0.replay : found0.replay.replace(written, path),
    };
  }
  const check: CheckFileWritten = {
    ...search,
    command: withoutShard(search.command ?? ''),
    // One process judges every candidate up to the first unsafe one, or all of them.
    tried: counterexample === null ? search.runs : counterexample.candidate,
    counterexample,
  };
  writer.writeFile(CHECK_FILE, `${JSON.stringify(check, null, 2)}\n`);
  return { runs, check };
}

/** Every cell counted again from all shards' records; each cell's counterexample from the shard that holds its first unsafe schedule. */
function mergeCompare(shards: readonly ShardDir[], writer: RunDirWriter): CompareFileWritten {
  const files = shards.map((s) => {
    if (s.rawCompare === null) throw new Error('merge: a compare shard without compare.json');
    return { shard: s, file: s.rawCompare };
  });
  const [first] = files;
  if (first === undefined) throw new Error('merge: no compare shards');
  const records = files.flatMap(({ file }) => (file.shard?.records ?? []) as CellRecord[]);
  const cells = first.file.cells.map((cell) => {
    const counts = countRecords(
      records.filter((r) => r.cell === key(cell.subject ?? cell.system, cell.fencing === 'on')),
    );
    // The shard whose own count of this cell found the campaign's first unsafe schedule holds its counterexample.
    const holder =
      counts.firstUnsafe === null
        ? undefined
        : files
            .map(({ shard, file }) => ({
              shard,
              own: file.cells.find(
                (c) => c.subject === cell.subject && c.system === cell.system && c.fencing === cell.fencing,
              ),
            }))
            .find(({ own }) => own?.firstUnsafe === counts.firstUnsafe);
    const counterexample = holder?.own?.counterexample ?? null;
    if (holder !== undefined && counterexample !== null)
      writer.copyFile(
        counterexampleIn(holder.shard, counterexample, /^counterexamples\/[a-z0-9-]+\.yaml$/),
        counterexample,
      );
    return {
      ...cell,
      ...counts,
      counterexample,
      replay: counterexample === null ? null : (holder?.own?.replay ?? null),
    };
  });
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the merged campaign is not a shard
  const { shard: _, ...campaign } = first.file;
  const merged: CompareFileWritten = { ...campaign, command: withoutShard(campaign.command ?? ''), cells };
  writer.writeFile(COMPARE_FILE, `${JSON.stringify(merged, null, 2)}\n`);
  return merged;
}
