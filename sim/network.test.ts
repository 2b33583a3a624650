import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Sim } from './sim.ts';
import type { Message } from './network.ts';

/** A sender that sends numbered packets at the given times, and a receiver that records arrivals. */
function pair(seed: number, sendTimes: number[], latency = { minMs: 0, maxMs: 30 }) {
  const sim = new Sim({ seed, network: { latency } });
  const arrivals: { n: number; atMs: number }[] = [];
  sim.addNode('a');
  sim.addNode('b', (host) =>
    host.onMessage((m: Message) => arrivals.push({ n: m.payload as number, atMs: sim.nowMs })),
  );
  [...sendTimes].sort((x, y) => x - y).forEach((t, n) => sim.at(t, 'send', () => sim.host('a').send('b', n)));
  return { sim, arrivals };
}

const sendTimes = fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 60 });
const seed = fc.integer({ min: 0, max: 1_000_000 });

function assertInOrder(arrivals: { n: number }[]): void {
  for (let i = 1; i < arrivals.length; i++) {
    assert.ok(
      arrivals[i - 1]!.n < arrivals[i]!.n,
      `packet ${arrivals[i - 1]!.n} arrived before ${arrivals[i]!.n}... out of order`,
    );
  }
}

describe('network', () => {
  it('keeps every link FIFO under random latencies', async () => {
    await fc.assert(
      fc.asyncProperty(seed, sendTimes, async (s, times) => {
        const { sim, arrivals } = pair(s, times);
        await sim.run();
        assert.deepEqual(
          arrivals.map((a) => a.n),
          times.map((_, n) => n),
        );
      }),
    );
  });

  it('drop: loses exactly the packets that would arrive while the link is cut', async () => {
    await fc.assert(
      fc.asyncProperty(
        seed,
        sendTimes,
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 100 }),
        async (s, times, cutAt, forMs) => {
          const { sim, arrivals } = pair(s, times);
          sim.at(cutAt, 'cut', () => sim.partition('a', 'b', { mode: 'drop', oneWay: true }));
          sim.at(cutAt + forMs, 'heal', () => sim.heal('a', 'b', { oneWay: true }));
          await sim.run();
          assertInOrder(arrivals);
          for (const a of arrivals)
            assert.ok(a.atMs <= cutAt || a.atMs >= cutAt + forMs, `packet ${a.n} arrived at ${a.atMs}, inside the cut`);
          const { sent, delivered, dropped } = sim.network.stats;
          assert.equal(sent, delivered + dropped);
          assert.equal(delivered, arrivals.length);
        },
      ),
    );
  });

  it('hold: delivers every packet, in order, those caught by the cut at the moment it heals', async () => {
    await fc.assert(
      fc.asyncProperty(
        seed,
        sendTimes,
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 100 }),
        async (s, times, holdAt, forMs) => {
          const healAt = holdAt + forMs;
          const { sim, arrivals } = pair(s, times);
          sim.at(holdAt, 'hold', () => sim.partition('a', 'b', { mode: 'hold', oneWay: true }));
          sim.at(healAt, 'heal', () => sim.heal('a', 'b', { oneWay: true }));
          await sim.run();
          assert.deepEqual(
            arrivals.map((a) => a.n),
            times.map((_, n) => n),
          );
          for (const a of arrivals)
            assert.ok(a.atMs <= holdAt || a.atMs >= healAt, `packet ${a.n} arrived at ${a.atMs}, inside the hold`);
          assert.ok(
            arrivals.filter((a) => a.atMs === healAt).length >= sim.network.stats.held,
            'a held packet arrived later than the heal',
          );
        },
      ),
    );
  });

  it('a held packet flushed at heal still arrives before a later packet due at that same instant', async () => {
    const { sim, arrivals } = pair(1, [], { minMs: 10, maxMs: 10 });
    sim.at(5, 'hold', () => sim.partition('a', 'b', { mode: 'hold', oneWay: true }));
    sim.at(20, 'heal', () => sim.heal('a', 'b', { oneWay: true }));
    sim.at(0, 'send', () => sim.host('a').send('b', 0));
    sim.at(10, 'send', () => sim.host('a').send('b', 1));
    await sim.run();
    assert.deepEqual(arrivals, [
      { n: 0, atMs: 20 },
      { n: 1, atMs: 20 },
    ]);
  });

  it('a held packet addressed to a node that crashed meanwhile is lost, not given to its next incarnation', async () => {
    const { sim, arrivals } = pair(1, [0], { minMs: 10, maxMs: 10 });
    sim.at(1, 'hold', () => sim.partition('a', 'b', { mode: 'hold', oneWay: true }));
    sim.at(15, 'crash', () => sim.crash('b'));
    sim.at(16, 'restart', () => sim.restart('b', { persist: false }));
    sim.at(20, 'heal', () => sim.heal('a', 'b', { oneWay: true }));
    await sim.run();
    assert.deepEqual(arrivals, []);
    assert.equal(sim.network.stats.lost, 1);
  });

  it('catches packets already in flight when a partition starts', async () => {
    const { sim, arrivals } = pair(1, [0], { minMs: 10, maxMs: 10 });
    sim.at(5, 'cut', () => sim.partition('a', 'b', { mode: 'drop' }));
    await sim.run();
    assert.deepEqual(arrivals, []);
    assert.equal(sim.network.stats.dropped, 1);
  });

  it('a partition cuts only the directions it names', async () => {
    const sim = new Sim({ seed: 1 });
    const got: string[] = [];
    sim.addNode('a', (host) => host.onMessage((m) => got.push(`a<-${m.from}`)));
    sim.addNode('b', (host) => host.onMessage((m) => got.push(`b<-${m.from}`)));
    sim.partition('a', 'b', { oneWay: true });
    sim.at(1, 'send', () => {
      sim.host('a').send('b', 1);
      sim.host('b').send('a', 2);
    });
    await sim.run();
    assert.deepEqual(got, ['a<-b']);
    assert.equal(sim.network.state('a', 'b'), 'partitioned');
    assert.equal(sim.network.state('b', 'a'), 'healthy');
  });

  it('loses packets at roughly the configured probability', async () => {
    const sim = new Sim({ seed: 3, network: { lossProbability: 0.25 } });
    let received = 0;
    sim.addNode('a');
    sim.addNode('b', (host) => host.onMessage(() => received++));
    for (let i = 0; i < 4000; i++) sim.at(i, 'send', () => sim.host('a').send('b', i));
    await sim.run();
    assert.equal(sim.network.stats.lost + received, 4000);
    assert.ok(received > 2800 && received < 3200, `received ${received} of 4000 at 25% loss`);
  });

  it('adds injected delay on top of drawn latency', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 2, maxMs: 2 } } });
    const at: number[] = [];
    sim.addNode('a');
    sim.addNode('b', (host) => host.onMessage(() => at.push(sim.nowMs)));
    sim.network.configure('a', 'b', { extraDelayMs: 100 });
    sim.at(0, 'send', () => sim.host('a').send('b', 0));
    await sim.run();
    assert.deepEqual(at, [102]);
  });

  it('refuses self links, unknown nodes and impossible link settings', () => {
    const sim = new Sim({ seed: 1 });
    const a = sim.addNode('a');
    assert.throws(() => a.send('a', 1), /no link from node 'a' to itself/);
    assert.throws(() => a.send('nobody', 1), /unknown node 'nobody' \(known nodes: a\)/);
    sim.addNode('b');
    assert.throws(
      () => sim.network.configure('a', 'b', { latency: { minMs: 5, maxMs: 1 } }),
      /latency.maxMs \(1\) must be >= latency.minMs \(5\)/,
    );
    assert.throws(
      () => sim.network.configure('a', 'b', { lossProbability: 2 }),
      /lossProbability must be a probability in \[0, 1\], got 2/,
    );
    assert.throws(
      () => sim.network.partition('a', 'b', 'sideways' as never),
      /partition mode must be 'drop' or 'hold'/,
    );
  });
});

describe('network heal', () => {
  it('healAll repairs partitions and takes back injected delay and loss', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 2, maxMs: 2 } } });
    const at: number[] = [];
    sim.addNode('a');
    sim.addNode('b', (host) => host.onMessage(() => at.push(sim.nowMs)));
    sim.network.configure('a', 'b', { extraDelayMs: 100, lossProbability: 1 });
    sim.partition('a', 'b');
    sim.healAll();
    sim.at(0, 'send', () => sim.host('a').send('b', 0));
    await sim.run();
    assert.deepEqual(at, [2]);
  });
});
