/**
 * A hand-written Redis lock of the kind found in many code bases: SET NX PX to take it, and a
 * plain DEL to let it go. The bug: DEL does not check that the key is still ours. When a holder
 * outlives its TTL (a pause, a slow request), another client takes the lock, and the first
 * holder's release deletes *that* client's key, letting a third client in beside it.
 *
 *   npx lockstep run scenarios/gc-pause-beyond-ttl.yaml --subject examples/naive-redis-lock.ts
 *   npx lockstep check --subject examples/naive-redis-lock.ts --differential
 */
import { randomBytes } from 'node:crypto';
import { defineSubject } from 'lockstep';

export default defineSubject({
  name: 'naive-redis-lock',
  system: 'redis',
  create: ({ clients: [redis], settings }) => ({
    lock: {
      acquire: async () => {
        const id = randomBytes(8).toString('hex');
        const deadline = Date.now() + settings.acquireTimeoutMs;
        while (Date.now() < deadline) {
          if ((await redis.set(settings.key, id, 'PX', settings.ttlMs, 'NX')) === 'OK') return id;
          await new Promise((resolve) => setTimeout(resolve, settings.retryDelayMs));
        }
        return null;
      },
      // The bug: no check that the key still holds our id.
      release: async () => {
        await redis.del(settings.key);
      },
    },
  }),
});
