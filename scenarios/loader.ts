/**
 * Reading scenario files: YAML in, a checked Scenario out, or one ScenarioError that names the
 * file, the path to the offending field and what was expected. Nothing half-read escapes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
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

/** Parse and check one scenario from YAML text; `file` names it in errors. */
export function parseScenario(text: string, file: string): Scenario {
  if (text.length > MAX_SCENARIO_BYTES) throw new ScenarioError(file, '', `file is larger than ${MAX_SCENARIO_BYTES} bytes`);
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const problem = document.errors[0];
  if (problem !== undefined) {
    const at = problem.linePos?.[0];
    throw new ScenarioError(file, at === undefined ? '' : `line ${at.line} column ${at.col}`, `not valid YAML (${problem.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')})`);
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
    const issue = parsed.error.issues[0]!;
    throw new ScenarioError(file, formatPath(issue.path), describeIssue(issue));
  }
  return parsed.data;
}

export function loadScenarioFile(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ScenarioError(file, '', `cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseScenario(text, file);
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
  const loaded = files.map((file) => ({ file, scenario: loadScenarioFile(file) }));
  const seen = new Map<string, string>();
  for (const { file, scenario } of loaded) {
    const other = seen.get(scenario.name);
    if (other !== undefined) throw new ScenarioError(file, 'name', `'${scenario.name}' is already the name of ${basename(other)}; names must be unique`);
    seen.set(scenario.name, file);
  }
  return loaded;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return `missing; expected ${issue.expected}`;
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) return `expected ${issue.expected}`;
  return issue.message;
}
