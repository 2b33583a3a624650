/** `lockstep run` tells why a run was skipped, as it runs and in the summary after it. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadScenarios } from '../scenarios/loader.ts';
import { tempDir } from '../test/temp.ts';
import { runCommand } from './run.ts';

const MINORITY_CUT = `name: minority-cut
description: A minority of the servers is cut off; a single server has none, so single-server systems skip it.
workload: mutex
clients: 2
durationMs: 2000
lock: { ttlMs: 500, holdMs: 20, thinkMs: 10 }
faults:
  - at: 500
    partition: { isolate: minority }
    forMs: 500
`;

describe('lockstep run', () => {
  it('prints the reason of each skipped run, as it runs and after the summary', async () => {
    const dir = tempDir('lockstep-run-skip-');
    const file = join(dir, 'minority-cut.yaml');
    writeFileSync(file, MINORITY_CUT);
    const lines: string[] = [];
    const code = await runCommand(
      {
        scenarios: loadScenarios([file]),
        systems: ['redis', 'etcd'],
        fencing: 'off',
        seed: 1,
        seeds: 1,
        outDir: join(dir, 'runs'),
        checkDeterminism: false,
        version: 'test',
        commandLine: 'lockstep run (test)',
      },
      (line) => lines.push(line),
    );
    assert.equal(code, 0);
    const reason = 'selector minority: a single server has no minority';
    assert.ok(
      lines.some((line) => line.startsWith(`minority-cut redis fencing=off seed=1: skipped: ${reason} (`)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((line) => line.includes(`skipped: minority-cut on redis, fencing off, seed 1: ${reason}`)),
      lines.join('\n'),
    );
    assert.ok(!lines.some((line) => /etcd.*skipped/.test(line)), 'etcd has a minority and ran');
  });
});
