import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sim } from '../../sim/sim.ts';
import { runConformanceInSim } from '../conformance.ts';
import { electionSuite } from '../../test/suites/election-suite.ts';
import { lockSuite } from '../../test/suites/lock-suite.ts';
import { RecipeConfigError } from '../recipe.ts';
import { acquireWhileHeld, sessionSuite, tokensAcrossCrash } from '../shared/dbsession/session-suite.ts';
import { mysqlConformance } from './conformance.ts';
import { mysql } from './index.ts';
import { SimMySqlPort } from './sim-port.ts';
import { mysqlLock } from './lock.ts';

const CONFIG = { ttlMs: 1000, fencing: true, acquireTimeoutMs: 4000, name: 'x' };
const TIMEOUTS = { queryTimeoutMs: 250, blockingTimeoutMs: 4250 };

describe('mysql port conformance', () => runConformanceInSim(mysql, mysqlConformance));

describe('mysql server model', () => {
  it('a crash keeps the counter row exactly when the disk persists, and loses it when not', async () => {
    assert.deepEqual(await tokensAcrossCrash(mysql, true, (port) => port.incrementCounter('n')), [1, 2, 3]);
    assert.deepEqual(await tokensAcrossCrash(mysql, false, (port) => port.incrementCounter('n')), [1, 2, 1]);
  });

  it('lock names are case-insensitive and 1..64 characters', async () => {
    const sim = new Sim({ seed: 1 });
    sim.addNode('server-1', (host) => mysql.bootServer(host, 1, ['server-1'], CONFIG));
    const other = new SimMySqlPort(sim.addNode('c2'), 'server-1', TIMEOUTS);
    let errors: string[] = [];
    sim.addNode('c1', (host) =>
      host.spawn('probe', async () => {
        const port = new SimMySqlPort(host, 'server-1', TIMEOUTS);
        assert.equal(await port.getLock('Name', 0), 1);
        assert.equal(await other.getLock('nAME', 0), 0);
        assert.equal(await port.releaseLock('NAME'), 1);
        errors = [];
        for (const name of ['', 'x'.repeat(65)]) {
          try {
            await port.getLock(name, 0);
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
      }),
    );
    await sim.run({ untilMs: 1000 });
    assert.deepEqual(errors, [
      "ERROR 3057 (42000): Incorrect user-level lock name ''",
      `ERROR 3057 (42000): Incorrect user-level lock name '${'x'.repeat(65)}'`,
    ]);
  });
});

describe('mysql recipes', () => {
  it('refuse impossible parameters, naming them, and lock names GET_LOCK would refuse', () => {
    const host = new Sim({ seed: 1 }).addNode('c1');
    const port = new SimMySqlPort(host, 'server-1', TIMEOUTS);
    const base = { name: 'l', ttlMs: 1000, fencing: false, acquireTimeoutMs: 1000, retryDelayMs: 10 };
    assert.throws(
      () => mysqlLock(host, port, { ...base, ttlMs: 0 }),
      new RecipeConfigError('ttlMs must be a finite number > 0, got 0'),
    );
    assert.throws(
      () => mysqlLock(host, port, { ...base, acquireTimeoutMs: 0 }),
      /acquireTimeoutMs must be a finite number > 0, got 0/,
    );
    assert.throws(
      () => mysqlLock(host, port, { ...base, retryDelayMs: Number.NaN }),
      /retryDelayMs must be a finite number > 0, got NaN/,
    );
    assert.throws(() => mysqlLock(host, port, { ...base, name: '' }), /name must be a non-empty string/);
    assert.throws(
      () => mysqlLock(host, port, { ...base, name: 'x'.repeat(65) }),
      new RecipeConfigError('name must be at most 64 characters for GET_LOCK, got 65'),
    );
    assert.throws(
      () => mysql.election(host, port, { ...CONFIG, ttlMs: -1 }),
      /ttlMs must be a finite number > 0, got -1/,
    );
  });

  it('an acquire that times out on the server keeps its session and leaves no place in the queue behind', async () => {
    const { grant, waitedMs, sameSession, retaken } = await acquireWhileHeld(mysql, 2000, {
      take: (port, name) => port.getLock(name, 0),
      letGo: (port, name) => port.releaseLock(name),
      tryTake: async (port, name) => (await port.getLock(name, 0)) === 1,
    });
    assert.equal(grant, null);
    assert.ok(waitedMs >= 2000 && waitedMs < 2100, `gave up after ${waitedMs}ms`);
    assert.ok(sameSession, 'the recipe dropped a session whose GET_LOCK had answered');
    assert.equal(retaken, true, 'the timed-out acquire was still queued for the lock');
  });
});

sessionSuite(mysql);

// As PostgreSQL: a pause leaves the session and its lock alone, an isolated holder's keepalive
// fails and its late write lands, a crashed holder's OS resets the connection at once, so the lock
// moves after the reset and the grant have crossed the network: two one-way trips of 1..3 ms.
lockSuite(mysql, { pauseBeyondTtl: 'safe', partitionBeyondTtl: 'unsafe', crashRecoveryMs: [2, 6] });
// A crashed leader's OS resets its connection; the waiting candidate is granted the lock and
// confirms its session with one ping: reset, grant and a round trip, 4..12 ms.
electionSuite(mysql, { pauseBeyondTtl: 'safe', failoverMs: [4, 12] });
