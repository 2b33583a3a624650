/**
 * `lockstep merge`: shard run directories joined into one (runner/merge.ts), its report written,
 * and the verdicts printed as the unsharded command prints them, with its exit code: 1 when an
 * expectation failed (run, live) or a counterexample was found (check), 0 otherwise.
 */
import { readShards, mergeShards, type Merged } from '../runner/merge.ts';
import { writeReport } from '../reports/report.ts';
import { prepareOutDir } from '../runner/run-dir.ts';
import { cellTable, ciCell } from './compare.ts';
import { checkCiPaths, writeCiFiles, type CiFileOptions, type CiOutcome } from './ci-files.ts';
import { printVerdicts } from './summary.ts';

export async function runMerge(
  dirs: readonly string[],
  outDir: string,
  ci: CiFileOptions,
  print: (line: string) => void,
): Promise<number> {
  const shards = readShards(dirs);
  checkCiPaths(ci);
  prepareOutDir(outDir);
  const now = new Date().toISOString();
  const merged = mergeShards(shards, outDir, now.replace(/[:.]/g, '-'), now);
  const dir = merged.writer.finish();
  print(`merged ${merged.shards} shard(s) of a ${merged.mode} ${merged.kind}`);
  const code = printMerged(merged, print);
  const report = await writeReport([dir], dir);
  merged.writer.pointLatest();
  for (const line of writeCiFiles(ci, ciOutcome(merged), now)) print(line);
  print(`report: ${report.html} (and ${report.markdown})`);
  print(`run directory: ${dir}`);
  return code;
}

/** The merged answer in the shape of the CI files. */
function ciOutcome(merged: Merged): CiOutcome {
  const title = `lockstep ${merged.kind === 'run' && merged.mode === 'live' ? 'live' : merged.kind}, merged from ${merged.shards} shard(s)`;
  if (merged.compare !== null) return { kind: 'compare', title, cells: merged.compare.cells.map(ciCell) };
  if (merged.check !== null) {
    const { subject, system, fencing, seed, tried, counterexample: found } = merged.check;
    const counterexample =
      found === null ? null : { index: found.candidate - 1, shrinks: found.shrinks, replay: found.replay };
    return {
      kind: 'check',
      title,
      check: { label: subject ?? system, fencing: fencing === 'on', seed, tried, counterexample },
    };
  }
  return { kind: 'runs', title, runs: merged.runs };
}

/** What the unsharded command would have printed at its end; returns its exit code. */
function printMerged(merged: Merged, print: (line: string) => void): number {
  if (merged.compare !== null) {
    print('');
    print(cellTable(merged.compare.cells, new Map()));
    for (const cell of merged.compare.cells)
      if (cell.replay !== null)
        print(`counterexample ${cell.subject ?? cell.system} fencing ${cell.fencing}: ${cell.replay}`);
    return 0;
  }
  if (merged.check !== null) {
    const found = merged.check.counterexample;
    const label = merged.check.subject ?? merged.check.system;
    if (found === null) {
      print(
        `no counterexample: ${label} fencing ${merged.check.fencing} stayed safe in all ${merged.check.tried} schedules tried`,
      );
      return 0;
    }
    print(`unsafe: candidate ${found.candidate} of the search, shrunk ${found.shrinks} times`);
    print(`replay: ${found.replay}   (trace ${found.traceHash ?? 'none'})`);
    return 1;
  }
  return printVerdicts(merged.runs, print) > 0 ? 1 : 0;
}
