/** `lockstep check`: search fault schedules for an unsafe run, shrink it, and write it out as a scenario. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
}

/**
 * Turn raw option strings into a CheckCommand, or throw a UsageError naming the option. With a
 * subject (--subject, loaded by the caller), the system is the subject's.
 */
export function checkCommand(options: CheckOptionStrings, subject: NamedSubject | null = null): CheckCommand {
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
  };
}

/** Run the search; returns the exit code (0 held, 1 counterexample found). */
export async function runCheck(command: CheckCommand, print: (line: string) => void): Promise<number> {
  const fencing = command.fencing ? 'on' : 'off';
  const target =
    command.subject === null
      ? ''
      : ` subject=${command.subject.definition.name}${command.differential === true ? ' differential=on' : ''}`;
  print(
    `lockstep check: system=${command.system}${target} fencing=${fencing} seed=${command.seed} runs=${command.runs} ` +
      `workers=${command.workers} swarm=${command.swarm ? 'on' : 'off'} durationMs=${command.durationMs}`,
  );
  const pool = command.workers > 1 ? new RunPool(command.workers) : null;
  const bar = process.stdout.isTTY
    ? new SingleBar({ format: '{bar} {value}/{total} {phase}', hideCursor: true }, Presets.shades_classic)
    : null;
  bar?.start(command.runs, 0, { phase: 'searching' });
  let outcome: CheckOutcome;
  try {
    outcome = await check({
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
  const label = command.subject?.definition.name ?? command.system;
  if (outcome.counterexample === null) {
    const where = command.differential === true ? `, wherever ${command.system}'s own recipe was safe,` : '';
    print(`no counterexample: ${label} fencing ${fencing} stayed safe${where} in all ${outcome.tried} schedules tried`);
    return 0;
  }
  const file = join(command.outDir, 'counterexample.yaml');
  writeFileSync(file, counterexampleYaml(command, outcome.counterexample));
  const { result, scenario, index, shrinks } = outcome.counterexample;
  print(`unsafe: candidate ${index + 1} of the search, shrunk ${shrinks} times to ${scenario.faults.length} fault(s)`);
  print(`  ${violation(outcome.counterexample)}`);
  print(`counterexample: ${file}`);
  print(
    `replay: npx lockstep run ${file}${subjectOption(command)} --seed ${command.seed}   (trace ${result.traceHash})`,
  );
  return 1;
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

export function counterexampleYaml(command: CheckCommand, counterexample: Counterexample): string {
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
  const document = { ...rest, description, expect };
  return `# Replay: npx lockstep run counterexample.yaml${subjectOption(command)} --seed ${command.seed}\n${stringify(document)}`;
}
