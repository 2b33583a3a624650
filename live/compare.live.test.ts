/**
 * `lockstep compare --live K` on real servers: the K schedules chosen by the seed run on every
 * system named, fenced and unfenced, through the same live harness as `lockstep live`; each cell
 * carries its live tally beside the simulated one, and the report shows it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compareFileSchema } from '../runner/compare-file.ts';
import { tempDir } from '../test/temp.ts';
import { liveEnabled } from './gate.ts';

const CLI = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));

it(
  'compare --live 1 runs one schedule live on redis and postgres, fenced and unfenced',
  { skip: !liveEnabled() && 'LIVE is not set' },
  () => {
    const out = join(tempDir('lockstep-compare-live-'), 'runs');
    const result = spawnSync(
      process.execPath,
      [CLI, 'compare', '--schedules', '4', '--systems', 'redis,postgres', '--live', '1', '--out', out],
      { encoding: 'utf8', timeout: 300_000, env: { ...process.env, FORCE_COLOR: '0' } },
    );
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /live: schedule\(s\) \d+ on redis, postgres/);
    const file = compareFileSchema.parse(JSON.parse(readFileSync(join(out, 'latest', 'compare.json'), 'utf8')));
    assert.equal(file.live, 1);
    for (const cell of file.cells) {
      assert.ok(cell.live !== undefined, `${cell.system} ${cell.fencing} has its live tally`);
      assert.equal(cell.live.runs + cell.live.notApplicable + cell.live.unknown, 1, `${cell.system} ${cell.fencing}`);
    }
    assert.match(readFileSync(join(out, 'latest', 'index.html'), 'utf8'), /live: fencing (off|on)/);
  },
);
