import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Future } from '../../../sim/future.ts';
import type { Host } from '../../../sim/node.ts';
import { Sim } from '../../../sim/sim.ts';
import { LockTable } from './lock-table.ts';
import { DbServer, type Dialect } from './server.ts';
import { sessionKeepalive } from './settings.ts';
import { SimSessionPort } from './sim-port.ts';

describe('lock table', () => {
  const table = () => {
    const grants: string[] = [];
    return { locks: new LockTable((session, key) => grants.push(`${session}:${key}`)), grants };
  };

  it('hands a released lock to its waiters first come first served', () => {
    const { locks, grants } = table();
    assert.equal(locks.tryAcquire('a', 'k'), true);
    assert.equal(locks.tryAcquire('b', 'k'), false);
    locks.wait('b', 'k');
    locks.wait('c', 'k');
    assert.equal(locks.release('a', 'k'), 'released');
    assert.deepEqual(grants, ['b:k']);
    assert.equal(locks.holder('k'), 'b');
    assert.equal(locks.release('b', 'k'), 'released');
    assert.deepEqual(grants, ['b:k', 'c:k']);
    assert.equal(locks.release('c', 'k'), 'released');
    assert.equal(locks.holder('k'), null);
  });

  it('is reentrant: a lock taken twice is free again only after two releases', () => {
    const { locks } = table();
    assert.equal(locks.tryAcquire('a', 'k'), true);
    assert.equal(locks.tryAcquire('a', 'k'), true);
    assert.equal(locks.release('a', 'k'), 'released');
    assert.equal(locks.holder('k'), 'a');
    assert.equal(locks.release('a', 'k'), 'released');
    assert.equal(locks.release('a', 'k'), 'free');
  });

  it('tells a release by a non-holder from a release of a free lock, and changes nothing', () => {
    const { locks } = table();
    assert.equal(locks.release('b', 'k'), 'free');
    locks.tryAcquire('a', 'k');
    assert.equal(locks.release('b', 'k'), 'held-by-another');
    assert.equal(locks.holder('k'), 'a');
  });

  it('ends a session by letting go of every lock it holds, however often taken, and of its wait', () => {
    const { locks, grants } = table();
    locks.tryAcquire('a', 'k1');
    locks.tryAcquire('a', 'k1');
    locks.tryAcquire('a', 'k2');
    locks.tryAcquire('b', 'k3');
    locks.wait('a', 'k3');
    locks.wait('b', 'k1');
    locks.wait('c', 'k2');
    locks.endSession('a');
    assert.deepEqual(grants, ['b:k1', 'c:k2']);
    assert.deepEqual(locks.heldBy('a'), []);
    assert.deepEqual(locks.waiters('k3'), []);
  });

  it('forgets a cancelled wait, so a later release skips it', () => {
    const { locks, grants } = table();
    locks.tryAcquire('a', 'k');
    locks.wait('b', 'k');
    locks.wait('c', 'k');
    locks.cancelWait('b');
    locks.release('a', 'k');
    assert.deepEqual(grants, ['c:k']);
  });

  it('refuses a second wait of one session: a session runs one statement at a time', () => {
    const { locks } = table();
    locks.tryAcquire('a', 'k1');
    locks.tryAcquire('a', 'k2');
    locks.wait('b', 'k1');
    assert.throws(() => locks.wait('b', 'k2'), /already waits/);
  });
});

/** A dialect with nothing but a lock: `timeoutMs` absent waits for ever. */
const TEST_DIALECT: Dialect = {
  maxConnections: 3,
  tooManyConnections: 'too many connections',
  execute(op, body, session, locks) {
    const key = String(body['key']);
    if (op === 'lock')
      return {
        kind: 'lock',
        key,
        timeoutMs: (body['timeoutMs'] as number | undefined) ?? null,
        granted: 'granted',
        timedOut: 'timed out',
      };
    if (op === 'unlock') return { kind: 'reply', value: locks.release(session, key) };
    return { kind: 'error', message: `unknown statement '${op}'` };
  },
};

class TestPort extends SimSessionPort {
  constructor(host: Host) {
    super(host, 'db', { queryTimeoutMs: 250, blockingTimeoutMs: 10_000 });
  }

  lock(key: string, timeoutMs?: number): Future<string> {
    return this.call('lock', { key, timeoutMs }, this.timeouts.blockingTimeoutMs);
  }

  unlock(key: string): Future<string> {
    return this.call('unlock', { key }, this.timeouts.queryTimeoutMs);
  }
}

/** A database node running the test dialect with a 1000 ms keepalive, and the server it runs. */
function database(sim: Sim): { server: () => DbServer } {
  let server: DbServer | null = null;
  sim.addNode('db', (host) => {
    server = new DbServer(host, TEST_DIALECT, sessionKeepalive(1000));
  });
  return { server: () => server! };
}

describe('database sessions over the network', () => {
  it('three sessions waiting for one lock get it in the order they asked, as each holder ends or unlocks', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 3 } } });
    database(sim);
    const order: string[] = [];
    const client = (id: string, startMs: number, done: (port: TestPort) => void | Promise<void>) =>
      sim.addNode(id, (host) =>
        host.spawn(id, async () => {
          await host.sleep(startMs);
          const port = new TestPort(host);
          assert.equal(await port.lock('k'), 'granted');
          order.push(`${id}@${Math.round(sim.nowMs)}`);
          await host.sleep(100);
          await done(port);
        }),
      );
    client('c1', 0, (port) => port.disconnect());
    client('c2', 20, async (port) => void (await port.unlock('k')));
    client('c3', 10, async (port) => void (await port.unlock('k')));
    await sim.run({ untilMs: 2000 });
    assert.deepEqual(
      order.map((o) => o.split('@')[0]),
      ['c1', 'c3', 'c2'],
    );
  });

  it('a lock wait with a timeout answers once it runs out, and the session goes on to its next statement', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 1 } } });
    database(sim);
    const holder = new TestPort(sim.addNode('c1'));
    const seen: unknown[] = [];
    sim.addNode('c2', (host) =>
      host.spawn('c2', async () => {
        assert.equal(await holder.lock('k'), 'granted');
        const port = new TestPort(host);
        const waiting = port.lock('k', 500);
        const next = port.lock('other');
        seen.push(await waiting, sim.nowMs, await next);
      }),
    );
    await sim.run({ untilMs: 2000 });
    assert.deepEqual(seen, ['timed out', 504, 'granted']);
  });

  it('a connection from before a server restart, whose reset was lost, finds no session: the port reports ConnectionLost and opens a new one', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 3 } } });
    database(sim);
    const seen: string[] = [];
    sim.addNode('c1', (host) =>
      host.spawn('c1', async () => {
        const port = new TestPort(host);
        await port.lock('k');
        const before = port.session();
        await host.sleep(1000);
        try {
          await port.ping();
          seen.push('answered');
        } catch (error) {
          seen.push((error as Error).name);
        }
        seen.push(port.session() === before ? 'same session' : 'new session');
        await port.ping();
        seen.push('answered');
      }),
    );
    sim.at(100, 'cut', () => sim.partition('c1', 'db'));
    sim.at(200, 'crash', () => sim.crash('db'));
    sim.at(300, 'restart', () => sim.restart('db', { persist: true }));
    sim.at(400, 'heal', () => sim.heal('c1', 'db'));
    await sim.run({ untilMs: 3000 });
    assert.deepEqual(seen, ['ConnectionLost', 'new session', 'answered']);
  });

  it('a newer connection from a client ends its older session, whose reset was lost, and frees its locks', async () => {
    const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 3 } } });
    const db = database(sim);
    let takenAtMs = -1;
    let reopenedAtMs = -1;
    sim.addNode('c1', (host) =>
      host.spawn('c1', async () => {
        const port = new TestPort(host);
        await port.lock('k');
        await host.sleep(200);
        port.disconnect();
        await host.sleep(300);
        await port.ping();
        reopenedAtMs = sim.nowMs;
      }),
    );
    sim.addNode('c2', (host) =>
      host.spawn('c2', async () => {
        await host.sleep(50);
        assert.equal(await new TestPort(host).lock('k'), 'granted');
        takenAtMs = sim.nowMs;
      }),
    );
    sim.at(100, 'cut', () => sim.partition('c1', 'db'));
    sim.at(400, 'heal', () => sim.heal('c1', 'db'));
    await sim.run({ untilMs: 3000 });
    // The newer connection ends the old session at once, before any keepalive probe could.
    assert.ok(
      reopenedAtMs > 500 && takenAtMs >= reopenedAtMs - 3 && takenAtMs < reopenedAtMs + 5,
      `reopened at ${reopenedAtMs}ms, lock taken at ${takenAtMs}ms`,
    );
    assert.equal(db.server().sessionCount, 2);
  });

  it('refuses a session beyond max_connections', async () => {
    const sim = new Sim({ seed: 1 });
    database(sim);
    const seen: string[] = [];
    for (const id of ['c1', 'c2', 'c3', 'c4']) {
      sim.addNode(id, (host) =>
        host.spawn(id, async () => {
          await host.sleep(id === 'c4' ? 10 : 0);
          try {
            await new TestPort(host).ping();
            seen.push(`${id} ok`);
          } catch (error) {
            seen.push(`${id} ${(error as Error).message}`);
          }
        }),
      );
    }
    await sim.run({ untilMs: 1000 });
    assert.deepEqual(seen.sort(), ['c1 ok', 'c2 ok', 'c3 ok', 'c4 too many connections']);
  });
});
