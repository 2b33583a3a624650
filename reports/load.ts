/**
 * Reading run directories: results.json, and a run's history file when a chart needs it. Reports
 * read these files and nothing else, so a sim run, a live run or both merged render alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Op, RegisterWrite } from '../runner/history.ts';
import type { RunMetrics } from '../runner/run.ts';

export class ReportError extends Error {
  override name = 'ReportError';
}

/** One entry of results.json `runs`, as reports use it. Fields other tools add are carried along. */
export interface RunEntry {
  readonly scenario: string;
  readonly system: string;
  readonly fencing: boolean;
  readonly seed: number;
  readonly mode: 'sim' | 'live';
  readonly verdict: 'safe' | 'unsafe' | 'skipped' | 'unknown';
  readonly skipped: string | null;
  readonly expected: 'safe' | 'unsafe' | null;
  readonly expectationMet: boolean | null;
  readonly simulatedMs: number;
  readonly wallMs?: number;
  readonly traceHash?: string | null;
  readonly file?: string;
  readonly notes?: readonly string[];
  readonly metrics: RunMetrics | null;
}

export interface LoadedRun extends RunEntry {
  /** The run directory it came from. */
  readonly dir: string;
}

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
}

export function loadRunDirs(dirs: readonly string[]): LoadedRuns {
  if (dirs.length === 0) throw new ReportError('name at least one run directory');
  const sources: Source[] = [];
  const runs: LoadedRun[] = [];
  for (const dir of dirs) {
    const file = join(dir, 'results.json');
    if (!existsSync(file)) throw new ReportError(`${dir}: no results.json (expected a run directory written by lockstep run or lockstep live)`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ReportError(`${file}: not valid JSON (${(error as Error).message})`);
    }
    const results = parsed as { tool?: { version?: unknown }; mode?: unknown; createdAt?: unknown; command?: unknown; runs?: unknown };
    if (!Array.isArray(results.runs)) throw new ReportError(`${file}: runs: expected an array of runs`);
    sources.push({
      dir,
      version: String(results.tool?.version ?? 'unknown'),
      mode: String(results.mode ?? 'unknown'),
      createdAt: String(results.createdAt ?? ''),
      command: String(results.command ?? ''),
    });
    results.runs.forEach((run: unknown, i: number) => {
      const r = run as Partial<RunEntry>;
      if (typeof r.scenario !== 'string' || typeof r.system !== 'string' || typeof r.fencing !== 'boolean' || typeof r.verdict !== 'string') {
        throw new ReportError(`${file}: runs[${i}]: expected scenario, system, fencing and verdict`);
      }
      // A third-party subject's runs are its own column, apart from the system whose servers it ran on.
      const subject = (r as { subject?: unknown }).subject;
      const system = typeof subject === 'string' && subject.length > 0 ? subject : r.system;
      runs.push({ ...(r as RunEntry), system, mode: r.mode === 'live' ? 'live' : 'sim', dir });
    });
  }
  return { sources, runs };
}

export function historyPath(run: LoadedRun): string {
  return join(run.dir, 'history', `${run.scenario}.${run.system}.${run.fencing ? 'on' : 'off'}.${run.seed}.jsonl`);
}

/** A run's operations and the register's judged writes, or null when the run has no history file. */
export function readHistory(run: LoadedRun): { ops: Op[]; writes: RegisterWrite[] } | null {
  const path = historyPath(run);
  if (!existsSync(path)) return null;
  const ops: Op[] = [];
  const writes: RegisterWrite[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const { kind, ...rest } = JSON.parse(line) as { kind: string };
    if (kind === 'register-write') writes.push(rest as RegisterWrite);
    else ops.push(rest as Op);
  }
  return { ops, writes };
}
