import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Sim } from '../../../sim/sim.ts';
import { ClientEndpoint, ServerEndpoint, type CloseReason } from './endpoint.ts';
import { ConnectionLost } from '../../errors.ts';

/** A server with keepalive, one client that makes one request at `requestAtMs`; returns how the connection ended. */
async function oneRequest(seed: number, requestAtMs: number, idleMs: number, faults?: (sim: Sim) => void) {
  const sim = new Sim({ seed, eventBudget: 20_000, network: { latency: { minMs: 0.3, maxMs: 2.7 } } });
  const closed: { reason: CloseReason; atMs: number }[] = [];
  sim.addNode('server', (host) => {
    new ServerEndpoint(host, (request) => request.reply('ok'), {
      keepalive: { idleMs, intervalMs: idleMs / 3, count: 3 },
      onClosed: (_client, _conn, reason) => closed.push({ reason, atMs: sim.nowMs }),
    });
  });
  let outcome = '';
  sim.addNode('client', (host) =>
    host.spawn('request', async () => {
      await host.sleep(requestAtMs);
      try {
        outcome = await ClientEndpoint.of(host).request<string>('server', 'ping', {}, 1000);
      } catch (error) {
        outcome = (error as Error).name;
      }
    }),
  );
  faults?.(sim);
  await sim.run({ untilMs: requestAtMs + 20 * idleMs });
  return { closed, outcome };
}

describe('simulated connections', () => {
  // Probe intervals (idle/3) stay well above the round trip (at most 5.4 ms here), as any sane keepalive does.
  it('keepalive settles on every timing: a live client stays connected, whatever the float arithmetic of its clock', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 0, max: 5000, noNaN: true }),
        fc.double({ min: 50, max: 3000, noNaN: true }),
        async (seed, at, idle) => {
          const { closed, outcome } = await oneRequest(seed, at, idle);
          assert.equal(outcome, 'ok');
          assert.deepEqual(closed, []);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a paused client keeps its connection; a partitioned one loses it to keepalive after idle + count probes', async () => {
    const paused = await oneRequest(1, 10, 300, (sim) => sim.at(50, 'pause', () => sim.pause('client')));
    assert.deepEqual(paused.closed, []);
    const cut = await oneRequest(1, 10, 300, (sim) => sim.at(50, 'cut', () => sim.partition('client', 'server')));
    assert.equal(cut.closed.length, 1);
    assert.equal(cut.closed[0]!.reason, 'keepalive');
    // Last heard at ~11 ms; idle 300, then 3 probes 100 ms apart and one more interval: ~711 ms.
    assert.ok(cut.closed[0]!.atMs > 600 && cut.closed[0]!.atMs < 720, `closed at ${cut.closed[0]!.atMs}`);
  });

  it('a crashed client resets its connection at once; a request to a crashed server fails with ConnectionLost', async () => {
    const crashed = await oneRequest(1, 10, 300, (sim) => sim.at(50, 'crash', () => sim.crash('client')));
    assert.equal(crashed.closed[0]?.reason, 'reset');
    assert.ok(crashed.closed[0].atMs < 55);
    const lost = await oneRequest(1, 10, 300, (sim) => sim.at(10, 'crash', () => sim.crash('server')));
    assert.ok([ConnectionLost.name, 'TimeoutError'].includes(lost.outcome), lost.outcome);
  });
});

describe('simulated connections: probes on dead sockets', () => {
  it("a probe on a connection from before the client's restart is answered with a reset, even if the crash's reset was lost", async () => {
    const { closed } = await oneRequest(1, 10, 300, (sim) => {
      sim.at(50, 'cut', () => sim.partition('client', 'server', { oneWay: true }));
      sim.at(60, 'crash', () => sim.crash('client'));
      sim.at(70, 'restart', () => sim.restart('client', { persist: false }));
      sim.at(80, 'heal', () => sim.heal('client', 'server', { oneWay: true }));
    });
    assert.equal(closed.length, 1);
    assert.equal(closed[0]!.reason, 'reset');
    assert.ok(
      closed[0]!.atMs > 300 && closed[0]!.atMs < 320,
      `closed at ${closed[0]!.atMs}: at the first probe after idle`,
    );
  });
});
