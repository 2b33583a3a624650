/**
 * A coordination service paused as a whole, past its clients' leases, while a holder works: real
 * etcd (3.4, SIGSTOP on every member) revokes the holder's lease when it runs again and grants the
 * lock to another client, and real ZooKeeper (3.8) expires the holder's session the same way (seen
 * live). The leader keeps leading after the resume: Raft counts ticks, and a stopped server misses
 * them (see raft.ts). Before, the stopped time counted against the leader's quorum and it stepped
 * down at once; the election that followed gave every lease and session a fresh timeout, and the
 * holder kept its lock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { scenarioSchema } from '../../../scenarios/schema.ts';
import { runScenario } from '../../../runner/run.ts';
import { isGrant } from '../../../runner/history.ts';

const PAUSE_MS = 5000;

const scenario = scenarioSchema.parse({
  name: 'whole-cluster-pause',
  description: 'every server stopped for two and a half leases while the holder works a long critical section',
  clients: 3,
  durationMs: 20_000,
  lock: { ttlMs: 2000, holdMs: 9000, thinkMs: 50 },
  faults: [{ after: { event: 'acquired', nth: 1, waitMs: 500 }, pause: 'servers', forMs: PAUSE_MS }],
});

/**
 * Whether, in this seed, another client was granted the lock within a lease check or two of the
 * resume (etcd's lessor looks every 500 ms) while the first holder still worked. An election at
 * the resume would instead have given the lease a fresh TTL, and the hand-over would come seconds later.
 */
async function handedOverAtResume(system: 'etcd' | 'zookeeper', seed: number): Promise<boolean> {
  const { history, result } = await runScenario({ scenario, system, fencing: false, seed });
  const [first, second] = history.filter(isGrant);
  const resumed = history.find((op) => op.f === 'fault-end');
  assert.ok(
    first !== undefined && resumed !== undefined,
    `${system} seed ${seed}: a grant, then the pause and its end`,
  );
  const underHolder = second !== undefined && second.process !== first.process && second.timeMs < first.timeMs + 9000;
  assert.equal(result.verdict === 'unsafe', underHolder, `${system} seed ${seed}: the verdict follows the hand-over`);
  return underHolder && second.timeMs < resumed.timeMs + 1500;
}

describe('a coordination service paused as a whole', () => {
  it('etcd: the leader revokes the expired lease after the resume and the lock goes to another client', async () => {
    for (let seed = 1; seed <= 5; seed++) assert.ok(await handedOverAtResume('etcd', seed), `seed ${seed}`);
  });

  it('zookeeper: the leader expires the holder session after the resume, in most seeds', async () => {
    let handedOver = 0;
    for (let seed = 1; seed <= 5; seed++) if (await handedOverAtResume('zookeeper', seed)) handedOver++;
    // Before the fix: 0 of 5.
    assert.ok(handedOver >= 4, `${handedOver} of 5 seeds`);
  });
});
