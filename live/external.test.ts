/**
 * The endpoints file of the external provider is input from users: whatever it holds, loading it
 * either gives a checked config or one UsageError naming the file and the field; nothing else.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { UsageError } from '../runner/errors.ts';
import { externalSentinels, externalServers, loadExternalConfig } from './external.ts';

const dir = mkdtempSync(join(tmpdir(), 'lockstep-endpoints-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = {
  toxiproxy: 'http://127.0.0.1:8474',
  redis: ['r1:6379', 'r2:6379', 'r3:6379', 'r4:6379', 'r5:6379'],
  zookeeper: ['z1:2181', 'z2:2181', 'z3:2181'],
  etcd: ['e1:2379', 'e2:2379', 'e3:2379'],
  postgres: 'postgres://lockstep@db:5432/lockstep',
  mysql: 'mysql://lockstep@db:3306/lockstep',
  redisSentinel: { servers: ['d1:6379', 'd2:6379', 'd3:6379'], sentinels: ['s1:26379', 's2:26379', 's3:26379'] },
};

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('external provider endpoints file', () => {
  it("reads a good file, with defaults, and lists each system's servers in order", () => {
    const config = loadExternalConfig(write('good.yaml', stringify(GOOD)));
    assert.equal(config.proxyListenHost, '127.0.0.1');
    assert.deepEqual(
      externalServers(config, 'redis')?.map((s) => s.name),
      ['redis-1'],
    );
    assert.deepEqual(
      externalServers(config, 'redlock')?.map((s) => `${s.upstream.host}:${s.upstream.port}`),
      GOOD.redis,
    );
    assert.deepEqual(externalServers(config, 'postgres')?.[0]?.upstream, { host: 'db', port: 5432 });
    assert.ok(
      externalServers(config, 'etcd')!.every((s) => s.control === null),
      'the external provider owns no process',
    );
    assert.deepEqual(
      externalServers(config, 'redis-sentinel')?.map((s) => `${s.name} ${s.upstream.host}:${s.upstream.port}`),
      ['sentinel-redis-1 d1:6379', 'sentinel-redis-2 d2:6379', 'sentinel-redis-3 d3:6379'],
    );
    assert.deepEqual(
      externalSentinels(config, 'redis-sentinel').map((s) => `${s.name} ${s.upstream.host}:${s.upstream.port}`),
      ['sentinel-1 s1:26379', 'sentinel-2 s2:26379', 'sentinel-3 s3:26379'],
    );
    assert.ok(externalSentinels(config, 'redis-sentinel').every((s) => s.control === null));
    assert.deepEqual(externalSentinels(config, 'etcd'), [], 'no other system has Sentinels');
  });

  it('names the field and what was expected', () => {
    const cases: [object, RegExp][] = [
      [{ ...GOOD, toxiproxy: 'nowhere' }, /: toxiproxy: /],
      [{ ...GOOD, zookeeper: ['z1:2181'] }, /: zookeeper: /],
      [
        { ...GOOD, redisSentinel: { servers: ['d1:6379'], sentinels: GOOD.redisSentinel.sentinels } },
        /: redisSentinel\.servers: /,
      ],
      [{ ...GOOD, postgres: 'mysql://x@db/y' }, /: postgres: expected a postgres or postgresql:\/\/ URL/],
      [{ ...GOOD, proxyPorts: { from: 9, to: 3 } }, /: proxyPorts: from must be <= to/],
      [{ ...GOOD, surprise: 1 }, /: \(top level\): /],
    ];
    for (const [content, message] of cases) {
      assert.throws(
        () => loadExternalConfig(write('bad.yaml', stringify(content))),
        (e: unknown) => e instanceof UsageError && message.test(e.message) && e.message.includes('bad.yaml'),
      );
    }
  });

  it('fuzz: any text, or any mutation of a good file, loads or fails with one UsageError', () => {
    const mutated = fc.record(
      Object.fromEntries(
        Object.entries(GOOD).map(([k, v]) => [k, fc.oneof(fc.constant(v), fc.anything(), fc.string())]),
      ),
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          mutated.map((o) => stringify(o)),
        ),
        (text) => {
          const file = write('fuzz.yaml', text);
          try {
            loadExternalConfig(file);
          } catch (error) {
            assert.ok(error instanceof UsageError, `not a UsageError: ${String(error)}`);
            assert.ok(error.message.startsWith(file), error.message);
            assert.ok(!error.message.includes('\n'), 'one line');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
