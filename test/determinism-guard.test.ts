/**
 * The simulator promises that one seed replays a run exactly. That breaks the moment code in the
 * deterministic folders reads real time or real randomness, so this test reads the source and
 * fails on any such call. Live adapters (files or folders named live*) are exempt: they talk to
 * real servers on real time.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DETERMINISTIC_DIRS = ['sim', 'faults', 'runner', 'checkers', 'backends', 'subjects'];

/**
 * Besides live adapters, a few places in those folders may name the ambient functions:
 *   - subjects/ambient.ts keeps the real ones, to hand back to code outside a simulation, and
 *     routes every call made inside one to the simulated node; its test calls them to see where
 *     they go;
 *   - subjects/builtin/ and subjects/fixtures/ are subject code, written as a library is, against
 *     the ambient functions, which the simulator routes to the node it runs on.
 */
const ROUTED = ['subjects/ambient.ts', 'subjects/ambient.test.ts', 'subjects/builtin/', 'subjects/fixtures/'];
function isRouted(path: string): boolean {
  const normal = path.split(/[\\/]/).join('/');
  return ROUTED.some((entry) => (entry.endsWith('/') ? normal.startsWith(entry) : normal === entry));
}

const FORBIDDEN: { name: string; pattern: RegExp }[] = [
  { name: 'Date.now', pattern: /\bDate\s*\.\s*now\s*\(/ },
  { name: 'new Date()', pattern: /\bnew\s+Date\s*\(/ },
  { name: 'performance.now', pattern: /\bperformance\s*\.\s*now\s*\(/ },
  { name: 'process.hrtime', pattern: /\bprocess\s*\.\s*hrtime\b/ },
  { name: 'Math.random', pattern: /\bMath\s*\.\s*random\s*\(/ },
  { name: 'setTimeout', pattern: /\bsetTimeout\s*\(/ },
  { name: 'setInterval', pattern: /\bsetInterval\s*\(/ },
  { name: 'setImmediate', pattern: /\bsetImmediate\s*\(/ },
  {
    name: 'crypto.random*',
    pattern: /\bcrypto\s*\.\s*(random\w*|getRandomValues)\b|\b(randomBytes|randomUUID|randomInt|getRandomValues)\s*\(/,
  },
  { name: 'node:timers', pattern: /['"]node:timers(\/promises)?['"]/ },
];

function isLive(path: string): boolean {
  return path.split(/[\\/]/).some((part) => /^live([-_.].*)?$/.test(part) || /^live-port\.ts$/.test(part));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return /\.(ts|js|mjs)$/.test(name) ? [path] : [];
  });
}

/** Blank out comments so that prose about Date.now does not count, keeping line numbers. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

export function findAmbient(source: string): { line: number; name: string }[] {
  const hits: { line: number; name: string }[] = [];
  stripComments(source)
    .split('\n')
    .forEach((text, i) => {
      for (const { name, pattern } of FORBIDDEN) if (pattern.test(text)) hits.push({ line: i + 1, name });
    });
  return hits;
}

describe('determinism guard', () => {
  it('finds every forbidden call form, and ignores comments', () => {
    const sample = [
      'const a = Date.now();',
      'const b = new Date();',
      'const c = performance.now();',
      'const d = Math.random();',
      'setTimeout(f, 1);',
      'setInterval(f, 1);',
      'crypto.randomUUID();',
      "import { setTimeout as sleep } from 'node:timers/promises';",
      'const e = process.hrtime.bigint();',
      '// Date.now() in a comment is fine',
      '/* Math.random() here too */ const ok = 1;',
    ].join('\n');
    assert.deepEqual(
      findAmbient(sample).map((h) => h.line),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  it('finds no ambient time or randomness in the deterministic folders', () => {
    const files = DETERMINISTIC_DIRS.flatMap((dir) => sourceFiles(join(ROOT, dir))).filter(
      (f) => !isLive(relative(ROOT, f)) && !isRouted(relative(ROOT, f)),
    );
    assert.ok(files.length > 0, 'the guard scanned no files: the folder layout changed under it');
    const hits = files.flatMap((file) =>
      findAmbient(readFileSync(file, 'utf8')).map((h) => `${relative(ROOT, file)}:${h.line} uses ${h.name}`),
    );
    assert.deepEqual(hits, [], `use Clock and Rng instead:\n${hits.join('\n')}`);
  });

  it('exempts only live adapters', () => {
    assert.equal(isLive('backends/redis/live-port.ts'), true);
    assert.equal(isLive('live/provider.ts'), true);
    assert.equal(isLive('backends/redis/sim-port.ts'), false);
    assert.equal(isLive('backends/delivery/port.ts'), false);
  });

  it('exempts, besides, only the ambient router and built-in subject code', () => {
    assert.equal(isRouted('subjects/ambient.ts'), true);
    assert.equal(isRouted('subjects/builtin/node-redlock.ts'), true);
    assert.equal(isRouted('subjects/sim.ts'), false);
    assert.equal(isRouted('subjects/sim-ioredis.ts'), false);
    assert.equal(isRouted('subjects/ambient.tsx'), false);
  });
});
