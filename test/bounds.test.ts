/**
 * Unbounded inputs, refused at the door: every limit is checked before any work starts, and a
 * breach exits 2 with one line naming the file and field, or the option, and what was expected.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp.ts';

const BIN = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));

/** Run the CLI; a command that hangs is killed after `timeout` ms, which then shows as a signal, not exit 2. */
function lockstep(args: readonly string[], timeout = 60_000) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: result.status, signal: result.signal, stderr: result.stderr };
}

/** `args` exits 2 with one line matching `message`, and leaves nothing in `out`. */
function refused(args: readonly string[], message: RegExp, out: string): void {
  const { code, signal, stderr } = lockstep([...args, '--out', out]);
  assert.equal(signal, null, `${args.join(' ')} did not finish`);
  assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
  assert.match(stderr.trim(), message);
  assert.equal(stderr.trim().split('\n').length, 1, `one line only: ${stderr}`);
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'nothing was written');
}

function scenarioFile(dir: string, name: string, body: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ndescription: a bound under test\nsystems: [redis]\ndurationMs: 1000\n${body}`);
  return file;
}

describe('lockstep run refuses what it could not finish', () => {
  it('refuses a character device and a FIFO as scenarios without reading them', () => {
    const dir = tempDir('lockstep-bounds-');
    const out = join(dir, 'runs');
    refused(['run', '/dev/zero'], /^lockstep: \/dev\/zero: not a regular file \(a character device\)/, out);
    const fifo = join(dir, 'pipe.yaml');
    const made = spawnSync('mkfifo', [fifo]);
    assert.equal(made.status, 0, `mkfifo: ${String(made.stderr)}`);
    refused(['run', fifo], /pipe\.yaml: not a regular file \(a FIFO\)/, out);
  });

  it('refuses a scenario file over the size limit by its size', () => {
    const dir = tempDir('lockstep-bounds-');
    const file = scenarioFile(dir, 'big', `# ${'x'.repeat(1_000_001)}\n`);
    refused(['run', file], /big\.yaml: file is larger than 1000000 bytes/, join(dir, 'runs'));
  });

  it('refuses 50,000 partition groups, a lease of 1e12 ms, a 300-character name and a 5 ms lease, naming the field', () => {
    const dir = tempDir('lockstep-bounds-');
    const out = join(dir, 'runs');
    const groups = Array.from({ length: 50_000 }, (_, i) => `[c${(i % 3) + 1}]`).join(', ');
    refused(
      ['run', scenarioFile(dir, 'groups', `clients: 3\nfaults:\n  - { at: 1, partition: { groups: [${groups}] } }\n`)],
      /groups\.yaml: faults\[0\]\.partition\.groups: groups takes at most 16 groups/,
      out,
    );
    refused(
      ['run', scenarioFile(dir, 'long-lease', 'lock: { ttlMs: 1e12 }\n')],
      /long-lease\.yaml: lock\.ttlMs: ttlMs must be <= 600000/,
      out,
    );
    refused(
      ['run', scenarioFile(dir, 'short-lease', 'lock: { ttlMs: 5 }\n')],
      /short-lease\.yaml: lock\.ttlMs: ttlMs must be >= 100: .*RedLock/,
      out,
    );
    const longName = join(dir, 'long-name.yaml');
    writeFileSync(longName, `name: ${'n'.repeat(300)}\ndescription: d\ndurationMs: 1000\n`);
    refused(['run', longName], /long-name\.yaml: name: name must be at most 64 characters/, out);
  });

  it('refuses --seeds past its bound, a last seed past the safe integers, and a plan of too many runs', () => {
    const out = join(tempDir('lockstep-bounds-'), 'runs');
    refused(['run', '--seeds', '1e9'], /--seeds must be an integer, got '1e9'/, out);
    refused(['run', '--seeds', '1000000000'], /^lockstep: --seeds must be between 1 and 10000, got 1000000000$/, out);
    refused(['run', '--seeds', '10001'], /^lockstep: --seeds must be between 1 and 10000, got 10001$/, out);
    refused(
      ['run', '--seed', '9007199254740991', '--seeds', '2'],
      /^lockstep: --seed 9007199254740991 with --seeds 2: the last seed must be at most 9007199254740991$/,
      out,
    );
    refused(['run', '--seeds', '10000'], /^lockstep: --seeds 10000: \d+ runs planned .*; at most 20000$/, out);
  });
});

describe('lockstep check refuses what it could not finish', () => {
  it('refuses --runs past a million before drawing a single candidate', () => {
    const out = join(tempDir('lockstep-bounds-'), 'check');
    refused(
      ['check', '--system', 'redlock', '--runs', '100000000'],
      /^lockstep: --runs must be between 1 and 1000000, got 100000000$/,
      out,
    );
  });
});
