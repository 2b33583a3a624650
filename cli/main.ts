/**
 * The command line: parse arguments, call the library, print, exit.
 * Exit codes: 0 ok, 1 a property or expectation failed, 2 bad input or usage, 3 environment.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { formatBench, runBench } from './bench.ts';
import { runDemo } from './demo.ts';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export const EXIT = { ok: 0, failed: 1, usage: 2, environment: 3 } as const;

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
  .action(async (options: { json?: boolean }) => {
    const result = await runBench(version);
    process.stdout.write(options.json === true ? `${JSON.stringify(result)}\n` : `${formatBench(result)}\n`);
  });

program
  .command('demo')
  .description('tell a short fault story with the simulation kernel, and show that it replays exactly')
  .option('--seed <n>', 'the seed', integerOption('--seed'), 1)
  .action(async (options: { seed: number }) => {
    const deterministic = await runDemo(options.seed, (text) => process.stdout.write(`${text}\n`));
    if (!deterministic) process.exitCode = EXIT.failed;
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    process.stderr.write(`lockstep: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT.environment;
  }
}
