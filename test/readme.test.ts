/**
 * The README's example outputs are what the commands print today: each is run and compared line by
 * line, with only what differs between any two runs of it (the time in a run directory's name)
 * set aside.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp.ts';

const BIN = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The fenced block of the README that starts with `$ <command>`: the command and what it prints. */
function example(command: string): string[] {
  const block = README.split('```').find((b) => b.startsWith(`\n$ ${command}\n`));
  assert.ok(block !== undefined, `README.md has no example of ${command}`);
  return block.trim().split('\n').slice(1);
}

/** A run directory's time stamp, the one thing two runs of a command print differently. */
const normalised = (lines: readonly string[]) =>
  lines.map((line) => line.replace(/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z/g, '<time>'));

describe('README examples', () => {
  it('check --system redlock --seed 1 prints what the README shows', () => {
    const shown = example('npx lockstep check --system redlock --seed 1');
    const result = spawnSync(process.execPath, [BIN, 'check', '--system', 'redlock', '--seed', '1'], {
      cwd: tempDir('lockstep-readme-'),
      encoding: 'utf8',
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    assert.equal(result.status, 1, result.stderr);
    assert.deepEqual(normalised(result.stdout.trim().split('\n')), normalised(shown));
  });
});
