/**
 * Reading scenario files: YAML in, a checked Scenario out, or one ScenarioError that names the
 * file, the path to the offending field and what was expected. Nothing half-read escapes.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import { basename, join } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { scenarioSchema, type Scenario } from './schema.ts';

export class ScenarioError extends Error {
  override name = 'ScenarioError';

  constructor(
    readonly file: string,
    readonly path: string,
    readonly expected: string,
  ) {
    super(`${file}: ${path === '' ? '' : `${path}: `}${expected}`);
  }
}

export const MAX_SCENARIO_BYTES = 1_000_000;

/** Most scenario files one command loads: each is kept, parsed, for the whole command. */
export const MAX_SCENARIO_FILES = 1000;

/** Parse and check one scenario from YAML text; `file` names it in errors. */
export function parseScenario(text: string, file: string): Scenario {
  if (text.length > MAX_SCENARIO_BYTES)
    throw new ScenarioError(file, '', `file is larger than ${MAX_SCENARIO_BYTES} bytes (the limit of a scenario)`);
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const problem = document.errors[0];
  if (problem !== undefined) {
    const at = problem.linePos?.[0];
    throw new ScenarioError(
      file,
      at === undefined ? '' : `line ${at.line} column ${at.col}`,
      // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- split always returns at least one piece
      `not valid YAML (${problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')})`,
    );
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw new ScenarioError(file, '', `not valid YAML (${(error as Error).message})`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ScenarioError(file, '', 'expected a YAML mapping with name, description, durationMs, ...');
  }
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue === undefined) throw new ScenarioError(file, '', 'invalid, and zod named no issue');
    throw new ScenarioError(file, formatPath(issue.path), describeIssue(issue));
  }
  return parsed.data;
}

export function loadScenarioFile(file: string): Scenario {
  return parseScenario(readScenarioText(file), file);
}

/**
 * The text of a scenario file, read only once it is known to be a regular file within the size
 * limit: a device (/dev/zero) would be read for ever, and a FIFO would block the open itself.
 */
function readScenarioText(file: string): string {
  const cannot = (error: unknown) =>
    new ScenarioError(file, '', `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (error) {
    throw cannot(error);
  }
  requireSmallRegularFile(file, stats);
  let fd: number;
  try {
    // O_NONBLOCK: should the path have become a FIFO since the stat, the open returns instead of waiting for a writer.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw cannot(error);
  }
  try {
    requireSmallRegularFile(file, fstatSync(fd));
    // One byte past the limit tells a file that grew since the stat from one exactly at the limit.
    const buffer = Buffer.alloc(MAX_SCENARIO_BYTES + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n)
      n = readSync(fd, buffer, length, buffer.length - length, null);
    if (length > MAX_SCENARIO_BYTES) throw tooLarge(file);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    throw error instanceof ScenarioError ? error : cannot(error);
  } finally {
    closeSync(fd);
  }
}

function requireSmallRegularFile(file: string, stats: Stats): void {
  if (!stats.isFile())
    throw new ScenarioError(file, '', `not a regular file (${kindOf(stats)}); a scenario is a YAML file`);
  if (stats.size > MAX_SCENARIO_BYTES) throw tooLarge(file);
}

function tooLarge(file: string): ScenarioError {
  return new ScenarioError(file, '', `file is larger than ${MAX_SCENARIO_BYTES} bytes (the limit of a scenario)`);
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return stats.isDirectory() ? 'a directory' : 'not a file';
}

/** Every scenario named by `paths`: files as they are, directories by their *.yaml files in name order. */
export function loadScenarios(paths: readonly string[]): { file: string; scenario: Scenario }[] {
  const files = paths.flatMap((path) => {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch {
      throw new ScenarioError(path, '', 'no such file or directory');
    }
    if (!isDirectory) return [path];
    return readdirSync(path)
      .filter((name) => /\.ya?ml$/.test(name))
      .sort()
      .map((name) => join(path, name));
  });
  if (files.length > MAX_SCENARIO_FILES) {
    throw new ScenarioError(
      paths.join(' '),
      '',
      `${files.length} scenario files; at most ${MAX_SCENARIO_FILES} in one command`,
    );
  }
  const loaded = files.map((file) => ({ file, scenario: loadScenarioFile(file) }));
  const seen = new Map<string, string>();
  for (const { file, scenario } of loaded) {
    const other = seen.get(scenario.name);
    if (other !== undefined)
      throw new ScenarioError(
        file,
        'name',
        `'${scenario.name}' is already the name of ${basename(other)}; names must be unique`,
      );
    seen.set(scenario.name, file);
  }
  return loaded;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message))
    return `missing; expected ${issue.expected}`;
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) return `expected ${issue.expected}`;
  return issue.message;
}
