import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { SYSTEM_IDS } from '../backends/recipe.ts';
import { SCHEMA_FILE, scenarioJsonSchema } from './json-schema.ts';
import { loadScenarios, MAX_SCENARIO_BYTES, parseScenario, ScenarioError } from './loader.ts';
import { tempDir } from '../test/temp.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function rejects(yaml: string, message: RegExp): void {
  assert.throws(
    () => parseScenario(yaml, 'bad.yaml'),
    (error: unknown) => error instanceof ScenarioError && message.test(error.message),
  );
}

const MINIMAL = 'name: x\ndescription: y\ndurationMs: 1000\n';

describe('scenario loader: clear errors', () => {
  it('names the file, the path to the field and what was expected', () => {
    rejects('name: x\ndescription: y\ndurationMs: -5\n', /^bad\.yaml: durationMs: durationMs must be > 0$/);
    rejects(`${MINIMAL}durationMs2: 1\n`, /^bad\.yaml: unknown field 'durationMs2'$/);
    rejects(`${MINIMAL}systems: [redis, memcached]\n`, /^bad\.yaml: systems\[1\]: expected one of redis, redlock/);
    rejects(`${MINIMAL}faults:\n  - { at: 5, explode: c1 }\n`, /^bad\.yaml: faults\[0\]: unknown field 'explode'$/);
    rejects(
      `${MINIMAL}faults:\n  - { at: 5, pause: everyone }\n`,
      /^bad\.yaml: faults\[0\]\.pause: expected a selector/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { at: 5, pause: c1, forMs: abc }\n`,
      /^bad\.yaml: faults\[0\]\.forMs: forMs must be a number of milliseconds$/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { pause: c1 }\n`,
      /^bad\.yaml: faults\[0\]: a fault takes exactly one trigger: at or after$/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { at: 1, crash: c1, forMs: 5 }\n`,
      /^bad\.yaml: faults\[0\]\.forMs: forMs does not apply to a crash fault$/,
    );
    rejects(
      `${MINIMAL}systems: [redis]\nexpect:\n  - { system: etcd, fencing: on, verdict: safe }\n`,
      /expect\[0\]\.system: expects 'etcd', which the scenario does not run/,
    );
    rejects('name: [unclosed\n', /^bad\.yaml: line 2 column 1: not valid YAML/);
    rejects('- just\n- a list\n', /^bad\.yaml: expected a YAML mapping/);
    rejects(`${MINIMAL}name: twice\n`, /not valid YAML \(Map keys must be unique\)/);
  });

  it('says a required field is missing, and what it expects, wherever the field is', () => {
    rejects('name: x\ndurationMs: 1000\n', /^bad\.yaml: description: required field is missing \(expected a string\)$/);
    rejects('description: y\ndurationMs: 1000\n', /^bad\.yaml: name: required field is missing \(expected a string\)$/);
    rejects(
      'name: x\ndescription: y\n',
      /^bad\.yaml: durationMs: required field is missing \(expected a number of milliseconds\)$/,
    );
    rejects(
      `${MINIMAL}expect:\n  - { system: redis, verdict: safe }\n`,
      /^bad\.yaml: expect\[0\]\.fencing: required field is missing \(expected 'off' or 'on'\)$/,
    );
    rejects(
      `${MINIMAL}reference: { note: why }\n`,
      /^bad\.yaml: reference\.source: required field is missing \(expected a string\)$/,
    );
    rejects(
      `${MINIMAL}network: { latencyMs: { max: 3 } }\n`,
      /^bad\.yaml: network\.latencyMs\.min: required field is missing \(expected a number of milliseconds\)$/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { after: { nth: 2 }, pause: c1 }\n`,
      /^bad\.yaml: faults\[0\]\.after\.event: required field is missing \(expected 'acquired', 'elected'/,
    );
  });

  it('tells a field given no value from one missing or of the wrong kind', () => {
    rejects(
      'name: x\ndescription:\ndurationMs: 1000\n',
      /^bad\.yaml: description: no value given \(expected a string\)$/,
    );
    rejects(`${MINIMAL}clients:\n`, /^bad\.yaml: clients: no value given \(expected a number\)$/);
    rejects('name: x\ndescription: 5\ndurationMs: 1000\n', /^bad\.yaml: description: description must be a string$/);
    rejects(
      'name: x\ndescription: y\ndurationMs: abc\n',
      /^bad\.yaml: durationMs: durationMs must be a number of milliseconds$/,
    );
  });

  it('checks a reference to a published result: an https address, a fraction, and a note on the difference', () => {
    const reference = (fields: string) => `${MINIMAL}reference: { source: Jepsen, note: why, ${fields} }\n`;
    assert.equal(
      parseScenario(reference('url: https://jepsen.io/analyses/etcd-3.4.3, lostFraction: 0.18'), 'ok.yaml').reference
        ?.lostFraction,
      0.18,
    );
    rejects(
      reference('url: "javascript:alert(1)"'),
      /^bad\.yaml: reference\.url: reference\.url must be an https:\/\/ address/,
    );
    rejects(
      reference('url: "https://x.org/a b"'),
      /^bad\.yaml: reference\.url: reference\.url must be an https:\/\/ address/,
    );
    rejects(
      reference('lostFraction: 18'),
      /^bad\.yaml: reference\.lostFraction: reference\.lostFraction is a fraction, 0\.\.1$/,
    );
    rejects(`${MINIMAL}reference: { source: Jepsen }\n`, /^bad\.yaml: reference\.note: /);
  });

  it('a writing trigger and an etcd Mutex version are checked by name', () => {
    rejects(`${MINIMAL}lock: { etcdMutex: '3.3' }\n`, /^bad\.yaml: lock\.etcdMutex: expected '3\.5' or '3\.4\.3'$/);
    rejects(
      `${MINIMAL}workload: election\nfaults:\n  - { after: { event: writing }, pause: elected }\n`,
      /^bad\.yaml: faults\[0\]\.after\.event: event 'writing' needs workload: mutex$/,
    );
  });

  it('reports a missing file and duplicate names across files', () => {
    assert.throws(() => loadScenarios(['/nonexistent/x.yaml']), /\/nonexistent\/x\.yaml: no such file or directory/);
    const one = join(tempDir('lockstep-loader-'), 'x.yaml');
    const other = join(tempDir('lockstep-loader-'), 'x.yml');
    writeFileSync(one, MINIMAL);
    writeFileSync(other, MINIMAL);
    assert.throws(() => loadScenarios([one, other]), /x\.yml: name: 'x' is already the name of x\.yaml/);
  });

  it('refuses a file not named after its scenario, naming the file, the name and the name expected', () => {
    const dir = tempDir('lockstep-loader-');
    const file = join(dir, 'my-copy.yaml');
    writeFileSync(file, MINIMAL.replace('name: x', 'name: gc-pause'));
    assert.throws(
      () => loadScenarios([file]),
      (error: unknown) =>
        error instanceof ScenarioError &&
        error.message ===
          `${file}: name: 'gc-pause' differs from the file's name, 'my-copy' (a scenario file is named after its scenario): rename the file gc-pause.yaml, or set name: my-copy`,
    );
    const odd = join(dir, 'My Copy.yaml');
    writeFileSync(odd, MINIMAL);
    assert.throws(
      () => loadScenarios([odd]),
      /'x' differs from the file's name, 'My Copy' .*: rename the file x\.yaml$/,
    );
    const yml = join(dir, 'short.yml');
    writeFileSync(yml, MINIMAL.replace('name: x', 'name: short'));
    assert.equal(loadScenarios([yml])[0]!.scenario.name, 'short');
  });
});

describe('scenario loader: bounds', () => {
  const refusedFile = (file: string, message: RegExp) =>
    assert.throws(
      () => loadScenarios([file]),
      (error: unknown) => error instanceof ScenarioError && message.test(error.message),
    );

  it('refuses a device, a FIFO and a directory named as a file before reading them', () => {
    refusedFile('/dev/zero', /^\/dev\/zero: not a regular file \(a character device\); a scenario is a YAML file$/);
    const dir = tempDir('lockstep-loader-');
    const fifo = join(dir, 'pipe.yaml');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    refusedFile(fifo, /pipe\.yaml: not a regular file \(a FIFO\)/);
    const inner = join(dir, 'inner.yaml');
    assert.equal(spawnSync('mkdir', [inner]).status, 0);
    refusedFile(dir, /inner\.yaml: not a regular file \(a directory\)/);
  });

  it('refuses a file one byte over the limit, and takes one exactly at it', () => {
    const dir = tempDir('lockstep-loader-');
    const head = `${MINIMAL}# `;
    const atLimit = join(dir, 'x.yaml');
    writeFileSync(atLimit, `${head}${'x'.repeat(MAX_SCENARIO_BYTES - head.length - 1)}\n`);
    assert.equal(loadScenarios([atLimit])[0]!.scenario.name, 'x');
    writeFileSync(atLimit, `${head}${'x'.repeat(MAX_SCENARIO_BYTES - head.length)}\n`);
    refusedFile(atLimit, /x\.yaml: file is larger than 1000000 bytes/);
  });

  it('refuses counts and lengths past their limits, naming the field', () => {
    const groups = Array.from({ length: 17 }, () => '[c1]').join(', ');
    rejects(
      `${MINIMAL}faults:\n  - { at: 1, partition: { groups: [${groups}] } }\n`,
      /^bad\.yaml: faults\[0\]\.partition\.groups: groups takes at most 16 groups$/,
    );
    const selectors = Array.from({ length: 81 }, () => 'c1').join(', ');
    rejects(
      `${MINIMAL}faults:\n  - { at: 1, partition: { groups: [[${selectors}], [servers]] } }\n`,
      /partition\.groups: groups takes at most 80 selectors in all/,
    );
    rejects(
      MINIMAL.replace('name: x', `name: ${'a'.repeat(65)}`),
      /^bad\.yaml: name: name must be at most 64 characters/,
    );
    rejects(
      MINIMAL.replace('description: y', `description: ${'d'.repeat(4001)}`),
      /^bad\.yaml: description: description must be at most 4000 characters$/,
    );
    rejects(
      `${MINIMAL}faults:\n${'  - { at: 1, pause: c1 }\n'.repeat(101)}`,
      /^bad\.yaml: faults: at most 100 faults$/,
    );
    rejects(`${MINIMAL}systems: [redis, redis]\n`, /^bad\.yaml: systems: systems names a system twice$/);
    rejects(
      `${MINIMAL}expect:\n${'  - { system: redis, fencing: on, verdict: safe }\n'.repeat(15)}`,
      /^bad\.yaml: expect: at most 14 expectations/,
    );
  });

  it('refuses times no system could run: a lease under 100 ms or over ten minutes, and fault times past an hour', () => {
    rejects(
      `${MINIMAL}lock: { ttlMs: 5 }\n`,
      /^bad\.yaml: lock\.ttlMs: ttlMs must be >= 100: .*RedLock refuses a TTL no longer than that$/,
    );
    rejects(`${MINIMAL}lock: { ttlMs: 1e12 }\n`, /^bad\.yaml: lock\.ttlMs: ttlMs must be <= 600000$/);
    for (const field of ['holdMs', 'thinkMs'])
      rejects(
        `${MINIMAL}lock: { ${field}: 600001 }\n`,
        new RegExp(`^bad\\.yaml: lock\\.${field}: ${field} must be <= 600000$`),
      );
    rejects(`${MINIMAL}network: { latencyMs: { min: 1, max: 60001 } }\n`, /latencyMs\.max must be <= 60000$/);
    rejects(
      `${MINIMAL}faults:\n  - { at: 3600001, pause: c1 }\n`,
      /^bad\.yaml: faults\[0\]\.at: at must be <= 3600000$/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { at: 1, pause: c1, forMs: 1e12 }\n`,
      /faults\[0\]\.forMs: forMs must be <= 3600000$/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { at: 1, crash: c1, restartAfterMs: 1e12 }\n`,
      /faults\[0\]\.restartAfterMs: restartAfterMs must be <= 3600000$/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { at: 1, delay: c1, delayMs: 1e9 }\n`,
      /faults\[0\]\.delayMs: delayMs must be <= 60000$/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { at: 1, clock: c1, jumpMs: 1e12 }\n`,
      /faults\[0\]\.jumpMs: jumpMs must be <= 86400000/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { at: 1, clock: c1, driftPpm: 1e9 }\n`,
      /faults\[0\]\.driftPpm: driftPpm must be <= 1000000/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { after: { event: acquired, nth: 1e9, waitMs: 1e12 }, pause: c1 }\n`,
      /faults\[0\]\.after\.nth: nth must be <= 1000000$/,
    );
    rejects(
      `${MINIMAL}faults:\n  - { after: { event: acquired, waitMs: 1e12 }, pause: c1 }\n`,
      /faults\[0\]\.after\.waitMs: waitMs must be <= 3600000$/,
    );
    assert.equal(parseScenario(`${MINIMAL}lock: { ttlMs: 100 }\n`, 'ok.yaml').lock.ttlMs, 100);
  });
});

describe('scenario loader: fuzzed', () => {
  it('never crashes on garbage: every document is accepted or refused with a ScenarioError', () => {
    const garbage = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json().map((j) => stringify(JSON.parse(j))),
      fc
        .dictionary(
          fc.constantFrom('name', 'description', 'durationMs', 'faults', 'lock', 'systems', 'expect', 'clients', 'x'),
          fc.anything(),
        )
        .map((o) => {
          try {
            return stringify(o);
          } catch {
            return '{}';
          }
        }),
    );
    fc.assert(
      fc.property(garbage, (text) => {
        try {
          parseScenario(text, 'fuzz.yaml');
        } catch (error) {
          assert.ok(error instanceof ScenarioError, `not a ScenarioError: ${String(error)}`);
          assert.ok(!error.message.includes('\n    at '), 'a stack trace leaked into the message');
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts exactly the documents an independent oracle calls valid', () => {
    // Each part is drawn valid or invalid, and the oracle knows which: the document is valid iff every part is.
    const part = <T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<unknown>) =>
      fc.oneof(
        { weight: 4, arbitrary: valid.map((value) => ({ value, ok: true })) },
        { weight: 1, arbitrary: invalid.map((value) => ({ value, ok: false })) },
      );
    const systemsPart = part(
      fc.subarray([...SYSTEM_IDS], { minLength: 1 }),
      fc.constantFrom([], ['nosuch'], 'redis', [1]),
    );
    const fault = part(
      fc.record({ at: fc.nat(100_000), pause: fc.constant('c1'), forMs: fc.integer({ min: 1, max: 10_000 }) }),
      fc.constantFrom(
        { at: -1, pause: 'c1' },
        { pause: 'c1' },
        { at: 1, pause: 'nobody' },
        { at: 1, pause: 'c1', crash: 'c1' },
        { at: 1, loss: 'c1' },
        { at: 1, pause: 'c1', mode: 'hold' },
      ),
    );
    const document = fc
      .record({
        name: part(fc.stringMatching(/^[a-z0-9-]{1,20}$/), fc.constantFrom('Bad Name', '', 42)),
        description: part(fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom('', 7, null)),
        durationMs: part(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom(-5, 0, 'soon', null)),
        clients: part(fc.integer({ min: 1, max: 64 }), fc.constantFrom(0, 1.5, 100, 'two')),
        systems: systemsPart,
        fencing: part(fc.constantFrom('off', 'on', 'both'), fc.constantFrom('maybe', true)),
        faults: fc.array(fault, { maxLength: 3 }),
        extra: fc.option(fc.constant({ value: 1, ok: false }), { nil: undefined }),
        expectOk: fc.boolean(),
      })
      .map((d) => {
        const systems = Array.isArray(d.systems.value) && d.systems.ok ? (d.systems.value as string[]) : ['redis'];
        const outside = SYSTEM_IDS.find((s) => !systems.includes(s)) ?? 'nosuch';
        const fencing = d.fencing.ok ? (d.fencing.value as string) : 'both';
        const doc: Record<string, unknown> = {
          name: d.name.value,
          description: d.description.value,
          durationMs: d.durationMs.value,
          clients: d.clients.value,
          systems: d.systems.value,
          fencing: d.fencing.value,
          faults: d.faults.map((f) => f.value),
          expect: [
            {
              system: d.expectOk ? systems[0] : outside,
              fencing: fencing === 'both' ? 'off' : fencing,
              verdict: 'safe',
            },
          ],
        };
        if (d.extra !== undefined) doc.surprise = d.extra.value;
        const parts = [
          d.name,
          d.description,
          d.durationMs,
          d.clients,
          d.systems,
          d.fencing,
          ...d.faults,
          ...(d.extra === undefined ? [] : [d.extra]),
        ];
        return { text: stringify(doc), valid: parts.every((p) => p.ok) && d.expectOk };
      });
    fc.assert(
      fc.property(document, ({ text, valid }) => {
        let accepted = true;
        try {
          parseScenario(text, 'fuzz.yaml');
        } catch (error) {
          assert.ok(error instanceof ScenarioError);
          accepted = false;
        }
        assert.equal(accepted, valid, `${valid ? 'refused a valid' : 'accepted an invalid'} scenario:\n${text}`);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('the scenario library', () => {
  const files = readdirSync(join(ROOT, 'scenarios')).filter((f) => f.endsWith('.yaml'));

  it('loads, and every file is named after its scenario', () => {
    const loaded = loadScenarios([join(ROOT, 'scenarios')]);
    assert.ok(loaded.length >= 10);
    for (const { file, scenario } of loaded) assert.equal(file.split('/').pop(), `${scenario.name}.yaml`);
    assert.equal(files.length, loaded.length);
  });

  it('ships the JSON Schema generated from the current zod schema (npm run schema)', () => {
    assert.equal(readFileSync(join(ROOT, SCHEMA_FILE), 'utf8'), scenarioJsonSchema());
  });
});
