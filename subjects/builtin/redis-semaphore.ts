/**
 * `redis-semaphore` 5.8.0, unmodified: its `Mutex` (one Redis) and `RedlockMutex` (a quorum of
 * the five). Both take the lock with SET NX PX, refresh it in the background every 0.8 of the
 * lease (a Lua compare-and-pexpire), and judge the acquire timeout by the client's own clock. A
 * refresh that finds the key gone or taken calls `onLockLost`; by default that throws inside a
 * timer, which would crash the process, so the subject passes a handler that marks the lock lost
 * (the library's documented use), and `held` reports it.
 *
 * Settings: lockTimeout = the scenario's TTL, acquireTimeout and retryInterval as lockstep's
 * recipes use; the refresh interval is the library's default.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { defineSubject, type SubjectInstance, type SubjectSettings } from '../define.ts';

interface MutexLike {
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
  readonly isAcquired: boolean;
}
interface MutexOptions {
  lockTimeout: number;
  acquireTimeout: number;
  retryInterval: number;
  onLockLost: (error: Error) => void;
}
type MutexClass<C> = new (client: C, key: string, options: MutexOptions) => MutexLike;

const { Mutex, RedlockMutex } = createRequire(import.meta.url)('redis-semaphore') as {
  Mutex: MutexClass<Redis>;
  RedlockMutex: MutexClass<Redis[]>;
};

const VERSION = '5.8.0';

interface Held {
  readonly mutex: MutexLike;
  /** Whether a refresh found the lock gone (the library called onLockLost). */
  readonly lost: () => boolean;
}

function instance<C>(Class: MutexClass<C>, client: C, settings: SubjectSettings): SubjectInstance<Held> {
  return {
    lock: {
      acquire: async () => {
        let lost = false;
        const mutex = new Class(client, settings.key, {
          lockTimeout: settings.ttlMs,
          acquireTimeout: settings.acquireTimeoutMs,
          retryInterval: settings.retryDelayMs,
          onLockLost: () => (lost = true),
        });
        return (await mutex.tryAcquire()) ? { mutex, lost: () => lost } : null;
      },
      release: async (held) => {
        await held.mutex.release();
      },
      held: (held) => !held.lost() && held.mutex.isAcquired,
    },
  };
}

export const redisSemaphoreMutex = defineSubject({
  name: 'redis-semaphore',
  system: 'redis',
  library: `redis-semaphore@${VERSION} (Mutex)`,
  create: ({ clients: [client], settings }) => instance(Mutex, client, settings),
});

export const redisSemaphoreRedlockMutex = defineSubject({
  name: 'redis-semaphore-redlock',
  system: 'redlock',
  library: `redis-semaphore@${VERSION} (RedlockMutex)`,
  create: ({ clients, settings }) => instance(RedlockMutex, [...clients], settings),
});
