/**
 * `lockstep live --shard I/N` on real servers: each shard runs its share, says what it is doing as
 * it goes (the run in flight, runs done, the time left), and the shards merge into the rows one
 * unsharded live command writes, in its order.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../test/temp.ts';
import { liveEnabled } from './gate.ts';

const CLI = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));

const SCENARIO = `name: shard-check
description: a short run with no faults, on two systems, fenced and unfenced
systems: [redis, postgres]
clients: 2
durationMs: 1500
lock: { ttlMs: 1000, holdMs: 20, thinkMs: 20 }
`;

function lockstep(...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const rows = (dir: string) =>
  (
    JSON.parse(readFileSync(join(dir, 'latest', 'results.json'), 'utf8')) as {
      runs: { system: string; fencing: boolean; mode: string }[];
    }
  ).runs.map((r) => `${r.mode} ${r.system} ${r.fencing ? 'on' : 'off'}`);

it(
  'live --shard: two shards, one after the other, each showing its progress, merge into the unsharded order',
  { skip: !liveEnabled() && 'LIVE is not set' },
  async () => {
    const dir = tempDir('lockstep-live-shard-');
    const scenario = join(dir, 'shard-check.yaml');
    writeFileSync(scenario, SCENARIO);
    const shard = (i: number) => lockstep('live', scenario, '--shard', `${i}/2`, '--out', join(dir, `s${i}`));
    const first = await shard(1);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /: shard 1\/2 of 4 run\(s\)/);
    assert.match(
      first.output,
      /^\[1\/2\] starting shard-check redis fencing=off \(0 done, time left known after the first run\)$/m,
    );
    assert.match(first.output, /^\[2\/2\] starting shard-check postgres fencing=off \(1 done, about \d+ s left\)$/m);
    assert.match(first.output, /^\[2\/2 done\] shard-check postgres fencing=off: safe/m);
    const second = await shard(2);
    assert.equal(second.code, 0, second.output);
    assert.deepEqual(rows(join(dir, 's1')), ['live redis off', 'live postgres off']);
    const merged = await lockstep('merge', join(dir, 's1'), join(dir, 's2'), '--out', join(dir, 'merged'));
    assert.equal(merged.code, 0, merged.output);
    assert.deepEqual(rows(join(dir, 'merged')), [
      'live redis off',
      'live redis on',
      'live postgres off',
      'live postgres on',
    ]);
  },
);
