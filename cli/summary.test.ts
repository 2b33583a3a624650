/** The summary table after `lockstep run` and `lockstep live`: one row per run, named so a reader can tell them apart. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TimedRun } from '../runner/run-dir.ts';
import { skipLines, summaryTable } from './summary.ts';

function run(fields: Partial<TimedRun>): TimedRun {
  return {
    scenario: 'redlock-clock-jump',
    system: 'redlock',
    fencing: false,
    seed: 1,
    verdict: 'safe',
    expected: null,
    expectationMet: null,
    metrics: null,
    wallMs: 1,
    file: 'f.yaml',
    ...fields,
  } as unknown as TimedRun;
}

describe('summary table', () => {
  it('names a third-party subject instead of the system it ran on', () => {
    const lines = summaryTable([
      run({ verdict: 'unsafe', expected: 'unsafe', expectationMet: true }),
      run({ subject: 'node-redlock' }),
    ]).split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, /^redlock-clock-jump\s+redlock\s+off\s+1\s+unsafe\s+unsafe/);
    assert.match(lines[2]!, /^redlock-clock-jump\s+node-redlock\s+off\s+1\s+safe\s+-/);
  });

  it('marks a missed expectation', () => {
    const table = summaryTable([run({ system: 'redis', verdict: 'safe', expected: 'unsafe', expectationMet: false })]);
    assert.match(table.split('\n')[1]!, /safe\s+unsafe \(FAILED\)/);
  });

  it('prints why runs were skipped, once per scenario, system and reason', () => {
    const reason = 'selector minority: a single server has no minority';
    const skipped = (fencing: boolean, seed: number) =>
      run({ scenario: 'minority-cut', system: 'redis', fencing, seed, verdict: 'skipped', skipped: reason });
    const runs = [skipped(false, 1), skipped(true, 1), skipped(false, 2), skipped(true, 2), run({})];
    assert.deepEqual(skipLines(runs), [`skipped: minority-cut on redis, fencing off and on, 2 seeds: ${reason}`]);
    assert.ok(
      summaryTable(runs).endsWith(`\n\nskipped: minority-cut on redis, fencing off and on, 2 seeds: ${reason}`),
    );
    assert.ok(!summaryTable([run({})]).includes('skipped'), 'no skip section without skipped runs');
  });
});
