/**
 * Subjects: the definition's checks, loading by name or file, and unmodified libraries in the
 * simulator: deterministic, and with the verdicts their code predicts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScenario } from '../runner/run.ts';
import { loadScenarioFile } from '../scenarios/loader.ts';
import { defineSubject, SubjectError } from './define.ts';
import { BUILTIN_SUBJECTS, loadSubject } from './index.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const scenario = (name: string) => loadScenarioFile(here(`../scenarios/${name}.yaml`));
const create = () => ({ lock: { acquire: () => Promise.resolve(null), release: () => Promise.resolve() } });

describe('defineSubject', () => {
  it('refuses a definition naming the field that is wrong', () => {
    const cases: [object, RegExp][] = [
      [{ name: 'a b', system: 'redis', create }, /^name must be 1 to 64 letters/],
      [{ name: 'redlock', system: 'redis', create }, /^name must differ from every system's/],
      [{ name: 'x', system: 'memcached', create }, /^system must be one of redis, redlock/],
      [{ name: 'x', system: 'redis' }, /^create must be a function/],
      [{ name: 'x', system: 'redis', create, tokens: 'yes' }, /^tokens must be true or false/],
      [{ name: 'x', system: 'redis', create, liveOnly: '' }, /^liveOnly must be the reason/],
    ];
    for (const [definition, message] of cases)
      assert.throws(
        () => defineSubject(definition as never),
        (e: unknown) => e instanceof SubjectError && message.test(e.message),
      );
  });
});

describe('loadSubject', () => {
  it('loads every built-in subject by name', async () => {
    for (const name of BUILTIN_SUBJECTS) assert.equal((await loadSubject(name)).name, name);
  });

  it('refuses a missing file, a file that is not code, and a default export not made by defineSubject', async () => {
    await assert.rejects(loadSubject('no/such/lock.ts'), /--subject: no such file: no\/such\/lock.ts/);
    await assert.rejects(loadSubject('README.md'), /is neither a built-in subject \(node-redlock, .*\) nor a .ts/);
    await assert.rejects(
      loadSubject(here('fixtures/not-a-subject.ts')),
      /the default export must be defineSubject\(\{\.\.\.\}\)/,
    );
  });
});

describe('subjects in the simulator', () => {
  it('node-redlock replays: the same seed gives the same trace hash, a new seed another', async () => {
    const pause = scenario('pause-during-acquisition');
    const run = (seed: number) =>
      runScenario({ scenario: pause, system: 'redlock', fencing: false, seed, subject: 'node-redlock' });
    const [a, b, c] = [await run(1), await run(1), await run(2)];
    assert.equal(a.result.traceHash, b.result.traceHash);
    assert.notEqual(a.result.traceHash, c.result.traceHash);
    assert.equal((a.result as { subject?: string }).subject, 'node-redlock');
    assert.equal(a.result.expected, null, 'a subject is measured, not held to the scenario');
  });

  it('a pause during acquisition: redlock 5 and its fork return an expired lock, redlock 4 and lockstep check validity', async () => {
    // Whether another client takes the lock between its expiry and the paused client's return
    // depends on the seed (over seeds 1 to 4, node-redlock's run is unsafe twice, the fork's once):
    // a lock that checks its validity is never unsafe here, one that does not is, sometimes.
    const pause = scenario('pause-during-acquisition');
    const verdicts = async (subject: string | null) => {
      const out: string[] = [];
      for (let seed = 1; seed <= 4; seed++)
        out.push(
          (await runScenario({ scenario: pause, system: 'redlock', fencing: false, seed, subject })).result.verdict,
        );
      return out;
    };
    const safe = ['safe', 'safe', 'safe', 'safe'];
    assert.deepEqual(await verdicts(null), safe);
    assert.deepEqual(await verdicts('redlock-v4'), safe);
    assert.ok((await verdicts('node-redlock')).includes('unsafe'));
    assert.ok((await verdicts('sesamecare-redlock')).includes('unsafe'));
  });

  it('the example lock, whose release deletes whatever key is there, loses updates after a pause', async () => {
    const { result } = await runScenario({
      scenario: scenario('gc-pause-beyond-ttl'),
      system: 'redis',
      fencing: false,
      seed: 1,
      subject: here('../examples/naive-redis-lock.ts'),
    });
    assert.equal(result.verdict, 'unsafe');
    assert.equal((result as { subjectFile?: string }).subjectFile, here('../examples/naive-redis-lock.ts'));
  });

  it('skips, with the reason, fenced runs of a subject without tokens, election runs of one without an election, and live-only subjects', async () => {
    const skipped = async (name: string, subject: string, system: 'redis' | 'redlock' | 'etcd', fencing: boolean) =>
      (await runScenario({ scenario: scenario(name), system, fencing, seed: 1, subject })).result.skipped;
    assert.equal(
      await skipped('no-faults', 'redlock-v4', 'redlock', true),
      'subject redlock-v4 gives no fencing token',
    );
    assert.equal(
      await skipped('leader-isolated', 'redis-semaphore', 'redis', false),
      'subject redis-semaphore has no election',
    );
    assert.match(
      (await skipped('no-faults', 'etcd3-lock', 'etcd', false)) ?? '',
      /^subject etcd3-lock runs only live: /,
    );
  });

  it('subject code that throws in a timer ends the run without a verdict, saying why', async () => {
    const { result } = await runScenario({
      scenario: scenario('no-faults'),
      system: 'redis',
      fencing: false,
      seed: 1,
      subject: here('fixtures/throws-in-timer.ts'),
    });
    assert.equal(result.verdict, 'unknown');
    assert.ok(
      result.notes.some((n) => /subject code on node 'c\d' threw: the lock library broke/.test(n)),
      result.notes.join('; '),
    );
  });
});
