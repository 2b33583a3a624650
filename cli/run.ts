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
import { referencesOf } from '../runner/results.ts';
import { printVerdicts } from './summary.ts';
import { writeCiFiles, type CiFileOptions } from './ci-files.ts';
import type { NamedSubject } from '../subjects/index.ts';
import { inputsDigest, shardLabel, shareOf, type Shard, type ShardRecord } from '../runner/shard.ts';

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
  /** Run only this shard's share of the plan (runner/shard.ts); null or absent: all of it. */
  readonly shard?: Shard | null;
  /** CI files to write beside the run directory (--junit, --summary-md). */
  readonly ci?: CiFileOptions;
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

/**
 * The digest of what decides a run or live command's plan (runner/shard.ts): the scenarios as
 * loaded, not their paths, so that shards run from different checkouts of one library still
 * merge; `more` holds what else decides it (run: the seeds; live: the seed and provider).
 */
export function planInputs(
  kind: 'run' | 'live',
  command: Pick<RunCommand, 'scenarios' | 'systems' | 'subjects' | 'fencing'>,
  more: Readonly<Record<string, unknown>>,
): string {
  return inputsDigest({
    kind,
    scenarios: command.scenarios.map((s) => s.scenario),
    systems: command.systems,
    subjects: (command.subjects ?? []).map((s) => s.ref),
    fencing: command.fencing,
    ...more,
  });
}

/** Run the plan (or the shard's share of it); returns the process exit code. */
export async function runCommand(command: RunCommand, print: (line: string) => void): Promise<number> {
  const whole = plan(command);
  if (whole.length === 0)
    throw new UsageError('nothing to run: no scenario runs a selected system with the selected fencing');
  const shard = command.shard ?? null;
  const items = shareOf(whole, shard);
  const missing = [...new Set(items.map((i) => i.system))].filter((s) => !availableSystems().includes(s));
  if (missing.length > 0)
    throw new UsageError(
      `--systems: ${missing.join(', ')} not available in the simulator (available: ${availableSystems().join(', ')})`,
    );

  print(
    `lockstep ${command.version}: ${items.length} run(s) of ${command.scenarios.length} scenario(s), seeds ${command.seed}..${command.seed + command.seeds - 1}` +
      (shard === null ? '' : `: shard ${shardLabel(shard)} of ${whole.length} run(s)`),
  );
  const record: ShardRecord | null =
    shard === null
      ? null
      : {
          ...shard,
          planned: whole.length,
          inputs: planInputs('run', command, { seed: command.seed, seeds: command.seeds }),
        };
  const header = {
    tool: { name: 'lockstep' as const, version: command.version },
    mode: 'sim' as const,
    createdAt: new Date().toISOString(),
    command: command.commandLine,
    // Every scenario's reference, whatever this shard's share of it, so that shards agree.
    references: referencesOf(whole.map((item) => item.scenario)),
    ...(record === null ? {} : { shard: record }),
  };
  const writer = RunDirWriter.open(command.outDir, stamp(), header);
  const { runs, divergences, replayed } = await runEach(items, command.checkDeterminism, writer, print).catch(
    (error: unknown) => {
      writer.abandon();
      throw error;
    },
  );
  const dir = writer.finish();
  const failed = printVerdicts(runs, print);
  for (const divergence of divergences) print(`not deterministic: ${divergence}`);
  if (command.checkDeterminism && divergences.length === 0)
    print(
      `deterministic: ${replayed} run(s) replayed identically, event for event` +
        (replayed < runs.length ? ` (${runs.length - replayed} skipped run(s) had nothing to replay)` : ''),
    );
  const report = await writeReport([dir], dir);
  writer.pointLatest();
  const title = `lockstep run, seeds ${command.seed}..${command.seed + command.seeds - 1}${shard === null ? '' : `, shard ${shardLabel(shard)}`}`;
  for (const line of writeCiFiles(command.ci ?? {}, { kind: 'runs', title, runs }, header.createdAt)) print(line);
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
  let replayed = 0;
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
      replayed++;
    }
    if (progress !== null) progress.increment({ run: label });
    else print(`${label}: ${verdictText(run)}${expectationNote(run.expected, run.expectationMet)} (${wallMs} ms)`);
  }
  progress?.stop();
  return { runs, divergences, replayed };
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
