/**
 * Imports flow one way (DESIGN section 1): sim <- backends <- subjects <- runner <- cli; checkers import only
 * the history types; live implements what runner defines and never imports cli; reports read
 * results files and history, through the contract in runner/. This test reads the imports of every
 * production source file and fails on one that runs against the flow, naming file:line. Tests may
 * import anything they test.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** For each top-level folder, the folders (or single files) its production code may import. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  sim: ['sim'],
  backends: ['sim', 'backends'],
  checkers: ['checkers', 'runner/history.ts'],
  faults: ['faults', 'sim'],
  scenarios: ['scenarios', 'sim', 'backends', 'faults'],
  // Locks lockstep did not write: their simulated clients and time sit on sim and backends.
  subjects: ['subjects', 'sim', 'backends'],
  runner: ['runner', 'sim', 'backends', 'subjects', 'checkers', 'scenarios', 'faults'],
  live: ['live', 'sim', 'backends', 'subjects', 'checkers', 'scenarios', 'faults', 'runner'],
  reports: ['reports', 'runner', 'checkers', 'scenarios', 'faults'],
  bench: ['bench', 'sim', 'backends', 'checkers', 'scenarios', 'runner'],
  cli: ['cli', 'sim', 'backends', 'subjects', 'checkers', 'scenarios', 'faults', 'runner', 'live', 'reports', 'bench'],
};

// `from '…'`, `import '…'` and `import('…')`, relative specifiers only: packages are not layers.
const IMPORT = /(?:\bfrom\s*|^\s*import\s*|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;

function productionFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : productionFiles(path);
    return /\.(ts|js)$/.test(name) && !/\.test\.ts$/.test(name) ? [path] : [];
  });
}

/** The relative imports of `source`, with the line each is on. */
export function importsOf(source: string): { line: number; specifier: string }[] {
  return source
    .split('\n')
    .flatMap((text, i) => [...text.matchAll(IMPORT)].map((m) => ({ line: i + 1, specifier: m[2]! })));
}

/** Why `file` (relative to the root) may not import `target` (relative to the root), or null when it may. */
export function violation(file: string, target: string): string | null {
  const from = file.split(sep)[0]!;
  if (target.split(sep)[0] === 'node_modules') return null; // a package reached by path is still a package
  const allowed = ALLOWED[from];
  if (allowed === undefined) return `${from}/ has no rule in test/imports.test.ts`;
  const ok = allowed.some((entry) => target === entry || target.startsWith(`${entry}${sep}`));
  return ok ? null : `${from}/ may not import ${target}`;
}

function offences(): string[] {
  return Object.keys(ALLOWED).flatMap((folder) =>
    productionFiles(join(ROOT, folder)).flatMap((path) => {
      const file = relative(ROOT, path);
      return importsOf(readFileSync(path, 'utf8')).flatMap(({ line, specifier }) => {
        const why = violation(file, relative(ROOT, resolve(dirname(path), specifier)));
        return why === null ? [] : [`${file}:${line}: ${why}`];
      });
    }),
  );
}

describe('import direction', () => {
  it('reads static, side-effect, multi-line and dynamic imports', () => {
    const sample = [
      "import { a } from '../cli/run.ts';",
      'import {',
      '  b,',
      "} from './b.ts';",
      "import './side.ts';",
      "const m = await import('../live/bench.ts');",
      "import fc from 'fast-check';",
    ].join('\n');
    assert.deepEqual(importsOf(sample), [
      { line: 1, specifier: '../cli/run.ts' },
      { line: 4, specifier: './b.ts' },
      { line: 5, specifier: './side.ts' },
      { line: 6, specifier: '../live/bench.ts' },
    ]);
  });

  it('refuses imports against the flow and allows those with it', () => {
    assert.match(violation(join('live', 'external.ts'), join('cli', 'run.ts')) ?? '', /live\/ may not import cli/);
    assert.match(
      violation(join('backends', 'x', 'lock.ts'), join('runner', 'history.ts')) ?? '',
      /backends\/ may not import/,
    );
    assert.match(violation(join('reports', 'html.ts'), join('live', 'redact.ts')) ?? '', /reports\/ may not import/);
    assert.match(violation(join('checkers', 'mutex.ts'), join('runner', 'run.ts')) ?? '', /checkers\/ may not import/);
    assert.equal(violation(join('checkers', 'mutex.ts'), join('runner', 'history.ts')), null);
    assert.equal(violation(join('cli', 'live.ts'), join('live', 'run.ts')), null);
    assert.equal(
      violation(join('live', 'subjects', 'node-redlock.ts'), join('node_modules', 'redlock', 'dist', 'index.js')),
      null,
    );
  });

  it('holds in every production source file', () => {
    const found = offences();
    assert.deepEqual(found, [], `imports against the flow (DESIGN section 1):\n${found.join('\n')}`);
  });
});
