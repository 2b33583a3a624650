/**
 * `lockstep run`: every scenario x system x fencing x seed in the simulator, a summary table,
 * and a run directory. Wall time is read here and only here.
 */
import { performance } from 'node:perf_hooks';
import { SingleBar, Presets } from 'cli-progress';
import { compareTraces, DEFAULT_RECORD_LIMIT } from '../sim/determinism.ts';
import { Trace } from '../sim/trace.ts';
import { availableSystems } from '../backends/index.ts';
import { SYSTEM_IDS, type SystemId } from '../backends/recipe.ts';
import type { Scenario } from '../scenarios/schema.ts';
import { runScenario } from '../runner/run.ts';
import { writeReport } from '../reports/report.ts';
import { UsageError } from '../runner/errors.ts';
import { RunDirWriter, type TimedRun } from '../runner/run-dir.ts';
import { replayCommand } from '../runner/replay.ts';
import { referencesOf } from '../runner/results.ts';
import { summaryTable } from './summary.ts';
import type { NamedSubject } from '../subjects/index.ts';

export interface RunCommand {
  readonly scenarios: readonly { file: string; scenario: Scenario }[];
  readonly systems: readonly SystemId[] | null;
  /** Subjects run beside the systems' own recipes, in every scenario that runs their system. */
  readonly subjects?: readonly NamedSubject[];
  readonly fencing: 'off' | 'on' | 'both';
  readonly seed: number;
  readonly seeds: number;
  readonly outDir: string;
  readonly checkDeterminism: boolean;
  readonly version: string;
  readonly commandLine: string;
}

export interface RunPlanItem {
  readonly file: string;
  readonly scenario: Scenario;
  readonly system: SystemId;
  /** The subject run instead of the system's recipe (as given: a built-in name or a file), or null. */
  readonly subject: string | null;
  readonly fencing: boolean;
  readonly seed: number;
}

/** Parse a comma-separated list of known system ids, given as `option`. */
export function parseSystems(raw: string, option = '--systems'): SystemId[] {
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (ids.length === 0) throw new UsageError(`${option} needs at least one of ${SYSTEM_IDS.join(', ')}`);
  for (const id of ids) {
    if (!(SYSTEM_IDS as readonly string[]).includes(id))
      throw new UsageError(`${option}: unknown system '${id}' (expected one of ${SYSTEM_IDS.join(', ')})`);
  }
  return ids as SystemId[];
}

export function plan(
  command: Pick<RunCommand, 'scenarios' | 'systems' | 'subjects' | 'fencing' | 'seed' | 'seeds'>,
): RunPlanItem[] {
  const items: RunPlanItem[] = [];
  for (const { file, scenario } of command.scenarios) {
    const systems = scenario.systems.filter((s) => command.systems === null || command.systems.includes(s));
    const fencings = [false, true].filter((on) => allows(scenario.fencing, on) && allows(command.fencing, on));
    for (const system of systems) {
      const subjects = (command.subjects ?? []).filter((s) => s.definition.system === system).map((s) => s.ref);
      for (const subject of [null, ...subjects]) {
        for (const fencing of fencings) {
          for (let i = 0; i < command.seeds; i++)
            items.push({ file, scenario, system, subject, fencing, seed: command.seed + i });
        }
      }
    }
  }
  return items;
}

function allows(setting: 'off' | 'on' | 'both', on: boolean): boolean {
  return setting === 'both' || (setting === 'on') === on;
}

/** Run the plan; returns the process exit code. */
export async function runCommand(command: RunCommand, print: (line: string) => void): Promise<number> {
  const items = plan(command);
  if (items.length === 0)
    throw new UsageError('nothing to run: no scenario runs a selected system with the selected fencing');
  const missing = [...new Set(items.map((i) => i.system))].filter((s) => !availableSystems().includes(s));
  if (missing.length > 0)
    throw new UsageError(
      `--systems: ${missing.join(', ')} not available in the simulator (available: ${availableSystems().join(', ')})`,
    );

  print(
    `lockstep ${command.version}: ${items.length} run(s) of ${command.scenarios.length} scenario(s), seeds ${command.seed}..${command.seed + command.seeds - 1}`,
  );
  const header = {
    tool: { name: 'lockstep' as const, version: command.version },
    mode: 'sim' as const,
    createdAt: new Date().toISOString(),
    command: command.commandLine,
    references: referencesOf(items.map((item) => item.scenario)),
  };
  const writer = RunDirWriter.open(command.outDir, stamp(), header);
  const { runs, divergences } = await runEach(items, command.checkDeterminism, writer, print).catch(
    (error: unknown) => {
      writer.abandon();
      throw error;
    },
  );
  const dir = writer.finish();
  print('');
  print(summaryTable(runs));
  print('');
  const failed = runs.filter((run) => run.expectationMet === false).length;
  items.forEach((item, i) => {
    const run = runs[i];
    if (run === undefined) throw new Error(`run: no result for run ${i + 1}`);
    if (run.expectationMet !== false) return;
    print(
      `expectation failed: ${item.scenario.name} on ${item.subject ?? item.system}, fencing ${item.fencing ? 'on' : 'off'}: expected ${run.expected}, got ${run.verdict}` +
        (run.notes ?? [])
          .filter((n) => n.startsWith('bound broken'))
          .map((n) => `; ${n}`)
          .join(''),
    );
    print(`  replay: ${replayCommand(item)}`);
  });
  for (const divergence of divergences) print(`not deterministic: ${divergence}`);
  const report = await writeReport([dir], dir);
  writer.pointLatest();
  print(`run directory: ${dir}`);
  print(`report: ${report.html} (and ${report.markdown})`);
  return failed > 0 || divergences.length > 0 ? 1 : 0;
}

/** Run every item, writing each into the run directory as it finishes. */
async function runEach(
  items: readonly RunPlanItem[],
  checkDeterminism: boolean,
  writer: RunDirWriter,
  print: (line: string) => void,
) {
  const progress = process.stdout.isTTY
    ? new SingleBar({ format: '{bar} {value}/{total} {run}', hideCursor: true }, Presets.shades_classic)
    : null;
  progress?.start(items.length, 0, { run: '' });
  const runs: TimedRun[] = [];
  const divergences: string[] = [];
  for (const item of items) {
    const label = `${item.scenario.name} ${item.subject ?? item.system} fencing=${item.fencing ? 'on' : 'off'} seed=${item.seed}`;
    const started = performance.now();
    // With --check-determinism the run itself records its trace, and one replay is compared with it.
    const trace = checkDeterminism ? { recordLimit: DEFAULT_RECORD_LIMIT } : undefined;
    const output = await runScenario({ ...item, trace });
    const wallMs = Math.round((performance.now() - started) * 10) / 10;
    const run: TimedRun = { ...output.result, wallMs, file: item.file };
    // Written as it finishes, so the history of many seeds never piles up in memory.
    writer.add({ run, history: output.history, writes: output.writes });
    runs.push(run);
    if (trace !== undefined && output.sim !== null) {
      const replay = await runScenario({ ...item, trace });
      const report = compareTraces(output.sim.kernel.trace, replay.sim?.kernel.trace ?? new Trace(trace));
      if (!report.deterministic) divergences.push(`${label}: ${report.message}`);
    }
    if (progress !== null) progress.increment({ run: label });
    else print(`${label}: ${verdictText(run)}${expectationNote(run.expected, run.expectationMet)} (${wallMs} ms)`);
  }
  progress?.stop();
  return { runs, divergences };
}

/** The verdict, with the reason when the run was skipped. */
function verdictText(run: TimedRun): string {
  return run.verdict === 'skipped' ? `skipped: ${run.skipped ?? 'no reason given'}` : run.verdict;
}

function expectationNote(expected: string | null, met: boolean | null): string {
  if (met === null) return '';
  return met ? ` (as expected)` : ` (EXPECTED ${expected})`;
}

function stamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}
