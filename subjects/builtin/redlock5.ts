/**
 * The redlock 5 API, shared by two packages: `redlock` 5.0.0-beta.2 (the line written for
 * ioredis 5) and `@sesamecare-oss/redlock`, its maintained fork. Both take a quorum of the five
 * nodes with one Lua script per attempt and, having got it, return the lock without checking
 * that its validity (expiration, by the client's clock) has not already passed: an acquisition
 * that takes longer than the TTL returns a lock that has expired.
 *
 * Configured as lockstep's RedLock recipe is: the same retry pace and jitter, as many attempts as
 * fit in the acquire timeout, drift factor 0.01. The lock is held until released; the library
 * counts it held until its expiration by the client's clock (`held`, what a careful client checks).
 *
 * Election: the library has none; its `using` (hold a lock while a routine runs, extending it
 * automatically, and abort the routine's signal once an extension fails) is what it offers for
 * leadership. The leader is whoever runs inside `using`, and believes it leads until the signal aborts.
 */
import type { Redis } from 'ioredis';
import type { SubjectInstance, SubjectLeadership, SubjectSettings } from '../define.ts';

/** The part of the redlock 5 API used here, the same in both packages. */
export interface Redlock5Lock {
  readonly expiration: number;
  release(): Promise<unknown>;
}
interface Redlock5Signal {
  readonly aborted: boolean;
}
export interface Redlock5 {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  acquire(resources: string[], duration: number): Promise<Redlock5Lock>;
  using(resources: string[], duration: number, routine: (signal: Redlock5Signal) => Promise<void>): Promise<void>;
}
export type Redlock5Class = new (clients: Redis[], settings: object) => Redlock5;

export function redlock5Settings(settings: SubjectSettings) {
  const { retryDelayMs, acquireTimeoutMs, ttlMs } = settings;
  return {
    driftFactor: 0.01,
    retryDelay: retryDelayMs,
    retryJitter: retryDelayMs,
    retryCount: Math.max(1, Math.ceil(acquireTimeoutMs / (retryDelayMs * 1.5))),
    automaticExtensionThreshold: Math.max(10, Math.round(ttlMs / 4)),
  };
}

/** A subject instance over one of the two packages; `notAcquired` tells its "no quorum" error. */
export function redlock5Instance(
  Redlock: Redlock5Class,
  notAcquired: (error: unknown) => boolean,
  clients: readonly Redis[],
  settings: SubjectSettings,
): SubjectInstance<Redlock5Lock> {
  const redlock = new Redlock([...clients], redlock5Settings(settings));
  // An extension that fails inside `using` is also emitted; the signal carries it.
  redlock.on('error', () => {});
  const resource = settings.key;
  return {
    lock: {
      acquire: async () => {
        try {
          return await redlock.acquire([resource], settings.ttlMs);
        } catch (error) {
          if (notAcquired(error)) return null;
          throw error;
        }
      },
      release: async (lock) => {
        await lock.release();
      },
      held: (lock) => lock.expiration > Date.now(),
    },
    election: {
      campaign: () =>
        new Promise<SubjectLeadership | null>((resolve, reject) => {
          let resign: () => void = () => {};
          const resigned = new Promise<void>((r) => (resign = r));
          redlock
            .using([resource], settings.ttlMs, async (signal) => {
              resolve({
                isLeader: () => !signal.aborted,
                resign: () => {
                  resign();
                  return Promise.resolve();
                },
              });
              await resigned;
            })
            .catch((error: unknown) => (notAcquired(error) ? resolve(null) : reject(error as Error)));
        }),
    },
  };
}
