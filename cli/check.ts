/**
 * `lockstep check`: search fault schedules for an unsafe run, shrink it, and write it out as a
 * scenario. Every check writes a run directory of its own under --out (never over an earlier
 * one): check.json (the search and its answer), and when a counterexample was found, its scenario
 * file named after the system, fencing and seed, and its run in results.json with its history.
 * Wall time is read here and only here.
 */
import { isAbsolute, join, relative } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import { stringify } from 'yaml';
import { availableSystems, systemModule } from '../backends/index.ts';
import type { SystemId } from '../backends/recipe.ts';
import { check, type CheckOutcome, type Counterexample } from '../runner/check.ts';
import type { Fault } from '../scenarios/schema.ts';
import { RunPool } from '../runner/check-pool.ts';
import { UsageError } from '../runner/errors.ts';
import { parseSystems } from './run.ts';
import type { NamedSubject } from '../subjects/index.ts';
import { whyNotSim } from '../subjects/sim.ts';
import { subjectFileOf } from '../subjects/index.ts';
import { scenarioName } from '../scenarios/schema.ts';
import { CHECK_FILE, CHECK_FORMAT_VERSION, type CheckFileWritten } from '../runner/check-file.ts';
import { RunDirWriter } from '../runner/run-dir.ts';
import { writeCiFiles, type CiFileOptions } from './ci-files.ts';
import { inputsDigest, shardLabel, shareSize, type Shard, type ShardRecord } from '../runner/shard.ts';

export interface CheckCommand {
  readonly system: SystemId;
  /** The subject checked instead of the system's recipe: as given, and its name. */
  readonly subject: NamedSubject | null;
  /** Only schedules where the subject is unsafe and the system's own recipe safe (runner/check.ts). */
  readonly differential?: boolean;
  readonly fencing: boolean;
  readonly runs: number;
  readonly seed: number;
  readonly outDir: string;
  readonly workers: number;
  readonly swarm: boolean;
  readonly durationMs: number;
  /** Judge only this shard's candidates (runner/shard.ts); null: all of them. */
  readonly shard: Shard | null;
  readonly version: string;
  readonly commandLine: string;
  /** CI files to write beside the run directory (--junit, --summary-md). */
  readonly ci?: CiFileOptions;
}

export const CHECK_DURATION_MS = 5000;

/** Most schedules one search tries: at a few dozen runs a second, a million is already days of work. */
export const MAX_CHECK_RUNS = 1_000_000;

/** check's options as the command line parses them (the subject apart: its caller loads it). */
export interface CheckOptionStrings {
  system?: string;
  fencing: string;
  runs: number;
  seed: number;
  out: string;
  workers: number;
  swarm?: boolean;
  differential?: boolean;
  shard?: Shard | null;
}

/**
 * Turn raw option strings into a CheckCommand, or throw a UsageError naming the option. With a
 * subject (--subject, loaded by the caller), the system is the subject's.
 */
export function checkCommand(
  options: CheckOptionStrings,
  subject: NamedSubject | null = null,
  version = '0.0.0',
  commandLine = 'lockstep check',
): CheckCommand {
  if (options.differential === true && subject === null)
    throw new UsageError("--differential compares a subject with its system's recipe: it needs --subject");
  if (options.system === undefined && subject === null)
    throw new UsageError('--system or --subject is required (systems: ' + availableSystems().join(', ') + ')');
  const [system, ...more] =
    options.system === undefined ? [subject?.definition.system] : parseSystems(options.system, '--system');
  if (system === undefined || more.length > 0)
    throw new UsageError(`--system takes exactly one system, got '${options.system ?? ''}'`);
  if (subject !== null && subject.definition.system !== system)
    throw new UsageError(`--subject ${subject.ref} runs on ${subject.definition.system}, not on --system ${system}`);
  if (!availableSystems().includes(system))
    throw new UsageError(`--system: ${system} is not available in the simulator`);
  if (options.fencing !== 'off' && options.fencing !== 'on')
    throw new UsageError(`--fencing must be off or on, got '${options.fencing}'`);
  if (subject !== null) {
    const why = whyNotSim(subject.definition, options.fencing === 'on', 'mutex');
    if (why !== null) throw new UsageError(`--subject ${subject.ref}: ${why}`);
  } else if (options.fencing === 'on' && systemModule(system).fencing === 'unsound') {
    throw new UsageError(
      `--fencing on is meaningless for ${system}: it has no sound fencing token (lockstep run shows how its best-known attempt fails)`,
    );
  }
  if (options.runs < 1 || options.runs > MAX_CHECK_RUNS)
    throw new UsageError(`--runs must be between 1 and ${MAX_CHECK_RUNS}, got ${options.runs}`);
  if (options.seed < 0) throw new UsageError(`--seed must be >= 0, got ${options.seed}`);
  if (options.workers < 1 || options.workers > 64)
    throw new UsageError(`--workers must be between 1 and 64, got ${options.workers}`);
  return {
    system,
    subject,
    differential: options.differential === true,
    fencing: options.fencing === 'on',
    runs: options.runs,
    seed: options.seed,
    outDir: options.out,
    workers: options.workers,
    swarm: options.swarm === true,
    durationMs: CHECK_DURATION_MS,
    shard: options.shard ?? null,
    version,
    commandLine,
  };
}

/** The digest of what decides a search (runner/shard.ts): shards of one search share it. */
export function checkInputs(command: CheckCommand): string {
  return inputsDigest({
    kind: 'check',
    system: command.system,
    subject: command.subject?.ref ?? null,
    differential: command.differential === true,
    fencing: command.fencing,
    runs: command.runs,
    seed: command.seed,
    swarm: command.swarm,
    durationMs: command.durationMs,
  });
}

/** Run the search and write its run directory; returns the exit code (0 held, 1 counterexample found). */
export async function runCheck(command: CheckCommand, print: (line: string) => void): Promise<number> {
  const fencing = command.fencing ? 'on' : 'off';
  const target =
    command.subject === null
      ? ''
      : ` subject=${command.subject.definition.name}${command.differential === true ? ' differential=on' : ''}`;
  const shard = command.shard;
  print(
    `lockstep check: system=${command.system}${target} fencing=${fencing} seed=${command.seed} runs=${command.runs} ` +
      `workers=${command.workers} swarm=${command.swarm ? 'on' : 'off'} durationMs=${command.durationMs}` +
      (shard === null ? '' : ` shard=${shardLabel(shard)} (${shareSize(command.runs, shard)} of the candidates)`),
  );
  const outcome = await search(command, print);
  const label = command.subject?.definition.name ?? command.system;
  const written = writeCheckDir(command, outcome);
  if (outcome.counterexample === null) {
    const where = command.differential === true ? `, wherever ${command.system}'s own recipe was safe,` : '';
    const share = shard === null ? '' : ` (shard ${shardLabel(shard)}'s share)`;
    print(
      `no counterexample: ${label} fencing ${fencing} stayed safe${where} in all ${outcome.tried} schedules tried${share}`,
    );
  } else {
    const { scenario, index, shrinks } = outcome.counterexample;
    print(
      `unsafe: candidate ${index + 1} of the search, shrunk ${shrinks} times to ${scenario.faults.length} fault(s)`,
    );
    print(`  ${violation(outcome.counterexample)}`);
    const file = shown(written.counterexample ?? '');
    print(`counterexample: ${file}`);
    print(`replay: ${replayOf(command, file)}   (trace ${outcome.counterexample.result.traceHash})`);
  }
  const found = outcome.counterexample;
  const check = {
    label,
    fencing: command.fencing,
    seed: command.seed,
    tried: outcome.tried,
    counterexample:
      found === null || written.replay === null
        ? null
        : { index: found.index, shrinks: found.shrinks, replay: written.replay },
  };
  const title = `lockstep check ${label}, fencing ${fencing}, seed ${command.seed}${shard === null ? '' : `, shard ${shardLabel(shard)}`}`;
  for (const line of writeCiFiles(command.ci ?? {}, { kind: 'check', title, check }, new Date().toISOString()))
    print(line);
  print(`run directory: ${shown(written.dir)}`);
  return outcome.counterexample === null ? 0 : 1;
}

/** A path as printed: relative to the working directory when it is inside it, as --out was given. */
function shown(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside;
}

/** The search itself, with a progress bar on a terminal and a line every 50 tries elsewhere. */
async function search(command: CheckCommand, print: (line: string) => void): Promise<CheckOutcome> {
  const pool = command.workers > 1 ? new RunPool(command.workers) : null;
  const bar = process.stdout.isTTY
    ? new SingleBar({ format: '{bar} {value}/{total} {phase}', hideCursor: true }, Presets.shades_classic)
    : null;
  bar?.start(shareSize(command.runs, command.shard), 0, { phase: 'searching' });
  try {
    return await check({
      ...command,
      subject: command.subject?.ref ?? null,
      judge: pool?.judge,
      batchSize: pool === null ? 1 : pool.size * 2,
      onProgress: (event) => {
        if (event.phase === 'search') {
          bar?.update(event.tried, { phase: 'searching' });
          if (bar === null && (event.tried % 50 === 0 || event.tried === event.total))
            print(`  tried ${event.tried}/${event.total}`);
        } else {
          bar?.update({ phase: `shrinking (${event.shrinks} shrinks)` });
        }
      },
    });
  } finally {
    bar?.stop();
    await pool?.close();
  }
}

/**
 * The check's run directory: check.json, and for a counterexample its scenario file and its run
 * (results.json and history). Returns where things went, and the replay command.
 */
function writeCheckDir(
  command: CheckCommand,
  outcome: CheckOutcome,
): { dir: string; counterexample: string | null; replay: string | null } {
  const tool = { name: 'lockstep' as const, version: command.version };
  const record: ShardRecord | null =
    command.shard === null ? null : { ...command.shard, planned: command.runs, inputs: checkInputs(command) };
  const header = {
    tool,
    mode: 'sim' as const,
    createdAt: new Date().toISOString(),
    command: command.commandLine,
    ...(record === null ? {} : { shard: record }),
  };
  const writer = RunDirWriter.open(command.outDir, new Date().toISOString().replace(/[:.]/g, '-'), header);
  let found: CheckFileWritten['counterexample'] = null;
  let path: string | null = null;
  try {
    const counterexample = outcome.counterexample;
    if (counterexample !== null) {
      const name = counterexampleName(command);
      const file = `${name}.yaml`;
      path = join(writer.final, file);
      writer.writeFile(file, counterexampleYaml(command, counterexample, name));
      const { result, history, writes } = counterexample;
      writer.add({ run: { ...result, scenario: name, file: path }, history, writes });
      found = {
        candidate: counterexample.index + 1,
        shrinks: counterexample.shrinks,
        file,
        replay: replayOf(command, path),
        traceHash: result.traceHash,
      };
    }
    const subjectFile = command.subject === null ? null : (subjectFileOf(command.subject.ref).subjectFile ?? null);
    const file: CheckFileWritten = {
      formatVersion: CHECK_FORMAT_VERSION,
      tool,
      command: command.commandLine,
      system: command.system,
      subject: command.subject?.definition.name ?? null,
      subjectFile,
      differential: command.differential === true,
      fencing: command.fencing ? 'on' : 'off',
      seed: command.seed,
      runs: command.runs,
      swarm: command.swarm,
      durationMs: command.durationMs,
      tried: outcome.tried,
      counterexample: found,
      ...(record === null ? {} : { shard: record }),
    };
    writer.writeFile(CHECK_FILE, `${JSON.stringify(file, null, 2)}\n`);
    const dir = writer.finish();
    writer.pointLatest();
    return { dir, counterexample: path, replay: found?.replay ?? null };
  } catch (error) {
    writer.abandon();
    throw error;
  }
}

/** A counterexample's file name (without .yaml), which is also its scenario's name: the lock, fencing and seed. */
export function counterexampleName(command: Pick<CheckCommand, 'system' | 'subject' | 'fencing' | 'seed'>): string {
  const label = `counterexample-${command.subject?.definition.name ?? command.system}`;
  return scenarioName(label, `-fencing-${command.fencing ? 'on' : 'off'}-seed-${command.seed}`);
}

/** The command that replays the counterexample at `file`. */
export function replayOf(command: CheckCommand, file: string): string {
  return `npx lockstep run ${file}${subjectOption(command)} --seed ${command.seed}`;
}

/** The --subject a replay needs, or nothing. */
function subjectOption(command: CheckCommand): string {
  return command.subject === null ? '' : ` --subject ${command.subject.ref}`;
}

function violation({ result }: Counterexample): string {
  const m = result.metrics;
  if (m === null) return `verdict ${result.verdict}`;
  return `${m.lostUpdates} lost update(s), ${m.staleWritesAccepted} stale write(s) accepted, ${m.overlaps} overlapping hold(s)`;
}

function describeFault(fault: Fault): string {
  const { at, after, ...what } = fault;
  let when: string;
  if (at !== undefined) when = `at ${at} ms`;
  else if (after !== undefined) when = `${after.waitMs} ms after grant ${after.nth}`;
  else throw new Error('check: a validated fault has neither at nor after');
  return `${JSON.stringify(what)} ${when}`;
}

export function counterexampleYaml(command: CheckCommand, counterexample: Counterexample, name: string): string {
  const { scenario, index, shrinks } = counterexample;
  const fencing = command.fencing ? 'on' : 'off';
  const faults = scenario.faults.length === 0 ? 'no faults' : scenario.faults.map(describeFault).join('; ');
  const target =
    command.subject === null
      ? `--system ${command.system}`
      : `--subject ${command.subject.ref}${command.differential === true ? ' --differential' : ''}`;
  const description =
    `Found by lockstep check ${target} --fencing ${fencing} --seed ${command.seed} ` +
    `(candidate ${index + 1}, shrunk ${shrinks} times). Run with seed ${command.seed}, it is unsafe: ` +
    `${violation(counterexample)}${command.differential === true ? `, where ${command.system}'s own recipe is safe` : ''}. Faults: ${faults}.`;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- $schema is taken out so the rest is the document
  const { $schema: _schema, ...rest } = scenario;
  // A subject is measured, not held to expectations: its counterexample states none.
  const expect = command.subject === null ? [{ system: command.system, fencing, verdict: 'unsafe' }] : [];
  const document = { ...rest, name, description, expect };
  return `# Replay: npx lockstep run ${name}.yaml${subjectOption(command)} --seed ${command.seed}\n${stringify(document)}`;
}
