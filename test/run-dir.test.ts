/**
 * The run directory under hostile or careless use: an `--out` whose `latest` is not lockstep's
 * link, an `--out` that cannot be created, a command killed mid-run, and a command line holding a
 * password. Each is refused before any run, or leaves nothing behind that the next command does
 * not clean up.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { prepareOutDir, RunDirWriter } from '../runner/run-dir.ts';
import { redactCommandLine, redactSecrets, redactUrl } from '../runner/redact.ts';
import { tempDir } from './temp.ts';

const BIN = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));

function lockstep(...args: string[]) {
  // A bound on the wait: the /proc case used to spin for ever; a hang fails instead of blocking the suite.
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const SCENARIO = `name: short-pause
description: a pause past the lease on a single Redis
systems: [redis]
clients: 2
durationMs: 4000
lock: { ttlMs: 1000, holdMs: 100, thinkMs: 50 }
faults:
  - after: { event: acquired, nth: 2 }
    pause: holder
    forMs: 2500
`;

function scenarioFile(dir: string): string {
  const file = join(dir, 'short-pause.yaml');
  writeFileSync(file, SCENARIO);
  return file;
}

function assertUsageError(result: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr.trim(), message);
  assert.equal(result.stderr.trim().split('\n').length, 1, `one line only: ${result.stderr}`);
}

describe('--out is checked before any run', () => {
  it('refuses a directory named latest and leaves it as it was', () => {
    const dir = tempDir('lockstep-rundir-');
    const out = join(dir, 'runs');
    mkdirSync(join(out, 'latest'), { recursive: true });
    writeFileSync(join(out, 'latest', 'mine.txt'), 'keep me');
    assertUsageError(
      lockstep('run', scenarioFile(dir), '--out', out),
      /--out: '.*latest' is a directory, not lockstep's link/,
    );
    assert.deepEqual(readdirSync(out), ['latest'], 'no run directory was written');
    assert.equal(readFileSync(join(out, 'latest', 'mine.txt'), 'utf8'), 'keep me');
  });

  it('refuses a file named latest instead of deleting it', () => {
    const dir = tempDir('lockstep-rundir-');
    const out = join(dir, 'runs');
    mkdirSync(out);
    writeFileSync(join(out, 'latest'), 'notes');
    assertUsageError(lockstep('run', scenarioFile(dir), '--out', out), /--out: '.*latest' is a file/);
    assert.equal(readFileSync(join(out, 'latest'), 'utf8'), 'notes');
    assert.deepEqual(readdirSync(out), ['latest']);
  });

  it('refuses an --out it cannot create, at once, instead of looping in mkdir', () => {
    assertUsageError(
      lockstep('run', scenarioFile(tempDir('lockstep-rundir-')), '--out', '/proc/1/x'),
      /--out: cannot create '\/proc\/1\/x': no such file or directory \(ENOENT\)$/,
    );
    assertUsageError(
      lockstep('check', '--system', 'redis', '--runs', '1', '--out', '/proc/1/x/y'),
      /--out: cannot create '\/proc\/1\/x'/,
    );
  });

  it('says why in words, the error code after them', () => {
    const dir = tempDir('lockstep-rundir-');
    const scenario = scenarioFile(dir);
    assertUsageError(
      lockstep('run', scenario, '--out', join(dir, 'n'.repeat(300))),
      /--out: cannot create '.*n{300}': the name is too long \(ENAMETOOLONG\)$/,
    );
    // sysfs refuses a new directory: not permitted here, read-only or denied elsewhere; never the bare code.
    assertUsageError(
      lockstep('run', scenario, '--out', '/sys/lockstep-runs'),
      /--out: cannot create '\/sys\/lockstep-runs': (the operation is not permitted \(EPERM\)|the file system is read-only \(EROFS\)|permission denied \(EACCES\))$/,
    );
  });

  it('refuses an --out that is a link to nothing, saying so rather than EEXIST', () => {
    const dir = tempDir('lockstep-rundir-');
    symlinkSync(join(dir, 'nowhere'), join(dir, 'runs'));
    assertUsageError(
      lockstep('run', scenarioFile(dir), '--out', join(dir, 'runs')),
      /--out: '.*runs' is a symbolic link whose target does not exist \(or is a loop of links\)$/,
    );
    assert.ok(!existsSync(join(dir, 'nowhere')), 'nothing was created behind the link');
  });

  it('refuses an --out whose parent is a file', () => {
    const dir = tempDir('lockstep-rundir-');
    writeFileSync(join(dir, 'file'), '');
    assertUsageError(
      lockstep('run', scenarioFile(dir), '--out', join(dir, 'file', 'runs')),
      /--out: '.*file' exists and is not a directory/,
    );
  });
});

describe('a command killed mid-run', () => {
  it('leaves no latest pointing at an unfinished directory, and the next command removes its .partial', async () => {
    const dir = tempDir('lockstep-rundir-');
    const out = join(dir, 'runs');
    // Many seeds, so the command is still running when its first runs are on disk.
    const child = spawn(process.execPath, [BIN, 'run', scenarioFile(dir), '--seeds', '400', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        printed += chunk.toString();
        if ((printed.match(/seed=\d+: /g) ?? []).length >= 3) resolve();
      });
      child.on('exit', () => reject(new Error(`lockstep run ended before it could be killed: ${printed}`)));
    });
    const partial = readdirSync(out).find((name) => name.endsWith('.partial'));
    assert.ok(partial !== undefined, `a .partial directory while runs are written: ${readdirSync(out).join(', ')}`);
    assert.ok(readdirSync(join(out, partial, 'history')).length >= 1, 'finished runs are on disk already');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(join(out, 'latest')), 'latest points at nothing unfinished');

    const next = lockstep('run', scenarioFile(dir), '--out', out);
    assert.equal(next.code, 0, next.stderr);
    const left = readdirSync(out);
    assert.ok(
      !left.some((name) => name.endsWith('.partial')),
      `the killed command's .partial was removed: ${left.join(', ')}`,
    );
    const latest = join(out, readlinkSync(join(out, 'latest')));
    assert.ok(
      existsSync(join(latest, 'index.html')) && existsSync(join(latest, 'results.json')),
      'latest has its report',
    );
  });

  it("keeps another live command's .partial directory", () => {
    const out = tempDir('lockstep-rundir-');
    // This test process is alive, so a directory it is writing must survive another command's start.
    const writer = RunDirWriter.open(out, 'still-writing', {
      tool: { name: 'lockstep', version: 'test' },
      mode: 'sim',
      createdAt: 'now',
      command: 'test',
    });
    prepareOutDir(out);
    assert.ok(existsSync(join(out, 'still-writing.partial')));
    writer.abandon();
    assert.ok(!existsSync(join(out, 'still-writing.partial')));
  });

  it('writes results.json exactly as one JSON document, whatever the number of runs', () => {
    const out = tempDir('lockstep-rundir-');
    for (const count of [0, 1, 3]) {
      const writer = RunDirWriter.open(out, `n${count}`, {
        tool: { name: 'lockstep', version: 'test' },
        mode: 'sim',
        createdAt: 'now',
        command: 'lockstep run "quoted" []',
      });
      const runs = Array.from(
        { length: count },
        (_, i) =>
          ({
            scenario: 's',
            system: 'redis',
            fencing: false,
            seed: i,
            mode: 'sim',
            verdict: 'skipped',
            skipped: 'why',
            metrics: null,
            expected: null,
            expectationMet: null,
            fencingSound: true,
            simulatedMs: 0,
            events: 0,
            traceHash: null,
            notes: [],
            wallMs: 1,
            file: 'f.yaml',
          }) as const,
      );
      for (const run of runs) writer.add({ run, history: [], writes: [] });
      const text = readFileSync(join(writer.finish(), 'results.json'), 'utf8');
      const parsed = JSON.parse(text) as { runs: unknown[]; command: string };
      assert.equal(text, `${JSON.stringify(parsed, null, 2)}\n`, 'the same bytes as one JSON.stringify');
      assert.deepEqual(parsed.runs, runs);
      assert.equal(parsed.command, 'lockstep run "quoted" []');
    }
  });
});

describe('secrets', () => {
  it('redacts the password of every URL in a command line, whatever it holds', () => {
    const line = redactCommandLine([
      'lockstep',
      'live',
      '--postgres',
      'postgres://user:p@ss w:rd@db:5432/x',
      '--mysql=mysql://root:hunter2@127.0.0.1/db',
      'postgres://nopass@db/x',
    ]);
    assert.equal(
      line,
      'lockstep live --postgres postgres://user:***@db:5432/x --mysql=mysql://root:***@127.0.0.1/db postgres://nopass@db/x',
    );
    assert.doesNotMatch(line, /p@ss|hunter2/);
  });

  it('redacts passwords inside driver messages and URLs', () => {
    assert.equal(
      redactSecrets('connect to postgres://a:b@h:1/d failed; password=xyz'),
      'connect to postgres://a:***@h:1/d failed; password=***',
    );
    assert.equal(redactUrl('mysql://root:secret@127.0.0.1:3306/lockstep'), 'mysql://root:***@127.0.0.1:3306/lockstep');
    assert.equal(redactUrl('mysql://root@127.0.0.1:3306/lockstep'), 'mysql://root@127.0.0.1:3306/lockstep');
  });
});
