/**
 * `redlock` 4.2.0, the version npm still calls latest, unmodified (installed as `redlock-v4`).
 * Its acquire differs from version 5 in practice: each attempt waits for every node's answer (or
 * its error), then counts the votes *and* checks that the lock is still valid by the client's
 * clock (`expiration > Date.now()`); a quorum that came too late is released and retried. It
 * speaks to the clients through callbacks (`evalsha(args, callback)`), and its promises are
 * bluebird's.
 *
 * Bluebird schedules its callbacks with its own queue, drained by a `setImmediate` it keeps from
 * load time; in the simulator a callback must run on the node whose code queued it, so bluebird
 * is told to carry the async context with each callback (its `asyncHooks` setting) and to drain
 * its queue as a microtask. Neither changes what the library does, only where its callbacks run.
 *
 * Configured as lockstep's RedLock recipe is (redlock5.ts). No election: the package has none.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { defineSubject } from '../define.ts';
import { redlock5Settings } from './redlock5.ts';

interface LockV4 {
  readonly expiration: number;
  unlock(): Promise<unknown>;
}
interface RedlockV4 {
  on(event: string, listener: (error: unknown) => void): unknown;
  lock(resource: string, ttl: number): Promise<LockV4>;
}
type RedlockV4Class = (new (clients: Redis[], options: object) => RedlockV4) & { LockError: new () => Error };
interface Bluebird {
  config(options: { asyncHooks: boolean }): unknown;
  setScheduler(schedule: (fn: () => void) => void): unknown;
}

const requireV4 = createRequire(createRequire(import.meta.url).resolve('redlock-v4'));
const Redlock = requireV4('redlock-v4') as RedlockV4Class;
const bluebird = requireV4('bluebird') as Bluebird;
bluebird.config({ asyncHooks: true });
bluebird.setScheduler((fn) => void Promise.resolve().then(fn));

export default defineSubject({
  name: 'redlock-v4',
  system: 'redlock',
  library: 'redlock@4.2.0',
  create: ({ clients, settings }) => {
    const { driftFactor, retryDelay, retryJitter, retryCount } = redlock5Settings(settings);
    const redlock = new Redlock([...clients], {
      driftFactor,
      retryDelay,
      retryJitter,
      retryCount,
    });
    // Every failed vote is also emitted; the attempt's outcome carries it.
    redlock.on('clientError', () => {});
    return {
      lock: {
        acquire: async () => {
          try {
            return await redlock.lock(settings.key, settings.ttlMs);
          } catch (error) {
            if (error instanceof Redlock.LockError) return null;
            throw error;
          }
        },
        release: async (lock: LockV4) => {
          await lock.unlock();
        },
        held: (lock: LockV4) => lock.expiration > Date.now(),
      },
    };
  },
});
