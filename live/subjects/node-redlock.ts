/**
 * node-redlock (the `redlock` npm package, 5.0.0-beta.2, the line built for ioredis 5) as a subject:
 * its own acquire and release, on the same five Redis nodes, through the same proxies, as
 * lockstep's RedLock. Its retries are configured like ours (the same delay and jitter), with as
 * many attempts as fit in the acquire timeout. It offers no fencing token, so fenced runs skip it.
 *
 * Election: node-redlock has none; its `using` (hold a lock while a routine runs, extending it
 * automatically, and abort the routine's signal when an extension fails) is what it offers for
 * leadership, so the leader is whoever runs inside `using`, and it believes it leads until the
 * signal aborts.
 */
import { createRequire } from 'node:module';
import type RedlockClass from '../../node_modules/redlock/dist/index.js';
import type {
  ExecutionError as ExecutionErrorClass,
  Lock,
  RedlockAbortSignal,
} from '../../node_modules/redlock/dist/index.js';
import type { Redis } from 'ioredis';
import { redlockOptions } from '../../backends/redlock/index.ts';
import type { ElectionRecipe, Grant, Leadership, LockRecipe } from '../../backends/recipe.ts';
import type { Runtime } from '../../backends/runtime.ts';
import type { SystemConfig } from '../../backends/system.ts';
import { redisClient } from '../systems/redis.ts';
import type { Subject, SubjectConnection } from '../system.ts';
import { promiseOf } from '../promise-of.ts';

// The package's ESM build is not marked as a module, so only its CommonJS build exposes every
// export; and its package.json does not export its types, so they are imported by path.
const { default: Redlock, ExecutionError } = createRequire(import.meta.url)('redlock') as {
  default: typeof RedlockClass;
  ExecutionError: typeof ExecutionErrorClass;
};

export const NODE_REDLOCK_VERSION = '5.0.0-beta.2';

interface NodeRedlockGrant extends Grant {
  readonly lock: Lock;
}

/** node-redlock's settings for a run: our retry pace, and attempts to fill the acquire timeout. */
export function nodeRedlockSettings(config: SystemConfig) {
  const options = redlockOptions(config);
  return {
    driftFactor: 0.01,
    retryDelay: options.retryDelayMs,
    retryJitter: options.retryDelayMs,
    retryCount: Math.max(1, Math.ceil(config.acquireTimeoutMs / (options.retryDelayMs * 1.5))),
    automaticExtensionThreshold: Math.max(10, Math.round(config.ttlMs / 4)),
  };
}

export function nodeRedlockConnection(clients: readonly Redis[], config: SystemConfig): SubjectConnection {
  const redlock = new Redlock(clients, nodeRedlockSettings(config));
  // An extension that fails mid-`using` is also emitted; the signal carries it.
  redlock.on('error', () => {});
  const resource = config.name;
  const lock = (runtime: Runtime): LockRecipe => ({
    acquire: async () => {
      try {
        const held = await redlock.acquire([resource], config.ttlMs);
        const grant: NodeRedlockGrant = {
          token: null,
          validUntilMs: runtime.clock.monotonic() + (held.expiration - Date.now()),
          lock: held,
        };
        return grant;
      } catch (error) {
        // Every attempt failed to reach a quorum: the library's way of saying "not acquired".
        if (error instanceof ExecutionError) return null;
        throw error;
      }
    },
    release: async (grant) => {
      await (grant as NodeRedlockGrant).lock.release();
    },
  });
  const election = (): ElectionRecipe => ({
    campaign: () =>
      new Promise<Leadership | null>((resolve, reject) => {
        let resign: () => void = () => {};
        const resigned = new Promise<void>((r) => (resign = r));
        redlock
          .using([resource], config.ttlMs, async (signal: RedlockAbortSignal) => {
            resolve({
              token: null,
              isLeader: () => !signal.aborted,
              resign: () => {
                resign();
                return Promise.resolve();
              },
            });
            await resigned;
          })
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes node-redlock's own rejection on unchanged
          .catch((error: unknown) => (error instanceof ExecutionError ? resolve(null) : reject(error)));
      }),
  });
  return {
    lock,
    election,
    close: () =>
      promiseOf(() => {
        clients.forEach((c) => c.disconnect());
      }),
  };
}

export const nodeRedlock: Subject = {
  id: 'node-redlock',
  system: 'redlock',
  library: `redlock@${NODE_REDLOCK_VERSION}`,
  tokens: false,
  connect: (servers, config) =>
    promiseOf(() =>
      nodeRedlockConnection(
        servers.map((s) => redisClient(s, redlockOptions(config).requestTimeoutMs)),
        config,
      ),
    ),
};
