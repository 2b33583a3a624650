import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Sim } from '../../../sim/sim.ts';
import type { Host } from '../../../sim/node.ts';
import { scheduleRandomFaults } from '../../../sim/random-faults.ts';
import { RaftNode, type RaftOptions } from './raft.ts';

const SERVERS = ['server-1', 'server-2', 'server-3'];
const OPTIONS: RaftOptions = {
  servers: SERVERS,
  electionTimeoutMs: [150, 300],
  heartbeatMs: 50,
  forwardTimeoutMs: 500,
};

/** Three Raft servers whose state machine appends each command to a list; clients submit through any server. */
function cluster(seed: number) {
  const sim = new Sim({ seed, network: { latency: { minMs: 1, maxMs: 5 } } });
  const applied = new Map<string, number[]>();
  const nodes = new Map<string, RaftNode<number, number>>();
  const leaders: { term: number; id: string }[] = [];
  for (const id of SERVERS) {
    sim.addNode(id, (host: Host) => {
      const list: number[] = [];
      applied.set(id, list);
      const raft = new RaftNode<number, number>(host, OPTIONS, {
        apply: (command) => (list.push(command), list.length),
      });
      raft.onLeadership((leading) => leading && leaders.push({ term: raft.term, id }));
      host.onMessage((m) => raft.handle(m));
      nodes.set(id, raft);
    });
  }
  return { sim, applied, nodes, leaders };
}

/** A submitter on each server that keeps proposing numbered commands; returns what was acknowledged. */
function submitters(sim: Sim, nodes: Map<string, RaftNode<number, number>>, stopAtMs: number): number[] {
  const acknowledged: number[] = [];
  let next = 0;
  sim.addNode('driver', (host) =>
    host.spawn('submit', async () => {
      while (sim.nowMs < stopAtMs) {
        const command = next++;
        const via = host.rng.pick(SERVERS);
        const raft = nodes.get(via);
        try {
          if (raft !== undefined && !sim.node(via).crashed && !sim.node(via).paused) {
            await host.deadline(() => raft.submit(command), 1000);
            acknowledged.push(command);
          }
        } catch {
          // Not committed, or unknown: that is allowed, losing an acknowledged one is not.
        }
        await host.sleep(20);
      }
    }),
  );
  return acknowledged;
}

const isPrefix = (a: number[], b: number[]) => a.every((x, i) => b[i] === x);

describe('quorum log (Raft)', () => {
  it('elects one leader and commits commands submitted through any server', async () => {
    const { sim, applied, nodes } = cluster(1);
    const acknowledged = submitters(sim, nodes, 3000);
    await sim.run({ untilMs: 4000 });
    assert.ok(acknowledged.length > 50, `only ${acknowledged.length} commits`);
    for (const id of SERVERS)
      assert.deepEqual(
        applied.get(id)!.slice(0, acknowledged.length),
        applied.get('server-1')!.slice(0, acknowledged.length),
      );
    assert.deepEqual([...nodes.values()].filter((n) => n.isLeader).length, 1);
  });

  it('a leader isolated in a minority steps down by its own clock, and the majority elects another', async () => {
    const { sim, nodes } = cluster(2);
    await sim.run({ untilMs: 2000 });
    const old = [...nodes.entries()].find(([, n]) => n.isLeader)![0];
    for (const other of SERVERS.filter((id) => id !== old)) sim.partition(old, other);
    await sim.run({ untilMs: 3000 });
    assert.equal(nodes.get(old)!.isLeader, false, 'the isolated leader still believes it leads');
    const now = [...nodes.entries()].filter(([, n]) => n.isLeader).map(([id]) => id);
    assert.equal(now.length, 1);
    assert.notEqual(now[0], old);
  });

  it('under random crashes, pauses and partitions: one leader per term, applied logs agree, acknowledged commands survive', async () => {
    const fault = fc.record({
      at: fc.integer({ min: 0, max: 8000 }),
      forMs: fc.integer({ min: 50, max: 2000 }),
      kind: fc.constantFrom('crash' as const, 'pause' as const, 'partition' as const, 'hold' as const),
      target: fc.constantFrom(...SERVERS),
      peer: fc.constantFrom(...SERVERS),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fault, { maxLength: 6 }),
        async (seed, faults) => {
          const { sim, applied, nodes, leaders } = cluster(seed);
          const acknowledged = submitters(sim, nodes, 10_000);
          scheduleRandomFaults(sim, faults);
          await sim.run({ untilMs: 11_000 });
          sim.healAll();
          await sim.run({ untilMs: 14_000 });
          const terms = new Map<number, string>();
          for (const { term, id } of leaders) {
            assert.ok(terms.get(term) === undefined || terms.get(term) === id, `two leaders in term ${term}`);
            terms.set(term, id);
          }
          const logs = SERVERS.map((id) => applied.get(id)!);
          for (const a of logs)
            for (const b of logs) assert.ok(isPrefix(a, b) || isPrefix(b, a), 'applied logs diverge');
          const longest = logs.reduce((a, b) => (a.length >= b.length ? a : b));
          for (const command of acknowledged)
            assert.ok(longest.includes(command), `acknowledged command ${command} was lost`);
        },
      ),
      { numRuns: 25 },
    );
  });
});
