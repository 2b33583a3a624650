import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sim } from '../../sim/sim.ts';
import { runConformanceInSim } from '../conformance.ts';
import { electionSuite } from '../../test/suites/election-suite.ts';
import { lockSuite } from '../../test/suites/lock-suite.ts';
import { RecipeConfigError } from '../recipe.ts';
import { acquireWhileHeld, sessionSuite, tokensAcrossCrash } from '../shared/dbsession/session-suite.ts';
import { postgresConformance } from './conformance.ts';
import { postgres } from './index.ts';
import { SEQ_LOG_VALS, Sequences } from './server.ts';
import { SimPostgresPort } from './sim-port.ts';
import { advisoryKey, postgresLock } from './lock.ts';

const CONFIG = { ttlMs: 1000, fencing: true, acquireTimeoutMs: 4000, name: 'x' };
const TIMEOUTS = { queryTimeoutMs: 250, blockingTimeoutMs: 4250 };

describe('postgres port conformance', () => runConformanceInSim(postgres, postgresConformance));

describe('postgres server model', () => {
  it('nextval logs 32 values ahead and resumes from what it logged', () => {
    const disk = new Map<string, number>();
    const before = new Sequences(disk);
    assert.deepEqual([before.nextval('s'), before.nextval('s'), before.nextval('s')], [1, 2, 3]);
    assert.equal(new Sequences(disk).nextval('s'), 1 + SEQ_LOG_VALS + 1);
  });

  it('a crash keeps the sequence past every value it returned when the disk persists, and loses it when not', async () => {
    assert.deepEqual(await tokensAcrossCrash(postgres, true, (port) => port.nextval('s')), [
      1,
      2,
      1 + SEQ_LOG_VALS + 1,
    ]);
    assert.deepEqual(await tokensAcrossCrash(postgres, false, (port) => port.nextval('s')), [1, 2, 1]);
  });
});

describe('postgres recipes', () => {
  it('refuse impossible parameters, naming them', () => {
    const host = new Sim({ seed: 1 }).addNode('c1');
    const port = new SimPostgresPort(host, 'server-1', TIMEOUTS);
    const base = { name: 'l', ttlMs: 1000, fencing: false, acquireTimeoutMs: 1000, retryDelayMs: 10 };
    assert.throws(
      () => postgresLock(host, port, { ...base, ttlMs: 0 }),
      new RecipeConfigError('ttlMs must be a finite number > 0, got 0'),
    );
    assert.throws(
      () => postgresLock(host, port, { ...base, acquireTimeoutMs: 0 }),
      /acquireTimeoutMs must be a finite number > 0, got 0/,
    );
    assert.throws(
      () => postgresLock(host, port, { ...base, retryDelayMs: -5 }),
      /retryDelayMs must be a finite number > 0, got -5/,
    );
    assert.throws(() => postgresLock(host, port, { ...base, name: '' }), /name must be a non-empty string/);
    assert.throws(
      () => postgres.election(host, port, { ...CONFIG, ttlMs: -1 }),
      /ttlMs must be a finite number > 0, got -1/,
    );
  });
});

describe('postgres acquire timeout', () => {
  it('an acquire whose deadline passes ends its session, so the server forgets its place in the queue', async () => {
    const { grant, waitedMs, sameSession, retaken } = await acquireWhileHeld(postgres, 1000, {
      take: (port, name) => port.advisoryLock(advisoryKey(name)),
      letGo: (port, name) => port.advisoryUnlock(advisoryKey(name)),
      tryTake: (port, name) => port.advisoryTryLock(advisoryKey(name)),
    });
    assert.equal(grant, null);
    assert.ok(waitedMs >= 1000 && waitedMs < 1010, `gave up after ${waitedMs}ms`);
    assert.ok(!sameSession, 'the recipe kept a session whose pg_advisory_lock may have been granted');
    assert.equal(retaken, true, 'the abandoned pg_advisory_lock still held a place in the queue');
  });
});

sessionSuite(postgres);

// A pause leaves the session, and so the lock, alone: the paused client's OS answers the keepalive.
// An isolated holder's keepalive fails, its session ends, the lock moves on and its late write
// lands. A crashed holder's OS resets its connection, so the lock moves as soon as the reset and
// the grant have crossed the network: two one-way trips of 1..3 ms.
lockSuite(postgres, { pauseBeyondTtl: 'safe', partitionBeyondTtl: 'unsafe', crashRecoveryMs: [2, 6] });
// A crashed leader's OS resets its connection; the waiting candidate is granted the lock and
// confirms its session with one ping: reset, grant and a round trip, 4..12 ms. A paused leader's
// session survives, so nobody else can lead meanwhile; on waking it steps down.
electionSuite(postgres, { pauseBeyondTtl: 'safe', failoverMs: [4, 12] });
