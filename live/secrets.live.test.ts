/**
 * A database password given on the command line never reaches a file or a log: `lockstep live
 * --postgres postgres://user:PASSWORD@...` against a real PostgreSQL (the harness's private one,
 * which trusts every connection, so any password is accepted), and then every file of the run
 * directory, its report included, and everything the command printed, are searched for it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../test/temp.ts';
import { liveEnabled } from './gate.ts';
import { POSTGRES_DATABASE, POSTGRES_USER, startPostgres, type PostgresServer } from './servers/postgres.ts';

const CLI = fileURLToPath(new URL('../bin/lockstep.js', import.meta.url));
const PASSWORD = 'Sw0rdf1sh-never-stored';

const SCENARIO = `name: secret-check
description: a short run with no faults, to see what the run directory holds
systems: [postgres]
fencing: off
clients: 2
durationMs: 1500
lock: { ttlMs: 1000, holdMs: 20, thinkMs: 20 }
`;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

let server: PostgresServer | undefined;
before(async () => {
  if (liveEnabled()) server = await startPostgres('secrets-test');
});
after(async () => {
  await server?.destroy();
});

it(
  'a --postgres password reaches no file of the run directory, no report and no output',
  { skip: !liveEnabled() && 'LIVE is not set' },
  () => {
    const dir = tempDir('lockstep-secrets-');
    const scenario = join(dir, 'secret-check.yaml');
    writeFileSync(scenario, SCENARIO);
    const url = `postgres://${POSTGRES_USER}:${PASSWORD}@127.0.0.1:${server!.port}/${POSTGRES_DATABASE}`;
    const out = join(dir, 'runs');
    const result = spawnSync(
      process.execPath,
      [CLI, 'live', scenario, '--systems', 'postgres', '--postgres', url, '--out', out],
      { encoding: 'utf8', timeout: 180_000 },
    );
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    assert.ok(!result.stdout.includes(PASSWORD) && !result.stderr.includes(PASSWORD), 'the password was printed');
    const files = filesUnder(out);
    assert.ok(
      files.some((f) => f.endsWith('index.html')) && files.some((f) => f.endsWith('results.json')),
      files.join(', '),
    );
    for (const file of files) assert.ok(!readFileSync(file).includes(PASSWORD), `${file} holds the password`);
    const results = JSON.parse(readFileSync(files.find((f) => f.endsWith('results.json'))!, 'utf8')) as {
      command: string;
      runs: { verdict: string }[];
    };
    assert.match(results.command, /--postgres postgres:\/\/lockstep:\*\*\*@127\.0\.0\.1:\d+\/lockstep/);
    assert.equal(results.runs[0]?.verdict, 'safe', 'the run itself worked');
  },
);
