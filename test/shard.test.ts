/**
 * Shards and their merge, as CI runs them: each shard a process of its own, the merge a command,
 * and the merged directory the same, row for row, as one unsharded command's.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { inShard, parseShard, shareOf, shareSize, withoutShard } from '../runner/shard.ts';
import { UsageError } from '../runner/errors.ts';
import { tempDir } from './temp.ts';

const BIN = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));

/** One lockstep command as a process of its own; resolves when it exits. */
function lockstep(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const json = (path: string): Record<string, unknown> =>
  JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** A row without what differs between any two runs of it: its wall time, and the path its file was written to. */
function comparable(run: Record<string, unknown>, path = false): string {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- wall time is the machine's, not the run's
  const { wallMs: _, file, ...rest } = run;
  return JSON.stringify(path ? rest : { ...rest, file });
}

/** Run `args` whole, and as `n` shards at once; merge the shards. Returns the two run directories. */
async function wholeAndMerged(args: readonly string[], n: number): Promise<{ whole: string; merged: string }> {
  const dir = tempDir('lockstep-shard-');
  const [whole, ...runs] = await Promise.all([
    lockstep(...args, '--out', join(dir, 'whole')),
    ...Array.from({ length: n }, (_, i) =>
      lockstep(...args, '--shard', `${i + 1}/${n}`, '--out', join(dir, `s${i + 1}`)),
    ),
  ]);
  for (const run of [whole, ...runs]) assert.ok(run.code === 0 || run.code === 1, run.stderr);
  const shards = Array.from({ length: n }, (_, i) => join(dir, `s${i + 1}`));
  const merge = await lockstep('merge', ...shards, '--out', join(dir, 'merged'));
  assert.equal(merge.code, whole.code, `merge exits as the whole command did: ${merge.stdout}${merge.stderr}`);
  return { whole: join(dir, 'whole', 'latest'), merged: join(dir, 'merged', 'latest') };
}

describe('--shard I/N', () => {
  it('deals every unit to exactly one shard, and shareSize counts each share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 20 }), (planned, count) => {
        const items = Array.from({ length: planned }, (_, i) => i);
        const shares = Array.from({ length: count }, (_, i) => shareOf(items, { index: i + 1, count }));
        assert.deepEqual(
          shares.flat().sort((a, b) => a - b),
          items,
        );
        shares.forEach((share, i) => assert.equal(share.length, shareSize(planned, { index: i + 1, count })));
        assert.ok(items.every((p) => inShard(p, null)));
      }),
    );
  });

  it('parses I/N and refuses anything else, naming the option and what was expected', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    for (const [raw, message] of [
      ['0/4', /I must be between 1 and N \(4\), got 0/],
      ['5/4', /I must be between 1 and N \(4\), got 5/],
      ['1/0', /N must be between 1 and 1000, got 0/],
      ['1/1001', /N must be between 1 and 1000/],
      ['two/4', /--shard must be I\/N/],
      ['1/4/2', /--shard must be I\/N/],
      ['', /--shard must be I\/N/],
    ] as const)
      assert.throws(
        () => parseShard(raw),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
  });

  it('takes its --shard out of the command line a merged directory records', () => {
    assert.equal(withoutShard('lockstep run --seeds 4 --shard 2/4 --out x'), 'lockstep run --seeds 4 --out x');
    assert.equal(withoutShard('lockstep run --shard=2/4'), 'lockstep run');
  });
});

describe('lockstep merge', () => {
  it("joins four shards of the library's runs (seeds 1 to 4), run as four processes, into the rows and trace hashes of one run", async () => {
    const { whole, merged } = await wholeAndMerged(['run', '--seed', '1', '--seeds', '4'], 4);
    const a = json(join(whole, 'results.json'));
    const b = json(join(merged, 'results.json'));
    const rows = (r: Record<string, unknown>) => (r.runs as Record<string, unknown>[]).map((run) => comparable(run));
    assert.ok(rows(a).length > 600, `${rows(a).length} runs`);
    assert.deepEqual(rows(b), rows(a));
    assert.deepEqual(b.references, a.references);
    assert.equal(b.shard, undefined, 'a merged directory is not a shard');
    assert.deepEqual(readdirSync(join(merged, 'history')).sort(), readdirSync(join(whole, 'history')).sort());
    for (const name of readdirSync(join(whole, 'history')).slice(0, 50))
      assert.equal(
        readFileSync(join(merged, 'history', name), 'utf8'),
        readFileSync(join(whole, 'history', name), 'utf8'),
      );
    assert.ok(existsSync(join(merged, 'index.html')), 'the merge writes the report');
  });

  it('joins three shards of a compare campaign into the same cells, speed and counterexamples', async () => {
    const { whole, merged } = await wholeAndMerged(
      ['compare', '--schedules', '24', '--workers', '1', '--seed', '2'],
      3,
    );
    const a = json(join(whole, 'compare.json'));
    const b = json(join(merged, 'compare.json'));
    assert.deepEqual({ ...b, command: null }, { ...a, command: null });
    const files = readdirSync(join(whole, 'counterexamples')).sort();
    assert.ok(files.length > 0, 'the campaign found counterexamples to compare');
    assert.deepEqual(readdirSync(join(merged, 'counterexamples')).sort(), files);
    for (const name of files)
      assert.equal(
        readFileSync(join(merged, 'counterexamples', name), 'utf8'),
        readFileSync(join(whole, 'counterexamples', name), 'utf8'),
      );
  });

  it("joins three shards of a check search into the unsharded answer: the lowest candidate's counterexample, shrunk the same", async () => {
    const { whole, merged } = await wholeAndMerged(['check', '--system', 'redis', '--runs', '60', '--seed', '3'], 3);
    const a = json(join(whole, 'check.json'));
    const b = json(join(merged, 'check.json'));
    const answer = (c: Record<string, unknown>) => {
      const found = c.counterexample as Record<string, unknown> | null;
      return { ...c, command: null, counterexample: found === null ? null : { ...found, replay: null } };
    };
    assert.ok(a.counterexample !== null, 'the search found a counterexample');
    assert.deepEqual(answer(b), answer(a));
    const row = (dir: string) =>
      comparable((json(join(dir, 'results.json')).runs as Record<string, unknown>[])[0]!, true);
    assert.equal(row(merged), row(whole));
    const file = (a.counterexample as { file: string }).file;
    assert.equal(readFileSync(join(merged, file), 'utf8'), readFileSync(join(whole, file), 'utf8'));
  });

  it('refuses shards that are missing, given twice, cut from other work or by another version, or not shards, naming them, and writes nothing', async () => {
    const dir = tempDir('lockstep-shard-');
    const run = (out: string, ...more: string[]) =>
      lockstep(
        'run',
        'scenarios/no-faults.yaml',
        '--systems',
        'redis',
        '--seeds',
        '3',
        ...more,
        '--out',
        join(dir, out),
      );
    await Promise.all([
      run('a1', '--shard', '1/2'),
      run('a2', '--shard', '2/2'),
      run('whole'),
      lockstep(
        'run',
        'scenarios/no-faults.yaml',
        '--systems',
        'redis',
        '--seeds',
        '4',
        '--shard',
        '2/2',
        '--out',
        join(dir, 'b2'),
      ),
    ]);
    cpSync(join(dir, 'a2'), join(dir, 'v2'), { recursive: true, dereference: true });
    const results = join(dir, 'v2', 'latest', 'results.json');
    writeFileSync(results, readFileSync(results, 'utf8').replace(/"version": "[^"]+"/, '"version": "9.9.9"'));
    const cases: [string[], RegExp][] = [
      [['a1'], /shard 2\/2 missing \(given: 1\/2\)/],
      [['a1', 'a1', 'a2'], /a1\/latest and .*a1\/latest are both shard 1\/2/],
      [['a1', 'b2'], /were cut from different work/],
      [['a1', 'v2'], /was written by lockstep 9\.9\.9/],
      [['a1', 'whole'], /whole is not a shard \(it was written without --shard\)/],
      [['a1', 'nowhere'], /nowhere holds no results\.json/],
    ];
    for (const [dirs, message] of cases) {
      const { code, stderr } = await lockstep('merge', ...dirs.map((d) => join(dir, d)), '--out', join(dir, 'merged'));
      assert.equal(code, 2, `${dirs.join(' ')}: ${stderr}`);
      assert.match(stderr, message);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
    }
    assert.ok(!existsSync(join(dir, 'merged')), 'nothing was written');
  });

  it('reads a shard as hostile: a counterexample file named outside it is refused, and a history file that is a link is not followed', async () => {
    const dir = tempDir('lockstep-shard-');
    const check = await lockstep(
      'check',
      '--system',
      'redlock',
      '--runs',
      '20',
      '--shard',
      '1/1',
      '--out',
      join(dir, 'c'),
    );
    assert.equal(check.code, 1, check.stdout);
    const file = join(dir, 'c', 'latest', 'check.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/"file": "[^"]+"/, '"file": "../../../etc/passwd"'));
    const refused = await lockstep('merge', join(dir, 'c'), '--out', join(dir, 'm1'));
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      /names a counterexample file '\.\.\/\.\.\/\.\.\/etc\/passwd' that is not one lockstep wrote there/,
    );

    const run = await lockstep(
      'run',
      'scenarios/no-faults.yaml',
      '--systems',
      'redis',
      '--fencing',
      'off',
      '--shard',
      '1/1',
      '--out',
      join(dir, 'r'),
    );
    assert.equal(run.code, 0, run.stderr);
    const history = join(dir, 'r', 'latest', 'history', 'no-faults.redis.off.1.jsonl');
    rmSync(history);
    symlinkSync('/etc/hostname', history);
    const merged = await lockstep('merge', join(dir, 'r'), '--out', join(dir, 'm2'));
    assert.equal(merged.code, 0, merged.stderr);
    assert.ok(
      !existsSync(join(dir, 'm2', 'latest', 'history', 'no-faults.redis.off.1.jsonl')),
      'the link was not followed',
    );
  });
});
