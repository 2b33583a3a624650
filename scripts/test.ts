/**
 * The test step of `npm test` (after the type check and lint): `node --import tsx --test` over the
 * files it is given, its output streamed as it comes and its exit code passed on, then a footer
 * (scripts/skip-footer.ts) saying what was skipped, why, and how to run the live tier. What was
 * skipped comes from a second reporter, scripts/skip-reporter.js, writing to a file of its own.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveEnabled } from '../live/gate.ts';
import { readSkipped, skipFooter } from './skip-footer.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SKIP_REPORTER = fileURLToPath(new URL('skip-reporter.js', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'lockstep-test-'));
const skippedFile = join(scratch, 'skipped.jsonl');
// Node's own choice when no reporter is named (spec on a terminal, TAP otherwise); naming the
// second reporter takes that default away, so it is named here as node would pick it.
const shown = process.stdout.isTTY ? 'spec' : 'tap';
const runner = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-reporter=${shown}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${SKIP_REPORTER}`,
    `--test-reporter-destination=${skippedFile}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);

// Ctrl-C reaches the runner as well (it is in this process group) and ends the run; this script
// waits to hear how. A SIGTERM sent to this script alone is passed on.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => runner.kill('SIGTERM'));

runner.on('exit', (code, signal) => {
  const footer = skipFooter(readSkipped(skippedFile), ROOT, liveEnabled());
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(`${footer.join('\n')}\n`);
  if (signal === null) {
    process.exitCode = code ?? 1;
    return;
  }
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});
