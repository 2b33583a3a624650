/** The command line as a user meets it: exit codes, messages, and the run directory it leaves. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp.ts';

const BIN = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));

function lockstep(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const scratch = () => tempDir('lockstep-cli-');

/** Each of `cases` (arguments, then the message) exits 2 with that message on one line, no stack trace; nothing lands in `out`. */
function expectUsageErrors(cases: readonly [string[], RegExp][], out: string): void {
  for (const [args, message] of cases) {
    const { code, stderr } = lockstep(...args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.match(stderr.trim(), message);
    assert.equal(stderr.trim().split('\n').length, 1, `one line only: ${stderr}`);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  }
  assert.ok(!existsSync(out) || readdirSync(out).length === 0, 'nothing was written');
}

const SCENARIO = `name: tiny-pause
description: a pause past the lease on a single Redis
systems: [redis]
clients: 2
durationMs: 8000
lock: { ttlMs: 1000, holdMs: 100, thinkMs: 50 }
faults:
  - after: { event: acquired, nth: 2 }
    pause: holder
    forMs: 2500
expect:
  - { system: redis, fencing: off, verdict: unsafe }
  - { system: redis, fencing: on, verdict: safe }
`;

describe('lockstep run', () => {
  it('runs a scenario, meets its expectations, and writes results.json, histories, report.md and runs/latest', () => {
    const dir = scratch();
    const file = join(dir, 'tiny-pause.yaml');
    writeFileSync(file, SCENARIO);
    const out = join(dir, 'runs');
    const { code, stdout } = lockstep('run', file, '--out', out, '--seeds', '2');
    assert.equal(code, 0, stdout);
    assert.match(stdout, /tiny-pause\s+redis\s+off\s+1\s+unsafe\s+unsafe/);
    const latest = join(out, 'latest');
    assert.ok(existsSync(join(latest, 'results.json')));
    assert.ok(!readlinkSync(latest).startsWith('/'), 'runs/latest is a relative link');
    const results = JSON.parse(readFileSync(join(latest, 'results.json'), 'utf8')) as {
      tool: { name: string };
      mode: string;
      runs: object[];
    };
    assert.equal(results.tool.name, 'lockstep');
    assert.equal(results.mode, 'sim');
    assert.equal(results.runs.length, 4);
    for (const run of results.runs) {
      for (const field of [
        'scenario',
        'system',
        'fencing',
        'seed',
        'mode',
        'verdict',
        'skipped',
        'metrics',
        'expected',
        'expectationMet',
        'simulatedMs',
        'wallMs',
        'events',
        'traceHash',
      ]) {
        assert.ok(field in run, `results.json run lacks ${field}`);
      }
    }
    assert.deepEqual(readdirSync(join(latest, 'history')).sort(), [
      'tiny-pause.redis.off.1.jsonl',
      'tiny-pause.redis.off.2.jsonl',
      'tiny-pause.redis.on.1.jsonl',
      'tiny-pause.redis.on.2.jsonl',
    ]);
    const first = JSON.parse(
      readFileSync(join(latest, 'history', 'tiny-pause.redis.off.1.jsonl'), 'utf8').split('\n')[0]!,
    ) as object;
    assert.deepEqual(Object.keys(first).slice(0, 6), ['kind', 'index', 'process', 'type', 'f', 'timeMs']);
    assert.match(
      readFileSync(join(latest, 'report.md'), 'utf8'),
      /npx lockstep run .*tiny-pause\.yaml --systems redis --fencing off --seed 1/,
    );
  });

  it('exits 1 on a failed expectation and prints the command that replays it', () => {
    const dir = scratch();
    const file = join(dir, 'wrong.yaml');
    writeFileSync(
      file,
      SCENARIO.replace('name: tiny-pause', 'name: wrong').replace(
        'fencing: off, verdict: unsafe',
        'fencing: off, verdict: safe',
      ),
    );
    const { code, stdout } = lockstep(
      'run',
      file,
      '--out',
      join(dir, 'runs'),
      '--fencing',
      'off',
      '--check-determinism',
    );
    assert.equal(code, 1);
    assert.match(stdout, /expectation failed: wrong on redis, fencing off: expected safe, got unsafe/);
    assert.match(stdout, /replay: npx lockstep run .*wrong\.yaml --systems redis --fencing off --seed 1/);
    assert.doesNotMatch(stdout, /not deterministic/);
    assert.match(stdout, /^deterministic: 1 run\(s\) replayed identically, event for event$/m);
  });

  it('run --help lists the system ids and the exit codes', () => {
    const { code, stdout } = lockstep('run', '--help');
    assert.equal(code, 0);
    assert.match(stdout, /Systems: redis, redlock, zookeeper, etcd, postgres, mysql, redis-sentinel\./);
    assert.match(
      stdout,
      /Exit codes: 0 every expectation met .* 1 an expectation failed .* 2 bad input or usage, 3 the environment/s,
    );
  });

  it('reports a run that exceeded its event budget as unknown, also under --check-determinism', () => {
    const dir = scratch();
    const file = join(dir, 'spin.yaml');
    writeFileSync(
      file,
      'name: spin\ndescription: a short lease on a near-instant network\nsystems: [redis]\nclients: 5\ndurationMs: 1000\nlock: { ttlMs: 100, holdMs: 0, thinkMs: 0 }\nnetwork: { latencyMs: { min: 0, max: 0.001 } }\n',
    );
    const { code, stdout, stderr } = lockstep(
      'run',
      file,
      '--fencing',
      'off',
      '--check-determinism',
      '--out',
      join(dir, 'runs'),
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /spin\s+redis\s+off\s+1\s+unknown/);
  });

  it('exits 2 with one message naming the option or field, and writes nothing', () => {
    const dir = scratch();
    const out = join(dir, 'runs');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: bad\ndescription: x\ndurationMs: 100\nfaults:\n  - { at: 1, pause: everybody }\n');
    const good = join(dir, 'tiny-pause.yaml');
    writeFileSync(good, SCENARIO);
    const renamed = join(dir, 'copy.yaml');
    writeFileSync(renamed, SCENARIO);
    const cases: [string[], RegExp][] = [
      [['run', '--systems', 'memcached', '--out', out], /^lockstep: --systems: unknown system 'memcached'/],
      [
        ['run', '--fencing', 'sometimes', '--out', out],
        /^lockstep: --fencing must be off, on or both, got 'sometimes'/,
      ],
      [['run', '--seeds', '0', '--out', out], /^lockstep: --seeds must be between 1 and 10000, got 0$/],
      [['run', '--seed', 'x', '--out', out], /--seed must be an integer, got 'x'/],
      [['run', bad, '--out', out], /^lockstep: .*bad\.yaml: faults\[0\]\.pause: expected a selector/],
      [['run', join(dir, 'missing.yaml'), '--out', out], /missing\.yaml: no such file or directory/],
      [
        ['run', renamed, '--out', out],
        /^lockstep: .*copy\.yaml: name: 'tiny-pause' differs from the file's name, 'copy'/,
      ],
      [['run', good, '--out', '/proc/version/runs'], /--out: '\/proc\/version' exists and is not a directory/],
    ];
    expectUsageErrors(cases, out);
  });
});

describe('lockstep live', () => {
  it('exits 2 naming the option, file or field for bad provider settings, and writes nothing', () => {
    const dir = scratch();
    const out = join(dir, 'runs');
    const good = join(dir, 'tiny-pause.yaml');
    writeFileSync(good, SCENARIO);
    const badConfig = join(dir, 'endpoints.yaml');
    writeFileSync(badConfig, 'toxiproxy: http://127.0.0.1:8474\nredis: [localhost]\n');
    const notYaml = join(dir, 'broken.yaml');
    writeFileSync(notYaml, 'toxiproxy: [\n');
    const cases: [string[], RegExp][] = [
      [
        ['live', good, '--provider', 'cloud', '--out', out],
        /^lockstep: --provider must be local, compose or external, got 'cloud'/,
      ],
      [['live', good, '--provider', 'external', '--out', out], /^lockstep: --provider external needs --config FILE/],
      [['live', good, '--config', badConfig, '--out', out], /^lockstep: --config is for --provider external/],
      [
        ['live', good, '--provider', 'external', '--config', join(dir, 'none.yaml'), '--out', out],
        /none\.yaml: cannot read the endpoints file \(ENOENT\)/,
      ],
      [
        ['live', good, '--provider', 'external', '--config', badConfig, '--out', out],
        /endpoints\.yaml: redis\.0: expected host:port/,
      ],
      [['live', good, '--provider', 'external', '--config', notYaml, '--out', out], /broken\.yaml: not YAML or JSON/],
      [
        ['live', good, '--subjects', 'zookeeper-curator', '--out', out],
        /^lockstep: --subject: 'zookeeper-curator' is neither a built-in subject \(node-redlock, .*etcd3-lock\) nor a \.ts/,
      ],
      [['live', good, '--postgres', 'not a url', '--out', out], /^lockstep: --postgres must be a URL/],
      [
        ['live', good, '--mysql', 'postgres://x@127.0.0.1/db', '--out', out],
        /^lockstep: --mysql must be a mysql:\/\/ URL/,
      ],
      [['live', good, '--fencing', 'maybe', '--out', out], /^lockstep: --fencing must be off, on or both/],
      [['live', good, '--parallel', '0', '--out', out], /^lockstep: --parallel must be between 1 and 16, got 0/],
    ];
    expectUsageErrors(cases, out);
  });

  it("exits 3 naming Toxiproxy when an external cluster's Toxiproxy does not answer", () => {
    const dir = scratch();
    const good = join(dir, 'tiny-pause.yaml');
    writeFileSync(good, SCENARIO);
    const config = join(dir, 'endpoints.yaml');
    writeFileSync(config, 'toxiproxy: http://127.0.0.1:9\nredis: [127.0.0.1:9]\n');
    const { code, stderr } = lockstep(
      'live',
      good,
      '--systems',
      'redis',
      '--provider',
      'external',
      '--config',
      config,
      '--out',
      join(dir, 'runs'),
    );
    assert.equal(code, 3, stderr);
    assert.match(stderr, /toxiproxy: no answer from its API at http:\/\/127\.0\.0\.1:9/);
    assert.ok(!existsSync(join(dir, 'runs')) || readdirSync(join(dir, 'runs')).length === 0);
  });
});

describe('lockstep check', () => {
  it('prints its seed and options first, writes the counterexample under --out named after system, fencing and seed, never over an earlier one, prints the replay command, exits 1', () => {
    const dir = scratch();
    const out = join(dir, 'runs');
    const check = () => lockstep('check', '--system', 'redlock', '--runs', '100', '--seed', '1', '--out', out);
    const { code, stdout } = check();
    assert.equal(code, 1, stdout);
    assert.match(stdout.split('\n')[0]!, /^lockstep check: system=redlock fencing=off seed=1 runs=100 workers=1/);
    const file = /^counterexample: (.*)$/m.exec(stdout)?.[1];
    assert.ok(file !== undefined, stdout);
    assert.match(file, /runs\/[^/]+\/counterexample-redlock-fencing-off-seed-1\.yaml$/);
    assert.ok(stdout.includes(`replay: npx lockstep run ${file} --seed 1`), stdout);
    const search = JSON.parse(readFileSync(join(out, 'latest', 'check.json'), 'utf8')) as {
      counterexample: { file: string; traceHash: string } | null;
    };
    assert.equal(search.counterexample?.file, 'counterexample-redlock-fencing-off-seed-1.yaml');
    const again = check();
    assert.equal(again.code, 1);
    const second = /^counterexample: (.*)$/m.exec(again.stdout)?.[1];
    assert.ok(second !== undefined && second !== file, 'a second check writes a file of its own');
    assert.ok(existsSync(file), 'and the first stays');
    const replay = lockstep('run', file, '--seed', '1', '--out', join(dir, 'replays'));
    assert.equal(replay.code, 0, replay.stdout);
    assert.match(replay.stdout, /counterexample-redlock-fencing-off-seed-1\s+redlock\s+off\s+1\s+unsafe\s+unsafe/);
  });

  it('exits 2 naming the option for an unknown system, meaningless fencing, --runs 0 and an unwritable --out', () => {
    const cases: [string[], RegExp][] = [
      [['check', '--system', 'memcached'], /--system: unknown system 'memcached'/],
      [['check'], /--system or --subject is required/],
      [
        ['check', '--system', 'redlock', '--fencing', 'on'],
        /--fencing on is meaningless for redlock: it has no sound fencing token/,
      ],
      [['check', '--system', 'redis', '--runs', '0'], /--runs must be between 1 and 1000000, got 0/],
      [['check', '--system', 'redis', '--workers', '0'], /--workers must be between 1 and 64, got 0/],
      [
        ['check', '--system', 'redis', '--out', '/proc/version/x'],
        /--out: '\/proc\/version' exists and is not a directory/,
      ],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = lockstep(...args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, message);
      assert.equal(stderr.trim().split('\n').length, 1);
    }
  });
});

describe('--subject', () => {
  const EXAMPLE = fileURLToPath(new URL('../examples/naive-redis-lock.ts', import.meta.url));
  const fixture = (name: string) => fileURLToPath(new URL(`../subjects/fixtures/${name}`, import.meta.url));

  it('run: a subject file runs beside its system, in its own row, and the replay names it', () => {
    const dir = scratch();
    const file = join(dir, 'tiny-pause.yaml');
    writeFileSync(file, SCENARIO);
    const out = join(dir, 'runs');
    const { code, stdout } = lockstep('run', file, '--subject', EXAMPLE, '--fencing', 'off', '--out', out);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /tiny-pause\s+naive-redis-lock\s+off\s+1\s+unsafe\s+-/);
    const results = JSON.parse(readFileSync(join(out, 'latest', 'results.json'), 'utf8')) as {
      runs: { subject?: string | null; subjectFile?: string | null; system: string }[];
    };
    const run = results.runs.find((r) => r.subject === 'naive-redis-lock');
    assert.equal(run?.system, 'redis');
    assert.equal(run.subjectFile, EXAMPLE);
    assert.match(readFileSync(join(out, 'latest', 'report.md'), 'utf8'), new RegExp(`--subject ${EXAMPLE}`));
  });

  it('run: a rejection nobody handles in subject code ends that run unknown, saying why', () => {
    const dir = scratch();
    const out = join(dir, 'runs');
    const { code, stdout } = lockstep(
      'run',
      fileURLToPath(new URL('../scenarios/no-faults.yaml', import.meta.url)),
      '--systems',
      'redis',
      '--fencing',
      'off',
      '--subject',
      fixture('unhandled-rejection.ts'),
      '--out',
      out,
    );
    assert.equal(code, 0, stdout);
    const results = JSON.parse(readFileSync(join(out, 'latest', 'results.json'), 'utf8')) as {
      runs: { subject?: string | null; verdict: string; notes: string[] }[];
    };
    const run = results.runs.find((r) => r.subject === 'unhandled-rejection');
    assert.equal(run?.verdict, 'unknown');
    assert.deepEqual(run.notes, ['subject code left a promise rejected with no handler: nobody handles this']);
  });

  it('exits 2 naming the subject for a missing file, a file that is not a subject, and a mismatched --system', () => {
    const out = join(scratch(), 'never');
    expectUsageErrors(
      [
        [['run', '--subject', 'no-such-lock.ts', '--out', out], /^lockstep: --subject: no such file: no-such-lock.ts$/],
        [['run', '--subject', 'redlock-v5', '--out', out], /neither a built-in subject \(node-redlock, /],
        [['check', '--subject', fixture('not-a-subject.ts'), '--out', out], /the default export must be defineSubject/],
        [
          ['check', '--subject', 'node-redlock', '--system', 'redis', '--out', out],
          /runs on redlock, not on --system redis/,
        ],
        [['check', '--subject', 'node-redlock', '--fencing', 'on', '--out', out], /gives no fencing token/],
        [['check', '--differential', '--system', 'redis', '--out', out], /--differential .* needs --subject/],
      ],
      out,
    );
  });
});

describe('lockstep report', () => {
  it('exits 2 naming a directory without results.json, and creates nothing', () => {
    const missing = join(scratch(), 'not-a-run');
    const { code, stderr } = lockstep('report', missing);
    assert.equal(code, 2);
    assert.match(stderr, /not-a-run: no results\.json \(expected a run directory/);
    assert.ok(!existsSync(missing));
  });
});
