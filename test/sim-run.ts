/**
 * A small real run directory for tests that read one: `lockstep run` of a few library scenarios
 * on a few systems, seed 1, fenced and unfenced, in a temporary directory removed afterwards.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SystemId } from '../backends/recipe.ts';
import { runCommand } from '../cli/run.ts';
import { loadScenarios } from '../scenarios/loader.ts';
import { tempDir } from './temp.ts';

const LIBRARY = fileURLToPath(new URL('../scenarios', import.meta.url));

/** Run `scenarios` (names in the library) on `systems`; returns the run directory (`latest`). */
export async function simRunDir(
  prefix: string,
  scenarios: readonly string[],
  systems: readonly SystemId[],
): Promise<string> {
  const out = tempDir(prefix);
  const code = await runCommand(
    {
      scenarios: loadScenarios(scenarios.map((name) => join(LIBRARY, `${name}.yaml`))),
      systems,
      fencing: 'both',
      seed: 1,
      seeds: 1,
      outDir: out,
      checkDeterminism: false,
      version: 'test',
      commandLine: 'lockstep run (test)',
    },
    () => {},
  );
  assert.equal(code, 0, 'every expectation of the library scenarios is met');
  return join(out, 'latest');
}
