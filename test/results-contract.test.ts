/**
 * One results contract (runner/results.ts): the types both Worlds write are held to it at compile
 * time, what `lockstep run` writes validates against it, older run directories still load, and the
 * published JSON Schemas are the ones the contract generates.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TimedRun } from '../runner/run-dir.ts';
import type { LiveRunResult } from '../live/run.ts';
import { loadRunDirs, ReportError } from '../reports/load.ts';
import type { Op, RegisterWrite } from '../runner/history.ts';
import {
  COMPARE_SCHEMA_FILE,
  compareJsonSchema,
  HISTORY_LINE_SCHEMA_FILE,
  historyLineJsonSchema,
  RESULTS_SCHEMA_FILE,
  resultsJsonSchema,
} from '../runner/results-json-schema.ts';
import {
  historyFileName,
  historyLineSchema,
  RESULTS_FORMAT_VERSION,
  resultsFileSchema,
  type OpWritten,
  type RegisterWriteWritten,
  type RunEntryWritten,
} from '../runner/results.ts';
import type { RunResult } from '../runner/run.ts';
import { fixtureResults, writeFixture } from './report-fixture.ts';
import { simRunDir } from './sim-run.ts';
import { tempDir } from './temp.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Compile-time: a field a writer's type holds that the contract does not name fails the type check
// here, naming the field. (That the named fields fit the contract's types is checked where they
// are written: cli/run.ts and cli/live.ts assign them to TimedRun, the contract's type.)
type Unnamed<T, Contract> = Exclude<keyof T, keyof Contract>;
type Timed<R> = R & { readonly wallMs: number; readonly file: string };
const simRunFields: [Unnamed<Timed<RunResult>, RunEntryWritten>] extends [never]
  ? true
  : Unnamed<Timed<RunResult>, RunEntryWritten> = true;
const liveRunFields: [Unnamed<Timed<LiveRunResult>, RunEntryWritten>] extends [never]
  ? true
  : Unnamed<Timed<LiveRunResult>, RunEntryWritten> = true;
const opFields: [Unnamed<Op, OpWritten>] extends [never] ? true : Unnamed<Op, OpWritten> = true;
const writeFields: [Unnamed<RegisterWrite, RegisterWriteWritten>] extends [never]
  ? true
  : Unnamed<RegisterWrite, RegisterWriteWritten> = true;
const simRunFits: Timed<RunResult> extends TimedRun ? true : false = true;
const liveRunFits: Timed<LiveRunResult> extends TimedRun ? true : false = true;

describe('the results contract', () => {
  it('names every field the sim and live writers write', () => {
    assert.deepEqual(
      [simRunFields, liveRunFields, opFields, writeFields, simRunFits, liveRunFits],
      [true, true, true, true, true, true],
    );
  });

  it('ships the JSON Schemas generated from the zod contract (npm run schema)', () => {
    assert.equal(readFileSync(join(ROOT, RESULTS_SCHEMA_FILE), 'utf8'), resultsJsonSchema());
    assert.equal(readFileSync(join(ROOT, HISTORY_LINE_SCHEMA_FILE), 'utf8'), historyLineJsonSchema());
    assert.equal(readFileSync(join(ROOT, COMPARE_SCHEMA_FILE), 'utf8'), compareJsonSchema());
  });

  it('holds what lockstep run writes: formatVersion, every run entry, every history line at its file name', async () => {
    const dir = await simRunDir('lockstep-contract-', ['gc-pause-beyond-ttl'], ['redis', 'redlock']);
    const results = resultsFileSchema.parse(JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')));
    assert.equal(results.formatVersion, RESULTS_FORMAT_VERSION);
    assert.equal(results.runs.length, 4);
    for (const run of results.runs) {
      const history = join(dir, 'history', historyFileName(run));
      assert.ok(existsSync(history), `${history} is missing`);
      for (const line of readFileSync(history, 'utf8').trim().split('\n')) historyLineSchema.parse(JSON.parse(line));
    }
  });

  it('reads a results.json without formatVersion (written before it existed) and refuses a version it does not know', () => {
    const old = tempDir('lockstep-contract-old-');
    writeFixture(old);
    assert.equal(loadRunDirs([old]).runs.length > 0, true);
    const newer = tempDir('lockstep-contract-newer-');
    writeFixture(newer, { ...fixtureResults(), formatVersion: RESULTS_FORMAT_VERSION + 1 });
    assert.throws(
      () => loadRunDirs([newer]),
      (error) => error instanceof ReportError && /formatVersion/.test(error.message),
    );
  });

  it('names a history file by the subject when a third-party library ran, by the system otherwise', () => {
    const run = { scenario: 'gc-pause-beyond-ttl', system: 'redlock', fencing: true, seed: 7 };
    assert.equal(historyFileName(run), 'gc-pause-beyond-ttl.redlock.on.7.jsonl');
    assert.equal(historyFileName({ ...run, subject: 'node-redlock' }), 'gc-pause-beyond-ttl.node-redlock.on.7.jsonl');
  });
});
