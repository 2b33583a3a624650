/**
 * `lockstep compare` as a user meets it: bad options refused with exit 2 and nothing written; a
 * campaign that finds unsafe runs exits 0 (finding them is its job) and leaves a run directory
 * whose compare.json holds the contract, whose counterexamples replay unsafe with `lockstep run`,
 * and whose report opens with the campaign.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compareFileSchema } from '../runner/compare-file.ts';
import { tempDir } from './temp.ts';

const BIN = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function lockstep(args: readonly string[], cwd?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    cwd,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('lockstep compare', () => {
  it('refuses bad options with exit 2, one line naming the option, and writes nothing', () => {
    const out = join(tempDir('lockstep-compare-'), 'runs');
    for (const [args, message] of [
      [['--schedules', '0'], /--schedules must be between 1 and 100000, got 0/],
      [['--schedules', '100001'], /--schedules must be between 1 and 100000/],
      [['--systems', 'redis,nosuch'], /--systems: unknown system 'nosuch'/],
      [['--workers', '0'], /--workers must be between 1 and 64/],
      [['--live', '-1'], /--live must be between 0 and/],
      [['--schedules', '3', '--live', '4'], /--live must be between 0 and 3 \(at most --schedules\), got 4/],
      [['--seed', '-2'], /--seed must be >= 0/],
    ] as const) {
      const { code, stderr } = lockstep(['compare', ...args, '--out', out]);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr.trim(), message);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'nothing was written');
    }
  });

  it('runs a campaign, exits 0 with unsafe cells, and writes compare.json, replayable counterexamples and the report', () => {
    const root = tempDir('lockstep-compare-');
    const out = join(root, 'runs');
    const { code, stdout, stderr } = lockstep([
      'compare',
      '--schedules',
      '40',
      '--systems',
      'redis,postgres',
      '--workers',
      '2',
      '--out',
      out,
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /postgres\s+on\s+40\s+0\s+0\s+0%/);
    const dir = join(out, 'latest');
    const file = compareFileSchema.parse(JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')));
    assert.equal(file.schedules.length, 40);
    assert.deepEqual(
      file.cells.map((c) => `${c.system}/${c.fencing}`),
      ['redis/off', 'redis/on', 'postgres/off', 'postgres/on'],
    );
    const unsafe = file.cells.filter((c) => c.unsafe > 0);
    assert.ok(unsafe.length > 0, 'unfenced, some schedule is unsafe');
    for (const cell of file.cells) {
      assert.equal(cell.runs + cell.notApplicable + cell.unknown, 40);
      assert.equal(cell.counterexample === null, cell.unsafe === 0);
    }
    for (const cell of unsafe) {
      const scenario = join(dir, cell.counterexample ?? '');
      const replay = lockstep(['run', scenario, '--seed', String(file.seed), '--out', join(root, 'replays')]);
      assert.equal(
        replay.code,
        0,
        `${cell.system} ${cell.fencing}: the counterexample replays as expected: ${replay.stdout}`,
      );
      assert.match(replay.stdout, /unsafe \(as expected\)/);
    }
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.ok(html.indexOf('id="campaign"') < html.indexOf('id="matrix"'), 'the campaign opens the page');
    assert.match(html, /What to use/);
    assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /## The campaign: 40 fault schedules/);
  });

  it('refuses a subject it cannot compare with exit 2: its system left out, live only, or no subject at all', () => {
    const out = join(tempDir('lockstep-compare-'), 'runs');
    for (const [args, message] of [
      [
        ['--subject', 'node-redlock', '--systems', 'redis'],
        /--subject node-redlock runs on redlock, which --systems leaves out/,
      ],
      [['--subject', 'etcd3-lock', '--systems', 'etcd'], /--subject etcd3-lock: subject etcd3-lock runs only live/],
      [['--subject', 'no-such-lock'], /--subject: 'no-such-lock' is neither a built-in subject/],
    ] as const) {
      const { code, stderr } = lockstep(['compare', '--schedules', '2', ...args, '--out', out]);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr.trim(), message);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
      assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'nothing was written');
    }
  });

  it('gives a subject from a file its own rows, and a counterexample that replays with --subject and the file', () => {
    const root = tempDir('lockstep-compare-');
    const out = join(root, 'runs');
    const subject = 'examples/naive-redis-lock.ts';
    const args = ['compare', '--schedules', '12', '--systems', 'redis', '--subject', subject, '--workers', '2'];
    const { code, stdout, stderr } = lockstep([...args, '--out', out], ROOT);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /1 system\(s\) and 1 subject\(s\)/);
    assert.match(
      stdout,
      /not applicable: naive-redis-lock fencing on, 12 schedule\(s\): subject naive-redis-lock gives no fencing token/,
    );
    const dir = join(out, 'latest');
    const file = compareFileSchema.parse(JSON.parse(readFileSync(join(dir, 'compare.json'), 'utf8')));
    assert.deepEqual(
      file.cells.map((c) => `${c.subject ?? c.system}/${c.fencing}`),
      ['redis/off', 'redis/on', 'naive-redis-lock/off', 'naive-redis-lock/on'],
    );
    const [unfenced, fenced] = file.cells.filter((c) => c.subject === 'naive-redis-lock');
    assert.ok(unfenced !== undefined && fenced !== undefined);
    assert.equal(unfenced.subjectFile, subject);
    assert.equal(fenced.runs, 0);
    assert.equal(fenced.notApplicable, 12);
    assert.ok(unfenced.unsafe > 0, 'seed 1: the naive lock is unsafe in some of the 12 schedules');
    assert.equal(
      unfenced.replay,
      `npx lockstep run counterexamples/naive-redis-lock-fencing-off.yaml --subject ${subject} --seed 1`,
    );
    const replay = lockstep(
      [
        'run',
        join(dir, unfenced.counterexample ?? ''),
        '--subject',
        subject,
        '--seed',
        '1',
        '--out',
        join(root, 'replays'),
      ],
      ROOT,
    );
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
    assert.match(replay.stdout, /naive-redis-lock\s+off\s+1\s+unsafe/);
    assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /naive-redis-lock \(a subject under test\)/);
  });
});
