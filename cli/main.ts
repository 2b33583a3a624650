/**
 * The command line: parse arguments, call the library, print, exit.
 * Exit codes: 0 ok, 1 a property or expectation failed, 2 bad input or usage, 3 environment.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { fileURLToPath } from 'node:url';
import { formatBench, runBench } from './bench.ts';
import { runDemo } from './demo.ts';
import { UsageError } from '../runner/errors.ts';
import { parseSystems, plan, runCommand } from './run.ts';
import { SYSTEM_IDS } from '../backends/recipe.ts';
import { BUILTIN_SUBJECTS, loadSubject, type NamedSubject } from '../subjects/index.ts';
import { SubjectError } from '../subjects/define.ts';
import { checkCommand, MAX_CHECK_RUNS, runCheck, type CheckOptionStrings } from './check.ts';
import { ensureWritableDirectory, prepareOutDir } from '../runner/run-dir.ts';
import { redactCommandLine } from '../runner/redact.ts';
import { loadScenarios, ScenarioError } from '../scenarios/loader.ts';
import { loadRunDirs, ReportError } from '../reports/load.ts';
import { writeReport } from '../reports/report.ts';
import { compareCommand, DEFAULT_SCHEDULES, defaultWorkers, MAX_LIVE_SCHEDULES, runCompare } from './compare.ts';
import { MAX_SCHEDULES } from '../runner/compare-file.ts';
import { parseShard, type Shard } from '../runner/shard.ts';
import { checkCiPaths, type CiFileOptions } from './ci-files.ts';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The scenario library shipped with lockstep, run when no scenario is named. */
export const LIBRARY = fileURLToPath(new URL('../scenarios', import.meta.url));

export const EXIT = { ok: 0, failed: 1, usage: 2, environment: 3 } as const;

/** `run --seeds`: more than this many seeds of one scenario is a job for several commands. */
export const MAX_SEEDS = 10_000;
/**
 * Most runs one `run` command plans (scenarios x systems x fencing x seeds), counted before any
 * starts. Measured: the library over 270 seeds (19,980 runs) peaked at 1.2 GB, the report
 * included, and wrote 2 GB of histories. More is a job for several commands.
 */
export const MAX_PLANNED_RUNS = 20_000;

/** What every command that runs or merges says at the end of its --help. */
const EXIT_HELP = `
Exit codes: 0 every expectation met (compare: the campaign ran), 1 an expectation failed or a
counterexample was found, 2 bad input or usage, 3 the environment could not run it (a server).`;

function integerOption(name: string) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
      throw new InvalidArgumentError(`${name} must be an integer, got '${raw}'`);
    }
    return Number(raw);
  };
}

const program = new Command()
  .name('lockstep')
  .description('Which distributed locks keep their promises, under which faults, at what cost.')
  .version(version)
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

program
  .command('bench')
  .description('measure simulator throughput (events per second of wall time)')
  .option('--json', 'print one JSON object on stdout')
  .option(
    '--live',
    'measure the live tier instead: acquire latency per system, harness overhead, lockstep RedLock vs node-redlock',
  )
  .action(async (options: { json?: boolean; live?: boolean }) => {
    if (options.live === true) {
      const { runLiveBench } = await import('../live/bench.ts');
      const result = { tool: { name: 'lockstep', version }, node: process.version, ...(await runLiveBench()) };
      process.stdout.write(`${JSON.stringify(result, null, options.json === true ? undefined : 2)}\n`);
      return;
    }
    const result = await runBench(version, LIBRARY);
    process.stdout.write(options.json === true ? `${JSON.stringify(result)}\n` : `${formatBench(result)}\n`);
  });

withCiOptions(program.command('run'))
  .description('run scenarios in the simulator against every system, fenced and unfenced')
  .addHelpText('after', `\nSystems: ${SYSTEM_IDS.join(', ')}.`)
  .argument('[scenarios...]', 'scenario files or directories (default: the whole library)')
  .option('--systems <ids>', "comma-separated systems to run (default: each scenario's own list)")
  .option('--fencing <mode>', 'off, on or both', 'both')
  .option('--seed <n>', 'first seed (>= 0; the last seed must stay a safe integer)', integerOption('--seed'), 1)
  .option(
    '--seeds <n>',
    `how many seeds, from --seed on (1..${MAX_SEEDS}; at most ${MAX_PLANNED_RUNS} runs in all)`,
    integerOption('--seeds'),
    1,
  )
  .option(
    '--subject <name or file>',
    `a lock to test beside the systems' own recipes: ${BUILTIN_SUBJECTS.join(', ')}, or a file that default-exports defineSubject(...) (repeatable)`,
    collect,
    [],
  )
  .option('--out <dir>', 'where run directories go', 'runs')
  .option('--check-determinism', 'run each run twice and report the first event where they differ')
  .option('--shard <I/N>', 'run only shard I of N of the planned runs (lockstep merge joins the shards)', shardOption)
  .action(
    async (
      paths: string[],
      options: {
        systems?: string;
        subject: string[];
        fencing: string;
        seed: number;
        seeds: number;
        out: string;
        checkDeterminism?: boolean;
        shard?: Shard;
        junit?: string;
        summaryMd?: string;
      },
    ) => {
      if (!['off', 'on', 'both'].includes(options.fencing))
        throw new UsageError(`--fencing must be off, on or both, got '${options.fencing}'`);
      if (options.seeds < 1 || options.seeds > MAX_SEEDS)
        throw new UsageError(`--seeds must be between 1 and ${MAX_SEEDS}, got ${options.seeds}`);
      if (options.seed < 0) throw new UsageError(`--seed must be >= 0, got ${options.seed}`);
      // Compared this way round because seed + seeds - 1 itself would round to a safe integer.
      if (options.seeds - 1 > Number.MAX_SAFE_INTEGER - options.seed)
        throw new UsageError(
          `--seed ${options.seed} with --seeds ${options.seeds}: the last seed must be at most ${Number.MAX_SAFE_INTEGER}`,
        );
      const systems = options.systems === undefined ? null : parseSystems(options.systems);
      const subjects = await namedSubjects(options.subject);
      const scenarios = loadScenarios(paths.length === 0 ? [LIBRARY] : paths);
      const runs =
        plan({
          scenarios,
          systems,
          subjects,
          fencing: options.fencing as 'off' | 'on' | 'both',
          seed: options.seed,
          seeds: 1,
        }).length * options.seeds;
      if (runs > MAX_PLANNED_RUNS)
        throw new UsageError(
          `--seeds ${options.seeds}: ${runs} runs planned (scenarios x systems x fencing x seeds); at most ${MAX_PLANNED_RUNS}`,
        );
      const ci = ciFiles(options);
      prepareOutDir(options.out);
      process.exitCode = await runCommand(
        {
          scenarios,
          systems,
          subjects,
          fencing: options.fencing as 'off' | 'on' | 'both',
          seed: options.seed,
          seeds: options.seeds,
          outDir: options.out,
          checkDeterminism: options.checkDeterminism === true,
          shard: options.shard ?? null,
          ci,
          version,
          commandLine: commandLine(),
        },
        (line) => process.stdout.write(`${line}\n`),
      );
    },
  );

withCiOptions(program.command('live'))
  .description('run scenarios against real servers behind Toxiproxy (the same recipes, workloads and checkers)')
  .argument('[scenarios...]', 'scenario files or directories (default: the whole library)')
  .option(
    '--provider <name>',
    'local (start private servers), compose (docker-compose.yml) or external (--config)',
    'local',
  )
  .option('--config <file>', 'external provider: the endpoints file')
  .option('--systems <ids>', "comma-separated systems to run (default: each scenario's own list)")
  .option(
    '--subject <name or file>',
    `a lock to run too, on its system's servers: ${BUILTIN_SUBJECTS.join(', ')}, or a file that default-exports defineSubject(...) (repeatable)`,
    collect,
    [],
  )
  .option('--subjects <names>', 'the same, comma-separated (built-in names)')
  .option('--fencing <mode>', 'off, on or both', 'both')
  .option('--seed <n>', 'seed of the fault selectors (one, any, ...); >= 0', integerOption('--seed'), 1)
  .option('--postgres <url>', 'local provider: use this PostgreSQL instead of starting one')
  .option('--mysql <url>', 'local provider: use this MySQL or MariaDB instead of starting one')
  .option(
    '--parallel <n>',
    'runs whose faults touch only their own clients that may share the cluster at once',
    integerOption('--parallel'),
    1,
  )
  .option('--out <dir>', 'where run directories go', 'runs')
  .option('--shard <I/N>', 'run only shard I of N of the planned runs (lockstep merge joins the shards)', shardOption)
  .action(
    async (
      paths: string[],
      options: {
        shard?: Shard;
        junit?: string;
        summaryMd?: string;
        provider: string;
        config?: string;
        systems?: string;
        subject: string[];
        subjects?: string;
        fencing: string;
        seed: number;
        postgres?: string;
        mysql?: string;
        parallel: number;
        out: string;
      },
    ) => {
      const { liveCommand, parseProvider, splitSubjects } = await import('./live.ts');
      if (!['off', 'on', 'both'].includes(options.fencing))
        throw new UsageError(`--fencing must be off, on or both, got '${options.fencing}'`);
      if (options.parallel < 1 || options.parallel > 16)
        throw new UsageError(`--parallel must be between 1 and 16, got ${options.parallel}`);
      if (options.seed < 0) throw new UsageError(`--seed must be >= 0, got ${options.seed}`);
      const provider = parseProvider(options);
      const systems = options.systems === undefined ? null : parseSystems(options.systems);
      const subjects = await namedSubjects([
        ...options.subject,
        ...(options.subjects === undefined ? [] : splitSubjects(options.subjects)),
      ]);
      const scenarios = loadScenarios(paths.length === 0 ? [LIBRARY] : paths);
      const ci = ciFiles(options);
      prepareOutDir(options.out);
      process.exitCode = await liveCommand(
        {
          scenarios,
          systems,
          subjects,
          fencing: options.fencing as 'off' | 'on' | 'both',
          seed: options.seed,
          outDir: options.out,
          provider,
          parallel: options.parallel,
          shard: options.shard ?? null,
          ci,
          version,
          commandLine: commandLine(),
        },
        (line) => process.stdout.write(`${line}\n`),
      );
    },
  );

withCiOptions(program.command('check'))
  .description(
    'search fault schedules for an unsafe run of one system; shrink it and write it as a scenario file in a run directory',
  )
  .option('--system <id>', 'the system to check')
  .option(
    '--subject <name or file>',
    `check this lock instead, on its system: ${BUILTIN_SUBJECTS.join(', ')}, or a file that default-exports defineSubject(...)`,
  )
  .option('--fencing <mode>', 'off or on', 'off')
  .option('--runs <n>', `how many schedules to try (1..${MAX_CHECK_RUNS})`, integerOption('--runs'), 200)
  .option('--seed <n>', 'the seed of the search and of every run (>= 0)', integerOption('--seed'), 1)
  .option(
    '--out <dir>',
    'where run directories go (each check its own: check.json, the counterexample file, its run)',
    'runs',
  )
  .option(
    '--workers <n>',
    'worker threads judging schedules in parallel (same answer as 1)',
    integerOption('--workers'),
    1,
  )
  .option('--swarm', 'switch whole fault kinds on and off per schedule, so rare combinations come up')
  .option(
    '--differential',
    "with --subject: only schedules where the subject is unsafe and its system's own recipe is safe",
  )
  .option('--shard <I/N>', 'judge only shard I of N of the candidates (lockstep merge joins the shards)', shardOption)
  .action(async (options: CheckOptionStrings & CiOptionStrings & { subject?: string }) => {
    const [subject = null] = options.subject === undefined ? [] : await namedSubjects([options.subject]);
    const command = { ...checkCommand(options, subject, version, commandLine()), ci: ciFiles(options) };
    prepareOutDir(options.out);
    process.exitCode = await runCheck(command, (line) => process.stdout.write(`${line}\n`));
  });

withCiOptions(program.command('compare'))
  .description('one fault campaign against every system, fenced and unfenced: unsafe fractions side by side')
  .option(
    '--schedules <n>',
    `fault schedules to draw (1..${MAX_SCHEDULES}); each runs on every system, fenced and unfenced`,
    integerOption('--schedules'),
    DEFAULT_SCHEDULES,
  )
  .option('--seed <n>', 'the seed of the campaign and of every run (>= 0)', integerOption('--seed'), 1)
  .option('--systems <ids>', 'comma-separated systems (default: all seven)')
  .option(
    '--workers <n>',
    'worker threads running the campaign (same answer as 1; default: one per core)',
    integerOption('--workers'),
    defaultWorkers(),
  )
  .option(
    '--live <k>',
    `also run K of the schedules, chosen by the seed, on real servers (0..${MAX_LIVE_SCHEDULES})`,
    integerOption('--live'),
    0,
  )
  .option(
    '--subject <name or file>',
    `a lock to compare too, on its system's schedules: ${BUILTIN_SUBJECTS.join(', ')}, or a file that default-exports defineSubject(...) (repeatable)`,
    collect,
    [],
  )
  .option('--out <dir>', 'where run directories go', 'runs')
  .option('--shard <I/N>', 'run only shard I of N of the schedules (lockstep merge joins the shards)', shardOption)
  .action(
    async (options: {
      shard?: Shard;
      junit?: string;
      summaryMd?: string;
      schedules: number;
      seed: number;
      systems?: string;
      subject: string[];
      workers: number;
      live: number;
      out: string;
    }) => {
      const subjects = await namedSubjects(options.subject);
      const command = { ...compareCommand(options, version, commandLine(), subjects), ci: ciFiles(options) };
      prepareOutDir(options.out);
      process.exitCode = await runCompare(command, (line) => process.stdout.write(`${line}\n`));
    },
  );

withCiOptions(program.command('merge'))
  .description(
    'join the shard directories of one run, live, check or compare command (--shard I/N) into one run directory',
  )
  .argument(
    '<shardDirs...>',
    'the shard run directories, or the --out directories whose latest is one; every shard once',
  )
  .requiredOption('--out <dir>', 'where the merged run directory goes')
  .action(async (dirs: string[], options: CiOptionStrings & { out: string }) => {
    const { runMerge } = await import('./merge.ts');
    const ci = { junit: options.junit, summaryMd: options.summaryMd };
    process.exitCode = await runMerge(dirs, options.out, ci, (line) => process.stdout.write(`${line}\n`));
  });

program
  .command('report')
  .description('turn run directories (sim, live, or both) into index.html, report.md and charts')
  .argument('<runDirs...>', 'run directories holding results.json')
  .option('--out <dir>', 'where the report goes (default: the first run directory)')
  .action(async (dirs: string[], options: { out?: string }) => {
    loadRunDirs(dirs);
    const out = options.out ?? dirs[0];
    if (out === undefined) throw new Error('report: no run directory to write the report into');
    ensureWritable(out);
    const written = await writeReport(dirs, out);
    process.stdout.write(`report: ${written.html}\nmarkdown: ${written.markdown}\n`);
  });

program
  .command('demo')
  .description('tell a short fault story with the simulation kernel, and show that it replays exactly')
  .option('--seed <n>', 'the seed', integerOption('--seed'), 1)
  .action(async (options: { seed: number }) => {
    const deterministic = await runDemo(options.seed, (text) => process.stdout.write(`${text}\n`));
    if (!deterministic) process.exitCode = EXIT.failed;
  });

/** The command line as results files record it: passwords in URLs redacted. */
function commandLine(): string {
  return redactCommandLine(['lockstep', ...process.argv.slice(2)]);
}

/** --junit and --summary-md, and the exit codes in --help, on every command that runs or merges. */
function withCiOptions(command: Command): Command {
  return command
    .addHelpText('after', EXIT_HELP)
    .option('--junit <file>', 'also write JUnit XML: one test case per run, failures with their replay commands')
    .option(
      '--summary-md <file>',
      'also write the verdict table as Markdown (appended to $GITHUB_STEP_SUMMARY too, when it is set)',
    );
}

interface CiOptionStrings {
  junit?: string;
  summaryMd?: string;
}

/** The CI files of a command's options, their paths checked before any work starts. */
function ciFiles(options: CiOptionStrings): CiFileOptions {
  const ci = { junit: options.junit, summaryMd: options.summaryMd };
  checkCiPaths(ci);
  return ci;
}

/** --shard I/N; a malformed value is a usage error naming the option. */
function shardOption(raw: string): Shard {
  return parseShard(raw);
}

/** Repeated options, gathered in order. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Load every --subject; a name or file that is not a subject is a usage error naming it. */
async function namedSubjects(refs: readonly string[]): Promise<NamedSubject[]> {
  const out: NamedSubject[] = [];
  for (const ref of refs) {
    try {
      out.push({ ref, definition: await loadSubject(ref) });
    } catch (error) {
      if (error instanceof SubjectError) throw new UsageError(error.message);
      throw error;
    }
  }
  const names = out.map((s) => s.definition.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UsageError(`--subject: two subjects are named '${twice}'`);
  return out;
}

function ensureWritable(dir: string): void {
  ensureWritableDirectory(dir, '--out');
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (
    error instanceof UsageError ||
    error instanceof ScenarioError ||
    error instanceof ReportError ||
    error instanceof SubjectError
  ) {
    process.stderr.write(`lockstep: ${error.message}\n`);
    process.exitCode = EXIT.usage;
  } else {
    process.stderr.write(`lockstep: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.environment;
  }
}
