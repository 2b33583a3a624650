import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Host } from '../../sim/node.ts';
import { Sim } from '../../sim/sim.ts';
import { scheduleRandomFaults } from '../../sim/random-faults.ts';
import { runConformanceInSim } from '../conformance.ts';
import { electionSuite } from '../../test/suites/election-suite.ts';
import { lockSuite, run } from '../../test/suites/lock-suite.ts';
import { RecipeConfigError } from '../recipe.ts';
import { serverIds } from '../system.ts';
import { zookeeperConformance } from './conformance.ts';
import { ZooKeeperElection } from './election.ts';
import { zookeeper, zookeeperLockOptions } from './index.ts';
import { ZooKeeperLock } from './lock.ts';
import type { SessionState } from './port.ts';
import { ensembleLeader, serverOn } from './server.ts';
import { SessionTracker } from './model/sessions.ts';
import { SimZooKeeperPort } from './sim-port.ts';
import { DataTree } from './model/tree.ts';
import { WatchTable } from './model/watches.ts';

const T = 1000;
const CONFIG = { ttlMs: T, fencing: true, acquireTimeoutMs: 4 * T, name: 'lock' };
const SERVERS = serverIds(3);

/** A 3-server ensemble, and a way to run client code with its own session. */
function ensemble(seed: number) {
  const sim = new Sim({ seed, network: { latency: { minMs: 1, maxMs: 3 } } });
  SERVERS.forEach((id, i) => sim.addNode(id, (host) => zookeeper.bootServer(host, i + 1, SERVERS, CONFIG)));
  const client = (id: string, body: (port: SimZooKeeperPort, host: Host) => Promise<void>) => {
    const states: { atMs: number; state: SessionState }[] = [];
    sim.addNode(id, (host) => {
      const port = new SimZooKeeperPort(host, SERVERS, T);
      port.onStateChange((state) => states.push({ atMs: sim.nowMs, state }));
      host.spawn(id, () => body(port, host));
    });
    return states;
  };
  const leader = () => ensembleLeader(SERVERS, (id) => sim.host(id));
  return { sim, client, leader };
}

describe('zookeeper port conformance', () => runConformanceInSim(zookeeper, zookeeperConformance));

describe('zookeeper server model', () => {
  it('a wall-clock jump on every server expires no session: the leader times sessions by its monotonic clock', async () => {
    const { sim, client } = ensemble(1);
    let survived: boolean | undefined;
    const states = client('c1', async (port, host) => {
      await port.create('/j', 'ephemeral');
      await host.sleep(4 * T);
      survived = (await port.exists('/j')) !== null;
    });
    sim.at(2000, 'jump', () => SERVERS.forEach((id) => sim.jumpClock(id, 3_600_000)));
    await sim.run({ untilMs: 10_000 });
    assert.equal(survived, true);
    assert.deepEqual(
      states.map((s) => s.state),
      ['connected'],
    );
  });

  it('a session silent past its timeout expires on the leader and its ephemerals vanish; the client knew it was cut off first', async () => {
    const { sim, client } = ensemble(2);
    let createdAtMs = -1;
    let vanishedAtMs = -1;
    const states = client('c1', async (port) => {
      await port.create('/e', 'ephemeral');
      createdAtMs = sim.nowMs;
      for (const server of SERVERS) sim.partition('c1', server);
      sim.after(3 * T, 'heal', () => SERVERS.forEach((server) => sim.heal('c1', server)));
    });
    client('c2', async (port, host) => {
      while (createdAtMs < 0 || (await port.exists('/e')) !== null) await host.sleep(10);
      vanishedAtMs = sim.nowMs;
    });
    await sim.run({ untilMs: 10_000 });
    const lived = vanishedAtMs - createdAtMs;
    // The leader last heard of the session no earlier than the create, and checks once a tick (T/10).
    assert.ok(lived >= 0.9 * T && lived <= 1.4 * T, `the ephemeral lived ${lived}ms after its session went silent`);
    assert.deepEqual(
      states.map((s) => s.state),
      ['connected', 'disconnected', 'expired', 'connected'],
    );
    assert.ok(states[1]!.atMs < vanishedAtMs, 'the client noticed the silence only after its session had expired');
  });

  it('a client that loses its server reconnects to another within the timeout and keeps its session and ephemerals', async () => {
    const { sim, client } = ensemble(3);
    let before: { server: string | null; session: number | null } | undefined;
    let after: { server: string | null; session: number | null } | undefined;
    const states = client('c1', async (port, host) => {
      await port.create('/r', 'ephemeral');
      before = { server: port.connectedTo, session: port.sessionId };
      sim.partition('c1', before.server!);
      await host.sleep(2 * T);
      after = { server: port.connectedTo, session: port.sessionId };
      assert.notEqual(await port.exists('/r'), null);
    });
    await sim.run({ untilMs: 10_000 });
    assert.ok(
      after !== undefined && after.server !== null && after.server !== before!.server,
      JSON.stringify({ before, after }),
    );
    assert.equal(after.session, before!.session);
    assert.deepEqual(
      states.map((s) => s.state),
      ['connected', 'disconnected', 'connected'],
    );
    // Disconnected after 2/3 of the timeout without an answer, and back well before the session could expire.
    assert.ok(states[2]!.atMs - states[1]!.atMs < T / 3, `reconnecting took ${states[2]!.atMs - states[1]!.atMs}ms`);
  });

  it('a leader crash elects a new leader under a higher epoch, and every session survives it', async () => {
    const { sim, client, leader } = ensemble(4);
    const sessions = new Map<string, number | null>();
    const alive = new Map<string, boolean>();
    const clients = ['c1', 'c2', 'c3'];
    const states = clients.map((id) =>
      client(id, async (port, host) => {
        await port.create(`/${id}`, 'ephemeral');
        sessions.set(id, port.sessionId);
        await host.sleep(3000);
        alive.set(id, sessions.get(id) === port.sessionId && (await port.exists(`/${id}`)) !== null);
      }),
    );
    let old: { id: string; epoch: number } | undefined;
    sim.at(1500, 'crash leader', () => {
      const id = leader()!;
      old = { id, epoch: serverOn(sim.host(id))!.epoch };
      sim.crash(id);
    });
    await sim.run({ untilMs: 6000 });
    const now = leader();
    assert.ok(now !== null && now !== old!.id, `leader before ${old!.id}, after ${now}`);
    assert.ok(serverOn(sim.host(now))!.epoch > old!.epoch);
    assert.deepEqual(Object.fromEntries(alive), { c1: true, c2: true, c3: true });
    for (const s of states) assert.ok(!s.some((x) => x.state === 'expired'), JSON.stringify(s));
  });

  it('one seed replays the same run, event for event, faults and all', async () => {
    const faults = (sim: Sim) => {
      sim.at(3000, 'pause', () => sim.pause('c1'));
      sim.at(5000, 'resume', () => sim.resume('c1'));
      sim.at(7000, 'crash', () => sim.crash('server-1'));
      sim.at(8000, 'restart', () => sim.restart('server-1', { persist: true }));
    };
    const hashes = [];
    for (const seed of [3, 3, 4])
      hashes.push((await run(zookeeper, seed, true, faults)).result.sim.summary().traceHash);
    assert.equal(hashes[0], hashes[1]);
    assert.notEqual(hashes[0], hashes[2]);
  });

  it('sequence numbers come from the parent’s child count, deletions included; closing a session deletes exactly its ephemerals', () => {
    const tree = new DataTree();
    const server = 'server-1';
    const a = tree.apply({ type: 'create-session', server, timeoutMs: T }, 1).openedSession!.id;
    const b = tree.apply({ type: 'create-session', server, timeoutMs: T }, 2).openedSession!.id;
    tree.apply({ type: 'create', server, session: a, path: '/q', mode: 'persistent' }, 3);
    const first = tree.apply(
      { type: 'create', server, session: a, path: '/q/n-', mode: 'ephemeral-sequential' },
      4,
    ).reply;
    tree.apply({ type: 'delete', server, session: a, path: '/q/n-0000000000' }, 5);
    const second = tree.apply(
      { type: 'create', server, session: b, path: '/q/n-', mode: 'ephemeral-sequential' },
      6,
    ).reply;
    tree.apply({ type: 'create', server, session: a, path: '/q/m', mode: 'ephemeral' }, 7);
    assert.deepEqual(first, { ok: true, value: { path: '/q/n-0000000000', czxid: 4 } });
    assert.deepEqual(second, { ok: true, value: { path: '/q/n-0000000002', czxid: 6 } });
    const closed = tree.apply({ type: 'close-session', server: null, session: a }, 8);
    assert.deepEqual(closed.deleted, ['/q/m']);
    assert.deepEqual(tree.apply({ type: 'children', server, session: b, path: '/q' }, 9).reply, {
      ok: true,
      value: ['n-0000000002'],
    });
    assert.equal(
      tree.apply({ type: 'exists', server, session: a, path: '/q' }, 10).reply.ok,
      false,
      'a closed session can still read',
    );
    assert.deepEqual(
      [tree.sessionStatus(a), tree.sessionStatus(b), tree.sessionStatus(99)],
      ['closed', 'live', 'unknown'],
    );
  });

  it('once a session resumes through another server, requests still coming through the old one are refused', () => {
    const tree = new DataTree();
    const session = tree.apply({ type: 'create-session', server: 'server-1', timeoutMs: T }, 1).openedSession!.id;
    assert.deepEqual(tree.apply({ type: 'resume-session', server: 'server-2', session }, 2).reply, {
      ok: true,
      value: { session },
    });
    const late = tree.apply({ type: 'create', server: 'server-1', session, path: '/late', mode: 'ephemeral' }, 3).reply;
    assert.equal(late.ok ? 'created' : late.code, 'SessionMoved');
    assert.equal(
      tree.apply({ type: 'create', server: 'server-2', session, path: '/late', mode: 'ephemeral' }, 4).reply.ok,
      true,
    );
    tree.apply({ type: 'close-session', server: null, session }, 5);
    const resumed = tree.apply({ type: 'resume-session', server: 'server-3', session }, 6).reply;
    assert.equal(resumed.ok ? 'resumed' : resumed.code, 'SessionExpired');
  });

  it('the leader’s tracker expires a session once, a timeout after its last touch; a closing session cannot be saved', () => {
    let now = 0;
    const tracker = new SessionTracker(() => now);
    tracker.reset([[7, T]]);
    now = 900;
    assert.equal(tracker.touch(7), true);
    now = 1800;
    assert.deepEqual(tracker.expire(), []);
    now = 1900;
    assert.deepEqual(tracker.expire(), [7]);
    assert.deepEqual(tracker.expire(), []);
    assert.equal(tracker.touch(7), false);
    assert.equal(tracker.verdict(7), 'closing');
    tracker.reset([[7, T]]);
    assert.equal(tracker.verdict(7), 'live', 'a new leader starts every session afresh');
  });

  it('a server’s watches are one-shot, one per connection and path, and go with their connection', () => {
    const watches = new WatchTable();
    const c1 = { client: 'c1', conn: '0.0' };
    const c2 = { client: 'c2', conn: '0.0' };
    watches.add('/a', c1);
    watches.add('/a', c1);
    watches.add('/a', c2);
    watches.add('/b', c2);
    assert.deepEqual(watches.take('/a'), [c1, c2]);
    assert.deepEqual(watches.take('/a'), []);
    watches.dropConnection(c2);
    assert.deepEqual(watches.take('/b'), []);
    assert.equal(watches.size, 0);
  });
});

describe('zookeeper recipes', () => {
  it('refuse impossible parameters, naming them', () => {
    const sim = new Sim({ seed: 1 });
    const host = sim.addNode('c1');
    assert.throws(
      () => new SimZooKeeperPort(host, SERVERS, 0),
      new RecipeConfigError('sessionTimeoutMs must be a finite number > 0, got 0'),
    );
    const port = new SimZooKeeperPort(host, SERVERS, T);
    const options = zookeeperLockOptions(CONFIG);
    assert.throws(
      () => new ZooKeeperLock(host, port, { ...options, ttlMs: 0 }),
      /ttlMs must be a finite number > 0, got 0/,
    );
    assert.throws(
      () => new ZooKeeperLock(host, port, { ...options, retryDelayMs: -1 }),
      /retryDelayMs must be a finite number > 0, got -1/,
    );
    assert.throws(
      () => new ZooKeeperLock(host, port, { ...options, acquireTimeoutMs: Number.NaN }),
      /acquireTimeoutMs must be a finite number > 0/,
    );
    assert.throws(
      () => new ZooKeeperLock(host, port, { ...options, name: '/lock' }),
      /name must be a path of non-empty segments/,
    );
  });

  it('a leader cut off from the ensemble stops believing it leads before its session can expire, and for good; another is elected', async () => {
    const { sim, client } = ensemble(5);
    const beliefs: { atMs: number; leading: boolean }[] = [];
    let cutAtMs = -1;
    let otherWonAtMs = -1;
    client('c1', async (port, host) => {
      const leadership = await new ZooKeeperElection(host, port, zookeeperLockOptions(CONFIG)).campaign();
      assert.ok(leadership !== null);
      cutAtMs = sim.nowMs;
      for (const server of SERVERS) sim.partition('c1', server);
      sim.after(2 * T, 'heal', () => SERVERS.forEach((server) => sim.heal('c1', server)));
      for (let i = 0; i < 40; i++) {
        beliefs.push({ atMs: sim.nowMs, leading: leadership.isLeader() });
        await host.sleep(T / 10);
      }
    });
    client('c2', async (port, host) => {
      await host.sleep(T);
      const leadership = await new ZooKeeperElection(host, port, zookeeperLockOptions(CONFIG)).campaign();
      otherWonAtMs = leadership === null ? -1 : sim.nowMs;
    });
    await sim.run({ untilMs: 10_000 });
    const stoppedAtMs = beliefs.find((b) => !b.leading)!.atMs;
    assert.ok(stoppedAtMs - cutAtMs <= T, `still believed it led ${stoppedAtMs - cutAtMs}ms into the partition`);
    assert.ok(
      beliefs.filter((b) => b.atMs >= stoppedAtMs).every((b) => !b.leading),
      'believed it led again after the partition healed',
    );
    assert.ok(otherWonAtMs > stoppedAtMs, `c2 won at ${otherWonAtMs}ms, c1 stopped believing at ${stoppedAtMs}ms`);
  });

  it('a leader paused past its session timeout learns on resuming that its session expired, and never believes it leads again', async () => {
    const { sim, client } = ensemble(6);
    const beliefs: boolean[] = [];
    client('c1', async (port, host) => {
      const leadership = await new ZooKeeperElection(host, port, zookeeperLockOptions(CONFIG)).campaign();
      assert.ok(leadership !== null);
      sim.pause('c1');
      sim.after(2 * T, 'resume', () => sim.resume('c1'));
      await host.sleep(T / 2);
      beliefs.push(leadership.isLeader());
      await host.sleep(2 * T);
      beliefs.push(leadership.isLeader(), port.state() === 'connected');
    });
    await sim.run({ untilMs: 10_000 });
    assert.deepEqual(beliefs, [false, false, true]);
  });
});

describe('zookeeper lock under random faults', () => {
  const nodes = [...SERVERS, 'c1', 'c2', 'c3'];
  const fault = fc.record({
    at: fc.integer({ min: 0, max: 12_000 }),
    forMs: fc.integer({ min: 50, max: 2000 }),
    kind: fc.constantFrom('crash' as const, 'pause' as const, 'partition' as const, 'hold' as const, 'jump' as const),
    target: fc.constantFrom(...nodes),
    peer: fc.constantFrom(...nodes),
  });

  it('servers crash and restart, anything pauses, links drop or hold, clocks jump: fenced, the lock stays safe, and it is taken again once the faults end', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fault, { maxLength: 8 }),
        async (seed, faults) => {
          const { result, safety } = await run(zookeeper, seed, true, (sim) => {
            // In this test only running servers crash; clients pause and are cut off.
            scheduleRandomFaults(sim, faults, (node) => node.id.startsWith('server') && node.state === 'up');
          });
          assert.equal(safety.verdict, 'safe', JSON.stringify(safety));
          const late = result.history.ops.filter((op) => op.f === 'acquire' && op.type === 'ok' && op.timeMs > 15_000);
          assert.ok(late.length > 0, 'nobody took the lock after the faults ended');
        },
      ),
      { numRuns: 15 },
    );
  });
});

// A crashed holder's session lives a timeout past its last request, just before the crash; then
// the leader's check (once a tick), the close through the log and the waiter's next look take up to ~0.3 T.
lockSuite(zookeeper, { pauseBeyondTtl: 'unsafe', partitionBeyondTtl: 'unsafe', crashRecoveryMs: [900, 1400] });
// A crashed leader pinged at most T/3 before the crash, so its session can end 2/3 T after it, or a full T plus the same ~0.3 T.
electionSuite(zookeeper, { pauseBeyondTtl: 'unsafe', failoverMs: [600, 1400] });
