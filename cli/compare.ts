/**
 * `lockstep compare`: one fault campaign against every system, fenced and unfenced, in the
 * simulator (and K schedules of it live, with --live K). Writes a run directory holding
 * compare.json, an empty results.json, the counterexample of every unsafe cell as a scenario
 * file, and the report. Finding unsafe runs is its job: it exits 0 when the campaign ran.
 * Wall time is read here and only here. Subjects (--subject) get rows of their own beside the
 * systems, on their systems' schedules, in the simulator and, with --live, on the real servers.
 */
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { availableSystems } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import { DEFAULT_WORKLOAD, fitSchedule, type CampaignWorkload } from '../runner/campaign.ts';
import { RunPool } from '../runner/check-pool.ts';
import {
  compare,
  fractionOf,
  key,
  type CompareCell,
  type CompareCounterexample,
  type CompareOutcome,
  type CompareTarget,
} from '../runner/compare.ts';
import {
  COMPARE_FILE,
  COMPARE_FORMAT_VERSION,
  MAX_SCHEDULES,
  type CompareCellWritten,
  type CompareFileWritten,
} from '../runner/compare-file.ts';
import { UsageError } from '../runner/errors.ts';
import { RunDirWriter } from '../runner/run-dir.ts';
import { summarizeRun, type RunRequest, type RunSummary } from '../runner/run-summary.ts';
import { Rng } from '../sim/rng.ts';
import { writeReport } from '../reports/report.ts';
import { whyNotSim } from '../subjects/sim.ts';
import { parseSystems } from './run.ts';
import type { NamedSubject } from '../subjects/index.ts';
import { formatTable } from './summary.ts';
import { writeCiFiles, type CiFileOptions, type CompareCiCell } from './ci-files.ts';
import { inputsDigest, shardLabel, type Shard } from '../runner/shard.ts';
import { scenarioName } from '../scenarios/schema.ts';

export interface CompareCommand {
  readonly schedules: number;
  readonly seed: number;
  readonly systems: readonly SystemId[];
  /** Subjects run beside the systems, each on its system's schedules; their systems are among `systems`. */
  readonly subjects?: readonly NamedSubject[];
  readonly workers: number;
  readonly live: number;
  readonly outDir: string;
  readonly version: string;
  readonly commandLine: string;
  readonly workload?: CampaignWorkload;
  /** Write the HTML/Markdown report into the run directory (default true). */
  readonly report?: boolean;
  /** Run only this shard's schedules (runner/shard.ts); null or absent: all of them. */
  readonly shard?: Shard | null;
  /** CI files to write beside the run directory (--junit, --summary-md). */
  readonly ci?: CiFileOptions;
}

export const DEFAULT_SCHEDULES = 500;
/** Most schedules run live in one command: each is twelve live runs of up to half a minute. */
export const MAX_LIVE_SCHEDULES = 50;

/**
 * Turn raw option values into a CompareCommand, or throw a UsageError naming the option. Subjects
 * (--subject, loaded by the caller) must run on a system the campaign runs, in the simulator.
 */
export function compareCommand(
  options: {
    schedules: number;
    seed: number;
    systems?: string;
    workers: number;
    live: number;
    out: string;
    shard?: Shard;
  },
  version: string,
  commandLine: string,
  subjects: readonly NamedSubject[] = [],
): CompareCommand {
  if (options.schedules < 1 || options.schedules > MAX_SCHEDULES)
    throw new UsageError(`--schedules must be between 1 and ${MAX_SCHEDULES}, got ${options.schedules}`);
  if (options.seed < 0) throw new UsageError(`--seed must be >= 0, got ${options.seed}`);
  if (options.workers < 1 || options.workers > 64)
    throw new UsageError(`--workers must be between 1 and 64, got ${options.workers}`);
  if (options.live < 0 || options.live > Math.min(MAX_LIVE_SCHEDULES, options.schedules))
    throw new UsageError(
      `--live must be between 0 and ${Math.min(MAX_LIVE_SCHEDULES, options.schedules)} (at most --schedules), got ${options.live}`,
    );
  if (options.shard !== undefined && options.live > 0)
    throw new UsageError(
      `--shard with --live: the live schedules are chosen from the whole campaign; run --live in one unsharded command`,
    );
  const systems = options.systems === undefined ? availableSystems() : parseSystems(options.systems);
  for (const system of systems)
    if (!availableSystems().includes(system))
      throw new UsageError(`--systems: ${system} is not available in the simulator`);
  for (const { ref, definition } of subjects) {
    if (!systems.includes(definition.system))
      throw new UsageError(
        `--subject ${ref} runs on ${definition.system}, which --systems leaves out (add it: its schedules are the subject's)`,
      );
    // Fenced runs of a subject without a token are counted as not applicable; unfenced ones must run.
    const why = whyNotSim(definition, false, 'mutex');
    if (why !== null) throw new UsageError(`--subject ${ref}: ${why}`);
  }
  return {
    schedules: options.schedules,
    seed: options.seed,
    systems,
    ...(subjects.length === 0 ? {} : { subjects }),
    workers: options.workers,
    live: options.live,
    outDir: options.out,
    version,
    commandLine,
    shard: options.shard ?? null,
  };
}

/** The digest of what decides a campaign (runner/shard.ts): shards of one campaign share it. */
export function compareInputs(command: CompareCommand): string {
  return inputsDigest({
    kind: 'compare',
    schedules: command.schedules,
    seed: command.seed,
    systems: command.systems,
    subjects: (command.subjects ?? []).map((s) => s.ref),
    workload: command.workload ?? DEFAULT_WORKLOAD,
  });
}

/** The default for --workers: one per core. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(64, availableParallelism()));
}

export async function runCompare(command: CompareCommand, print: (line: string) => void): Promise<number> {
  const workload = command.workload ?? DEFAULT_WORKLOAD;
  const subjects = command.subjects ?? [];
  const variants = (command.systems.length + subjects.length) * 2;
  const columns = `${command.systems.length} system(s)${subjects.length === 0 ? '' : ` and ${subjects.length} subject(s)`}`;
  print(
    `lockstep ${command.version} compare: ${command.schedules} schedule(s) x ${columns} x fencing off/on ` +
      `= ${command.schedules * variants} runs, seed ${command.seed}, ${command.workers} worker(s)` +
      (command.live > 0 ? `; ${command.live} schedule(s) live` : '') +
      (command.shard == null ? '' : `; shard ${shardLabel(command.shard)} of the schedules`),
  );
  const started = performance.now();
  const pool = command.workers > 1 ? new RunPool(command.workers) : null;
  let outcome: CompareOutcome;
  let lastPrinted = 0;
  try {
    outcome = await compare({
      schedules: command.schedules,
      seed: command.seed,
      systems: command.systems,
      subjects,
      workload,
      shard: command.shard ?? null,
      summaries: pool === null ? serially : (requests) => pool.summaries(requests),
      onProgress: (done, planned) => {
        if (done - lastPrinted >= 1000 || done === planned) {
          lastPrinted = done;
          print(`  ${done}/${planned} runs`);
        }
      },
    });
  } finally {
    await pool?.close();
  }
  const wallMs = performance.now() - started;
  const ran = command.shard == null ? command.schedules * variants : outcome.records.length;
  print(`campaign: ${Math.round(wallMs)} ms, ${round((ran * 1000) / wallMs)} runs/s`);
  const live =
    command.live > 0 ? await liveCells(command, outcome, print) : new Map<string, CompareCellWritten['live']>();

  const header = {
    tool: { name: 'lockstep' as const, version: command.version },
    mode: 'sim' as const,
    createdAt: new Date().toISOString(),
    command: command.commandLine,
  };
  const writer = RunDirWriter.open(command.outDir, new Date().toISOString().replace(/[:.]/g, '-'), header);
  let dir: string;
  let cells: CompareCellWritten[];
  try {
    const files = new Map<string, string>();
    for (const counterexample of outcome.counterexamples) {
      const file = counterexampleFile(counterexample);
      writer.writeFile(file, counterexampleYaml(counterexample, command.seed));
      files.set(`${labelOf(counterexample)}/${counterexample.fencing}`, file);
    }
    const file: CompareFileWritten = {
      formatVersion: COMPARE_FORMAT_VERSION,
      tool: header.tool,
      command: command.commandLine,
      seed: command.seed,
      workload,
      systems: command.systems,
      live: command.live,
      cells: (cells = outcome.cells.map((cell) => cellEntry(cell, files, command.seed, live))),
      speed: outcome.speed,
      schedules: outcome.schedules,
      ...(command.shard == null
        ? {}
        : {
            shard: {
              ...command.shard,
              planned: command.schedules,
              inputs: compareInputs(command),
              records: outcome.records,
            },
          }),
    };
    writer.writeFile(COMPARE_FILE, `${JSON.stringify(file, null, 2)}\n`);
    dir = writer.finish();
  } catch (error) {
    writer.abandon();
    throw error;
  }
  print('');
  print(cellTable(outcome.cells, live));
  print('');
  // A system's reasons are in compare.json and the report; a subject's column may have none judged, so it says why here.
  for (const cell of outcome.cells)
    if (cell.subject !== undefined)
      for (const { reason, schedules } of cell.notApplicableReasons)
        print(`not applicable: ${cell.subject} fencing ${cell.fencing}, ${schedules} schedule(s): ${reason}`);
  for (const [key, cell] of live)
    for (const d of cell?.disagreements ?? [])
      print(`live and sim disagree: ${key} schedule ${d.schedule + 1}: sim ${d.sim}, live ${d.live}`);
  for (const counterexample of outcome.counterexamples)
    print(
      `counterexample ${labelOf(counterexample)} fencing ${counterexample.fencing}: schedule ${counterexample.schedule + 1}, shrunk ${counterexample.shrinks} times to ${counterexample.scenario.faults.length} fault(s): ${replayOf(counterexample, `${dir}/${counterexampleFile(counterexample)}`, command.seed)}`,
    );
  if (command.report !== false) {
    const report = await writeReport([dir], dir);
    print(`report: ${report.html} (and ${report.markdown})`);
  }
  writer.pointLatest();
  const title = `lockstep compare, ${command.schedules} schedules, seed ${command.seed}${command.shard == null ? '' : `, shard ${shardLabel(command.shard)}`}`;
  for (const line of writeCiFiles(
    command.ci ?? {},
    { kind: 'compare', title, cells: cells.map(ciCell) },
    header.createdAt,
  ))
    print(line);
  print(`run directory: ${dir}`);
  return 0;
}

async function serially(requests: readonly RunRequest[]): Promise<RunSummary[]> {
  const out: RunSummary[] = [];
  for (const request of requests) out.push(await summarizeRun(request));
  return out;
}

function cellEntry(
  cell: CompareCell,
  files: ReadonlyMap<string, string>,
  seed: number,
  live: ReadonlyMap<string, CompareCellWritten['live']>,
): CompareCellWritten {
  const file = files.get(`${labelOf(cell)}/${cell.fencing}`) ?? null;
  const liveCell = live.get(`${labelOf(cell)}/${cell.fencing}`);
  return {
    ...cell,
    counterexample: file,
    replay: file === null ? null : `npx lockstep run ${file}${subjectOption(cell)} --seed ${seed}`,
    ...(liveCell === undefined ? {} : { live: liveCell }),
  };
}

/** A written cell as the CI files take it. */
export function ciCell(cell: CompareCellWritten): CompareCiCell {
  return { ...cell, interval: [cell.interval[0] ?? 0, cell.interval[1] ?? 1] };
}

/** What a cell or counterexample is called: the subject's name, or the system's. */
function labelOf(target: CompareTarget): string {
  return target.subject ?? target.system;
}

/** The --subject a replay needs (the file where it came from one), or nothing for a system's recipe. */
function subjectOption(target: CompareTarget): string {
  return target.subject === undefined ? '' : ` --subject ${target.subjectFile ?? target.subject}`;
}

/** A counterexample's scenario name, which is also its file's (scenarios are named after their files). */
function counterexampleName(counterexample: CompareCounterexample): string {
  return scenarioName(labelOf(counterexample), `-fencing-${counterexample.fencing}`);
}

/** Where a counterexample goes in the run directory. */
function counterexampleFile(counterexample: CompareCounterexample): string {
  return `counterexamples/${counterexampleName(counterexample)}.yaml`;
}

function replayOf(counterexample: CompareCounterexample, file: string, seed: number): string {
  return `npx lockstep run ${file}${subjectOption(counterexample)} --seed ${seed}   (trace ${counterexample.summary.traceHash ?? 'none'})`;
}

/** The shrunk schedule as a scenario file that replays it, with its story in the description. */
export function counterexampleYaml(counterexample: CompareCounterexample, seed: number): string {
  const { system, subject, fencing, schedule, shrinks, scenario, summary } = counterexample;
  const on = subject === undefined ? system : `${subject} (on ${system}'s servers)`;
  const description =
    `Found by lockstep compare --seed ${seed}: schedule ${schedule + 1} of the campaign was unsafe on ${on} ` +
    `with fencing ${fencing}; shrunk ${shrinks} times. Run with seed ${seed}, it is unsafe: ${summary.lostUpdates} lost ` +
    `update(s), ${summary.staleWritesAccepted} stale write(s) accepted. ${scenario.description}`;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- $schema is taken out so the rest is the document
  const { $schema: _schema, ...rest } = scenario;
  const document = {
    ...rest,
    name: counterexampleName(counterexample),
    description,
    // A subject is measured, not held to expectations (as in check): its system's recipe, which
    // the replay also runs, was not found unsafe here.
    expect: subject === undefined ? [{ system, fencing, verdict: 'unsafe' }] : [],
  };
  const option = subjectOption(counterexample);
  return (
    `# Replay: npx lockstep run <this file>${option} --seed ${seed}\n` +
    `# Live:   npx lockstep live <this file>${option} --seed ${seed}\n${stringify(document)}`
  );
}

/** The campaign as a table on the terminal: one row per system and fencing. */
export function cellTable(
  cells: readonly Pick<
    CompareCellWritten,
    | 'system'
    | 'subject'
    | 'fencing'
    | 'fencingSound'
    | 'runs'
    | 'notApplicable'
    | 'unsafe'
    | 'unsafeFraction'
    | 'interval'
    | 'lostPer1000'
    | 'stalePer1000'
  >[],
  live: ReadonlyMap<string, CompareCellWritten['live']>,
): string {
  const rows = [
    ['system', 'fencing', 'runs', 'n/a', 'unsafe', 'fraction', '95% interval', 'lost/1000', 'stale/1000', 'live'],
    ...cells.map((c) => {
      const label = c.subject ?? c.system;
      const l = live.get(`${label}/${c.fencing}`);
      return [
        label,
        c.fencing === 'on' && !c.fencingSound ? 'on (no sound token)' : c.fencing,
        String(c.runs),
        String(c.notApplicable),
        String(c.unsafe),
        c.unsafeFraction === null ? 'no runs' : percent(c.unsafeFraction),
        `${percent(c.interval[0] ?? 0)}..${percent(c.interval[1] ?? 1)}`,
        c.lostPer1000 === null ? '-' : String(c.lostPer1000),
        c.stalePer1000 === null ? '-' : String(c.stalePer1000),
        l === undefined ? '-' : `${l.unsafe}/${l.runs} unsafe`,
      ];
    }),
  ];
  return formatTable(rows);
}

function percent(x: number): string {
  return `${round(x * 100)}%`;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * K of the schedules, chosen by the seed, on real servers: every system, fenced and unfenced, and
 * every subject on its system's servers, through the same runs `lockstep live` makes. Each live
 * verdict is set beside the simulated verdict of the same schedule; where they differ is a finding.
 */
async function liveCells(
  command: CompareCommand,
  outcome: CompareOutcome,
  print: (line: string) => void,
): Promise<Map<string, CompareCellWritten['live']>> {
  const { openCluster } = await import('../live/providers.ts');
  const { runLive } = await import('../live/run.ts');
  const { liveSystems } = await import('../live/systems/index.ts');
  const { removeOnExit } = await import('../live/process.ts');
  const chosen = liveSchedules(command.seed, outcome.schedules.length, command.live);
  const subjects = command.subjects ?? [];
  const also = subjects.length === 0 ? '' : ` and subject(s) ${subjects.map((s) => s.definition.name).join(', ')}`;
  print(
    `live: schedule(s) ${chosen.map((i) => i + 1).join(', ')} on ${command.systems.join(', ')}${also}, fenced and unfenced`,
  );
  const systems = command.systems.filter((s) => liveSystems().includes(s));
  const cluster = await openCluster({ provider: 'local' }, systems, (command.workload ?? DEFAULT_WORKLOAD).ttlMs);
  const logDir = mkdtempSync(join(tmpdir(), 'lockstep-clients-'));
  const removeLogs = removeOnExit(logDir);
  const out = new Map<string, CompareCellWritten['live']>();
  let runIndex = 0;
  try {
    const columns = systems.flatMap((system) =>
      [null, ...subjects.filter((s) => s.definition.system === system)].map((subject) => ({ system, subject })),
    );
    for (const { system, subject } of columns) {
      const label = subject?.definition.name ?? system;
      for (const fencing of [false, true]) {
        let runs = 0;
        let notApplicable = 0;
        let unknown = 0;
        let unsafe = 0;
        const disagreements: { schedule: number; sim: string; live: string }[] = [];
        for (const index of chosen) {
          const schedule = outcome.schedules[index];
          const fitted = schedule === undefined ? null : fitSchedule(schedule, system, fencing).scenario;
          if (fitted === null) {
            notApplicable++;
            continue;
          }
          const { result } = await runLive({
            scenario: fitted,
            system,
            subject: subject?.ref ?? null,
            fencing,
            seed: command.seed,
            cluster,
            runIndex: ++runIndex,
            logDir,
          });
          if (result.verdict === 'skipped') notApplicable++;
          else if (result.verdict === 'unknown') unknown++;
          else {
            runs++;
            if (result.verdict === 'unsafe') unsafe++;
            // The campaign already ran this schedule in the simulator: its verdict is kept.
            const sim = outcome.verdicts.get(key(label, fencing))?.[index] ?? null;
            if (sim !== result.verdict)
              disagreements.push({ schedule: index, sim: sim ?? 'not applicable', live: result.verdict });
          }
        }
        out.set(key(label, fencing), {
          runs,
          notApplicable,
          unknown,
          unsafe,
          ...fractionOf(unsafe, runs),
          disagreements,
        });
      }
    }
  } finally {
    await cluster.stop();
    removeLogs();
  }
  return out;
}

/** `count` distinct schedule indices out of `total`, chosen by the seed, in ascending order. */
export function liveSchedules(seed: number, total: number, count: number): number[] {
  const rng = Rng.root(seed).fork('compare-live');
  const indices = Array.from({ length: total }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = rng.int(i, total - 1);
    [indices[i], indices[j]] = [indices[j] ?? 0, indices[i] ?? 0];
  }
  return indices.slice(0, count).sort((a, b) => a - b);
}
