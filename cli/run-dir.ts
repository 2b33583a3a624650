/**
 * The run directory: runs/<timestamp>/ with results.json and one history file per run, and
 * runs/latest pointing at it. Written only after every run has finished, so a failed invocation
 * leaves nothing half-written behind. The report (reports/) is written into it afterwards.
 */
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { RunOutput, RunResult } from '../runner/run.ts';

export interface TimedRun extends RunResult {
  readonly wallMs: number;
  /** The scenario file the run came from, as given on the command line. */
  readonly file: string;
}

export interface ResultsFile {
  readonly tool: { readonly name: 'lockstep'; readonly version: string };
  readonly mode: 'sim' | 'live';
  /** Live runs: the provider of the cluster. */
  readonly provider?: string;
  readonly createdAt: string;
  readonly command: string;
  readonly runs: readonly TimedRun[];
}

/** The system, or for a live run of a third-party library, that library (it runs on the system's servers). */
export function runLabel(result: RunResult): string {
  return (result as { subject?: string | null }).subject ?? result.system;
}

export function historyFileName(result: RunResult): string {
  return `${result.scenario}.${runLabel(result)}.${result.fencing ? 'on' : 'off'}.${result.seed}.jsonl`;
}

/** Write everything into a fresh directory under `outDir`, then point `latest` at it. Returns its path. */
export function writeRunDir(outDir: string, stamp: string, results: ResultsFile, outputs: readonly RunOutput[]): string {
  const final = resolve(outDir, stamp);
  const staging = `${final}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'history'), { recursive: true });
  writeFileSync(join(staging, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  for (const output of outputs) {
    if (output.result.skipped !== null) continue;
    // One line per operation, then one per write the register judged; `kind` tells them apart.
    const lines = [...output.history.map((op) => ({ kind: 'op', ...op })), ...output.writes.map((w) => ({ kind: 'register-write', ...w }))];
    writeFileSync(join(staging, 'history', historyFileName(output.result)), lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  }
  renameSync(staging, final);
  const latest = resolve(outDir, 'latest');
  rmSync(latest, { force: true });
  symlinkSync(relative(resolve(outDir), final), latest);
  return final;
}
