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
    throw new ScenarioError(file, formatPath(issue.path), describeIssue(issue, data));
  }
  return parsed.data;
}

/** Read, parse and check one scenario file, which must be named after its scenario. */
export function loadScenarioFile(file: string): Scenario {
  const scenario = parseScenario(readScenarioText(file), file);
  requireNamedAfterFile(file, scenario.name);
  return scenario;
}

/**
 * A scenario file is named after its scenario (`name: x` in x.yaml or x.yml): the file a command
 * line names and the run directory's history files, results and report, which go by the name,
 * then say the same thing.
 */
function requireNamedAfterFile(file: string, name: string): void {
  const expected = basename(file).replace(/\.ya?ml$/, '');
  if (name === expected) return;
  const fix = scenarioSchema.shape.name.safeParse(expected).success
    ? `rename the file ${name}.yaml, or set name: ${expected}`
    : `rename the file ${name}.yaml`;
  throw new ScenarioError(
    file,
    'name',
    `'${name}' differs from the file's name, '${expected}' (a scenario file is named after its scenario): ${fix}`,
  );
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

/**
 * What went wrong, in words. `data` is the document, to tell a field left out, or given no value,
 * from one of the wrong kind.
 */
function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  const value = valueAt(data, issue.path);
  if (value === ABSENT) return `required field is missing (${expectation(issue)})`;
  if (value === null) return `no value given (${expectation(issue)})`;
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) return `expected ${issue.expected}`;
  return issue.message;
}

/**
 * What a field expects, from its issue: the schema's own words where its message says
 * "<field> must be <what>" ("a number of milliseconds"), a choice's list, or else the type.
 */
function expectation(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value' || issue.message.startsWith('expected ')) return issue.message;
  const own = / must be (.+)$/.exec(issue.message)?.[1];
  if (own !== undefined) return `expected ${own}`;
  if (issue.code !== 'invalid_type') return issue.message;
  const words: Record<string, string> = {
    string: 'a string',
    number: 'a number',
    boolean: 'true or false',
    object: 'a mapping',
    array: 'a list',
  };
  return `expected ${words[issue.expected] ?? issue.expected}`;
}

const ABSENT = Symbol('absent');

/** The value at `path` in `data`, or ABSENT when its key is not in the mapping that would hold it. */
function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let holder: unknown = data;
  for (const key of path.slice(0, -1)) {
    if (holder === null || typeof holder !== 'object') return undefined;
    holder = (holder as Record<PropertyKey, unknown>)[key];
  }
  const key = path.at(-1);
  if (typeof key !== 'string' || holder === null || typeof holder !== 'object' || Array.isArray(holder))
    return undefined;
  return Object.hasOwn(holder, key) ? (holder as Record<string, unknown>)[key] : ABSENT;
}
