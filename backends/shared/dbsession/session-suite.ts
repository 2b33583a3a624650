/**
 * The session behaviour both database models must show in the simulator, driven through the
 * system's own ports and recipes: when a holder's session, and so its lock, ends under faults,
 * and when it does not. Each system's test file runs it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Sim } from '../../../sim/sim.ts';
import type { Host } from '../../../sim/node.ts';
import type { Grant, Leadership } from '../../recipe.ts';
import type { SystemConfig, SystemModule } from '../../system.ts';
import type { SessionPort } from './port.ts';

const TTL_MS = 1000;
const CONFIG: SystemConfig = { ttlMs: TTL_MS, fencing: true, acquireTimeoutMs: 4 * TTL_MS, name: 'session-suite' };
const SERVER = 'server-1';

type ClientBody<P> = (host: Host, port: P) => Promise<void>;

/** One server and the given clients, each running its body once; faults are scheduled on the Sim. */
function simulate<P extends SessionPort>(
  system: SystemModule<P>,
  clients: Record<string, ClientBody<P>>,
  faults?: (sim: Sim) => void,
): Sim {
  const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 3 } } });
  sim.addNode(SERVER, (host) => system.bootServer(host, 1, [SERVER], CONFIG));
  for (const [id, body] of Object.entries(clients)) {
    sim.addNode(id, (host) => host.spawn(id, () => body(host, system.simPorts(host, [SERVER], CONFIG))));
  }
  faults?.(sim);
  return sim;
}

/** Acquire, retrying acquire timeouts, until a grant comes or `untilMs` of true time passes. */
async function acquireBy<P>(
  system: SystemModule<P>,
  host: Host,
  port: P,
  nowMs: () => number,
  untilMs: number,
): Promise<Grant | null> {
  const lock = system.lock(host, port, CONFIG);
  while (nowMs() < untilMs) {
    const grant = await lock.acquire();
    if (grant !== null) return grant;
  }
  return null;
}

/**
 * The fencing counter across a server crash: two values before it, one after a restart with or
 * without the disk. `next` takes the next value on the given port.
 */
export async function tokensAcrossCrash<P extends SessionPort>(
  system: SystemModule<P>,
  persist: boolean,
  next: (port: P) => PromiseLike<number>,
): Promise<number[]> {
  const seen: number[] = [];
  const sim = simulate(system, {
    c1: async (host, port) => {
      seen.push(await next(port), await next(port));
      await host.sleep(TTL_MS);
      seen.push(await next(port));
    },
  });
  sim.at(100, 'crash', () => sim.crash(SERVER));
  sim.at(200, 'restart', () => sim.restart(SERVER, { persist }));
  await sim.run({ untilMs: 5 * TTL_MS });
  return seen;
}

/** What an acquire that timed out against a held lock left behind. */
export interface TimedOutAcquire {
  readonly grant: Grant | null;
  readonly waitedMs: number;
  /** Whether the recipe kept the session it started on. */
  readonly sameSession: boolean;
  /** Whether the holder, having let go, could take the lock straight back: nobody was still queued for it. */
  readonly retaken: boolean;
}

/** The dialect's statements a holder uses on its port, for the lock named `name`. */
export interface HolderStatements<P> {
  take(port: P, name: string): PromiseLike<unknown>;
  letGo(port: P, name: string): PromiseLike<unknown>;
  tryTake(port: P, name: string): PromiseLike<boolean>;
}

/** Acquire with `acquireTimeoutMs` while another session holds the lock throughout; then the holder lets go and tries to take it back. */
export async function acquireWhileHeld<P extends SessionPort>(
  system: SystemModule<P>,
  acquireTimeoutMs: number,
  holder: HolderStatements<P>,
): Promise<TimedOutAcquire> {
  const config = { ...CONFIG, fencing: false, acquireTimeoutMs };
  const sim = new Sim({ seed: 1, network: { latency: { minMs: 1, maxMs: 3 } } });
  sim.addNode(SERVER, (host) => system.bootServer(host, 1, [SERVER], config));
  const holderPort = system.simPorts(sim.addNode('c1'), [SERVER], config);
  // Assigned inside a node's code: the assertion keeps TypeScript from narrowing it to null here.
  let outcome = null as TimedOutAcquire | null;
  sim.addNode('c2', (host) =>
    host.spawn('c2', async () => {
      await holder.take(holderPort, config.name);
      const port = system.simPorts(host, [SERVER], config);
      await port.ping();
      const session = port.session();
      const startedMs = sim.nowMs;
      const grant = await system.lock(host, port, config).acquire();
      const waitedMs = sim.nowMs - startedMs;
      const sameSession = port.session() === session;
      // Let a reset the recipe sent reach the server before the holder lets go.
      await host.sleep(10);
      await holder.letGo(holderPort, config.name);
      outcome = { grant, waitedMs, sameSession, retaken: await holder.tryTake(holderPort, config.name) };
    }),
  );
  await sim.run({ untilMs: acquireTimeoutMs + 5 * TTL_MS });
  assert.ok(outcome !== null, 'the acquire never finished');
  return outcome;
}

export function sessionSuite<P extends SessionPort>(system: SystemModule<P>): void {
  const acquire = async (host: Host, port: P): Promise<Grant> => {
    const grant = await system.lock(host, port, CONFIG).acquire();
    assert.ok(grant !== null, 'an uncontended acquire failed');
    return grant;
  };

  describe(`${system.id} sessions in the simulator`, () => {
    it('a holder cut off from the server keeps its lock until keepalive gives up, one TTL after it was last heard', async () => {
      let acquiredAtMs = -1;
      let takenAtMs = -1;
      const sim: Sim = simulate(system, {
        c1: async (host, port) => {
          await acquire(host, port);
          acquiredAtMs = sim.nowMs;
          await host.sleep(10 * TTL_MS);
        },
        c2: async (host, port) => {
          await host.sleep(100);
          assert.notEqual(await system.lock(host, port, CONFIG).acquire(), null);
          takenAtMs = sim.nowMs;
        },
      });
      sim.at(200, 'cut', () => sim.partition('c1', SERVER));
      await sim.run({ untilMs: 5 * TTL_MS });
      const afterMs = takenAtMs - acquiredAtMs;
      assert.ok(
        afterMs >= 0.95 * TTL_MS && afterMs <= 1.05 * TTL_MS,
        `the lock moved ${afterMs}ms after the holder was last heard`,
      );
    });

    it('a holder paused for ten TTLs keeps its session and its lock; the next client gets it only after the release', async () => {
      const pausedForMs = 10 * TTL_MS;
      let releasedAtMs = -1;
      let takenAtMs = -1;
      const sim: Sim = simulate(system, {
        c1: async (host, port) => {
          const grant = await acquire(host, port);
          const session = port.session();
          await host.sleep(100);
          assert.equal(port.session(), session, 'the session did not survive the pause');
          await system.lock(host, port, CONFIG).release(grant);
          releasedAtMs = sim.nowMs;
        },
        c2: async (host, port) => {
          await host.sleep(20);
          assert.ok((await acquireBy(system, host, port, () => sim.nowMs, 3 * pausedForMs)) !== null);
          takenAtMs = sim.nowMs;
        },
      });
      sim.at(50, 'pause', () => sim.pause('c1'));
      sim.at(50 + pausedForMs, 'resume', () => sim.resume('c1'));
      await sim.run({ untilMs: 3 * pausedForMs });
      assert.ok(releasedAtMs > 50 + pausedForMs, 'the holder did not release after waking');
      assert.ok(
        takenAtMs >= releasedAtMs,
        `the lock moved at ${takenAtMs}ms, before the holder released it at ${releasedAtMs}ms`,
      );
    });

    it('a holder isolated past the keepalive finds its session gone once the partition heals', async () => {
      let failure: unknown = null;
      let sessionMoved = false;
      const sim: Sim = simulate(system, {
        c1: async (host, port) => {
          await acquire(host, port);
          const session = port.session();
          await host.sleep(4 * TTL_MS);
          try {
            await port.ping();
          } catch (error) {
            failure = error;
          }
          sessionMoved = port.session() !== session;
        },
      });
      sim.at(200, 'cut', () => sim.partition('c1', SERVER));
      sim.at(200 + 3 * TTL_MS, 'heal', () => sim.heal('c1', SERVER));
      await sim.run({ untilMs: 6 * TTL_MS });
      assert.equal((failure as Error | null)?.name, 'ConnectionLost');
      assert.ok(sessionMoved, 'the port still names the dead session');
    });

    it('a database crash ends every session at once; after the restart the lock is free', async () => {
      let holderLearnedAtMs = -1;
      let takenAtMs = -1;
      const sim: Sim = simulate(system, {
        c1: async (host, port) => {
          await acquire(host, port);
          const session = port.session();
          for (let i = 0; i < 1000 && port.session() === session; i++) await host.sleep(1);
          holderLearnedAtMs = sim.nowMs;
        },
        c2: async (host, port) => {
          await host.sleep(20);
          assert.ok((await acquireBy(system, host, port, () => sim.nowMs, 5 * TTL_MS)) !== null);
          takenAtMs = sim.nowMs;
        },
      });
      sim.at(500, 'crash', () => sim.crash(SERVER));
      sim.at(800, 'restart', () => sim.restart(SERVER, { persist: true }));
      await sim.run({ untilMs: 6 * TTL_MS });
      assert.ok(
        holderLearnedAtMs > 500 && holderLearnedAtMs <= 505,
        `the holder learned of the crash at ${holderLearnedAtMs}ms`,
      );
      assert.ok(
        takenAtMs > 800 && takenAtMs < 800 + TTL_MS / 2,
        `the waiter got the lock at ${takenAtMs}ms, the server restarted at 800ms`,
      );
    });
  });

  describe(`${system.id} election in the simulator`, () => {
    /** c1 leads from the start; c2 campaigns from 100ms; the returned times are true times. */
    async function race(faults: (sim: Sim) => void, c1Lead: (host: Host, leadership: Leadership) => Promise<void>) {
      const seen = { c1LostAtMs: -1, c2WonAtMs: -1, c1Token: null as number | null, c2Token: null as number | null };
      const sim: Sim = simulate(
        system,
        {
          c1: async (host, port) => {
            const leadership = await system.election(host, port, CONFIG).campaign();
            assert.ok(leadership !== null && leadership.isLeader());
            seen.c1Token = leadership.token;
            await c1Lead(host, leadership);
            for (let i = 0; i < 20_000 && leadership.isLeader(); i++) await host.sleep(1);
            seen.c1LostAtMs = sim.nowMs;
          },
          c2: async (host, port) => {
            await host.sleep(100);
            const election = system.election(host, port, CONFIG);
            for (let i = 0; i < 10 && seen.c2WonAtMs < 0; i++) {
              const leadership = await election.campaign();
              if (leadership !== null) {
                seen.c2WonAtMs = sim.nowMs;
                seen.c2Token = leadership.token;
              }
            }
          },
        },
        faults,
      );
      await sim.run({ untilMs: 20 * TTL_MS });
      return seen;
    }

    it('a leader whose session is answered keeps leading; when it resigns the waiting candidate leads, with a greater token', async () => {
      const seen = await race(
        () => {},
        async (host, leadership) => {
          for (let i = 0; i < 50; i++) {
            await host.sleep(TTL_MS / 10);
            assert.ok(leadership.isLeader(), `the leader stepped down at check ${i} without a fault`);
          }
          await leadership.resign();
        },
      );
      assert.ok(
        seen.c2WonAtMs >= 5 * TTL_MS && seen.c2WonAtMs < 5 * TTL_MS + 50,
        `the candidate won at ${seen.c2WonAtMs}ms`,
      );
      assert.ok(seen.c1Token !== null && seen.c2Token !== null && seen.c2Token > seen.c1Token);
    });

    it('a leader whose session is reset by a database crash stops leading within a few ms', async () => {
      const seen = await race(
        (sim) => sim.at(500, 'crash', () => sim.crash(SERVER)),
        async () => {},
      );
      assert.ok(seen.c1LostAtMs > 500 && seen.c1LostAtMs <= 505, `the leader stopped at ${seen.c1LostAtMs}ms`);
    });

    it('a leader cut off from the server stops leading before the server gives its lock to another candidate', async () => {
      const seen = await race(
        (sim) => {
          sim.at(300, 'cut', () => sim.partition('c1', SERVER));
          sim.at(300 + 5 * TTL_MS, 'heal', () => sim.heal('c1', SERVER));
        },
        async () => {},
      );
      assert.ok(seen.c1LostAtMs > 300 && seen.c1LostAtMs <= 300 + TTL_MS, `the leader stopped at ${seen.c1LostAtMs}ms`);
      assert.ok(
        seen.c2WonAtMs > seen.c1LostAtMs,
        `two leaders: the candidate won at ${seen.c2WonAtMs}ms, the old leader stopped at ${seen.c1LostAtMs}ms`,
      );
    });

    it('a leader paused beyond its TTL steps down on waking and ends its session, so the candidate leads at once', async () => {
      const resumeAtMs = 300 + 3 * TTL_MS;
      const seen = await race(
        (sim) => {
          sim.at(300, 'pause', () => sim.pause('c1'));
          sim.at(resumeAtMs, 'resume', () => sim.resume('c1'));
        },
        async () => {},
      );
      assert.ok(
        seen.c1LostAtMs >= resumeAtMs && seen.c1LostAtMs <= resumeAtMs + 1,
        `the leader stopped at ${seen.c1LostAtMs}ms`,
      );
      // At once: within a retry of the candidate's (MySQL polls the last second of its acquire
      // timeout), not after a keepalive timeout, and not never, as if the session kept the lock.
      assert.ok(
        seen.c2WonAtMs > resumeAtMs && seen.c2WonAtMs < resumeAtMs + TTL_MS / 10,
        `the candidate won at ${seen.c2WonAtMs}ms`,
      );
    });
  });
}
