/**
 * `npm test` ends by saying what it skipped and how to run the live tier: its test step
 * (scripts/test.ts) streams the runner's output, passes on its exit code, and then prints the footer
 * of scripts/skip-footer.ts. Checked here on small test files of its own, run by a nested runner.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LIVE_HOW_TO } from '../live/gate.ts';
import { skipFooter, type SkippedTest } from '../scripts/skip-footer.ts';
import { tempDir } from './temp.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TEST_SCRIPT = join(ROOT, 'scripts', 'test.ts');
const HOW_TO = `# *** live tier SKIPPED: ${LIVE_HOW_TO} ***`;

const FIXTURES = {
  'gated.live.test.ts': `import { describe, it } from 'node:test';
describe('a live suite', { skip: 'LIVE is not set' }, () => {
  it('talks to a server', () => undefined);
});
`,
  'plain.test.ts': `import { it } from 'node:test';
it('passes', () => undefined);
it('needs a browser', { skip: 'chromium is missing' }, () => undefined);
`,
  'failing.test.ts': `import { it } from 'node:test';
it('fails', () => {
  throw new Error('boom');
});
`,
};

/** scripts/test.ts over the named fixtures, with LIVE as given, as `npm test` runs it. */
function npmTestStep(fixtures: (keyof typeof FIXTURES)[], live: string | undefined) {
  const dir = tempDir('lockstep-npm-test-');
  const files = fixtures.map((name) => {
    writeFileSync(join(dir, name), FIXTURES[name]);
    return join(dir, name);
  });
  // NODE_TEST_CONTEXT would make the nested runner report to this one instead of printing.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.LIVE;
  const result = spawnSync(process.execPath, ['--import', 'tsx', TEST_SCRIPT, ...files], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: live === undefined ? env : { ...env, LIVE: live },
  });
  return { code: result.status, lines: result.stdout.trimEnd().split('\n'), stderr: result.stderr };
}

describe('the end of npm test', () => {
  it('lists every skipped test and suite by reason, live last, and ends with how to run the live tier', () => {
    const { code, lines, stderr } = npmTestStep(['plain.test.ts', 'gated.live.test.ts'], undefined);
    assert.equal(code, 0, stderr);
    assert.ok(lines.includes('# skipped 1'), "node's own summary is printed unchanged before the footer");
    assert.deepEqual(lines.slice(-6), [
      "# skipped: 2 (node's own count above leaves skipped suites out)",
      '# 1 skipped (chromium is missing):',
      '#   needs a browser',
      '# 1 skipped in the live tier (LIVE is not set):',
      '#   a live suite',
      HOW_TO,
    ]);
  });

  it('passes on a failing exit code, and still ends with the footer', () => {
    const { code, lines } = npmTestStep(['failing.test.ts', 'gated.live.test.ts'], undefined);
    assert.equal(code, 1);
    assert.ok(lines.includes('# fail 1'));
    assert.equal(lines.at(-1), HOW_TO);
  });

  it('says nothing of how to run the live tier when LIVE is set', () => {
    const { code, lines } = npmTestStep(['plain.test.ts'], '1');
    assert.equal(code, 0);
    assert.deepEqual(lines.slice(-3), [
      "# skipped: 1 (node's own count above leaves skipped suites out)",
      '# 1 skipped (chromium is missing):',
      '#   needs a browser',
    ]);
  });
});

describe('the skip footer', () => {
  const skipped = (file: string, name: string, reason: string): SkippedTest => ({ file, name, reason });

  it('counts a live skip by its folder or its file name, and names the how-to only when LIVE is unset', () => {
    const tests = [
      skipped(join(ROOT, 'live', 'database-live-suite.ts'), 'postgres live port', 'LIVE is not set'),
      skipped('/elsewhere/redis.live.test.ts', 'redis live port', 'LIVE is not set'),
      skipped(join(ROOT, 'live', 'etcd.live.test.ts'), 'etcd partitions', 'network namespaces need root'),
    ];
    assert.deepEqual(skipFooter(tests, ROOT, false), [
      "# skipped: 3 (node's own count above leaves skipped suites out)",
      '# 2 skipped in the live tier (LIVE is not set):',
      '#   postgres live port',
      '#   redis live port',
      '# 1 skipped in the live tier (network namespaces need root):',
      '#   etcd partitions',
      HOW_TO,
    ]);
    assert.notEqual(skipFooter(tests, ROOT, true).at(-1), HOW_TO);
  });

  it('says when nothing was skipped', () => {
    assert.deepEqual(skipFooter([], ROOT, true), ['# skipped: none']);
  });
});
