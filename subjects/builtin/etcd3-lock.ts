/**
 * The etcd3 package's own Lock and Election (etcd3 1.1.2), as users deploy them. One client over
 * every member, with the library's own fault handling (it retries recoverable errors up to three
 * times, on other members); lockstep's client adds a deadline on each unary call, as the library's
 * docs show, since without one a call to a silent member never returns.
 *
 * Live only: the simulator has no etcd client with the etcd3 package's API (its gRPC stubs, lease
 * keepalive streams and watch streams would all need simulated counterparts).
 *
 * What the library does, and how it is used:
 *   - Lock.acquire() does not queue: it grants a lease, tries `put key if absent`, and when the key
 *     is taken it revokes the lease and throws EtcdLockFailedError at once. Users retry, so acquire
 *     retries every retryDelayMs until acquireTimeoutMs, then resolves null. An attempt that has
 *     not answered by then is released (its lease revoked), so a late success holds nothing.
 *   - An attempt that fails with a transport or server error is released too before the next one:
 *     the library leaves its lease kept alive in that case, and if the put did commit, the key
 *     would stay held by no one for as long as the process lives.
 *   - The lease is kept alive in the background; the library counts it lost only 2 x TTL after the
 *     last answered keepalive (or when etcd says it is gone). Lock exposes no loss at all; a
 *     Campaign emits 'error', which is what isLeader() follows.
 *
 * Tokens: none. The create revision of the lock key is the natural fencing token, but Lock.acquire
 * resolves with the Lock itself and drops the transaction's answer, and Campaign keeps its key's
 * revision in a private field. A read of the key afterwards would give a sound token, but that is
 * our code, not the library's: the subject is the library.
 */
import { EtcdError, EtcdLockFailedError, GRPCGenericError, type Campaign, type Etcd3, type Lock } from 'etcd3';
import { defineSubject, type SubjectLeadership, type SubjectSettings } from '../define.ts';

/** etcd leases are whole seconds, at least one. */
function ttlSeconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/** An error of etcd or of the connection to it, after which a user would try again. */
function isRetryable(error: unknown): boolean {
  return error instanceof GRPCGenericError || error instanceof EtcdError;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

class Deadline extends Error {}

/** `promise`, or a Deadline error once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Deadline()), ms)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function acquire(client: Etcd3, settings: SubjectSettings): Promise<Lock | null> {
  const untilMs = Date.now() + settings.acquireTimeoutMs;
  for (;;) {
    const leftMs = untilMs - Date.now();
    if (leftMs <= 0) return null;
    const lock = client.lock(settings.key).ttl(ttlSeconds(settings.ttlMs));
    const attempt = lock.acquire();
    try {
      await within(attempt, leftMs);
      return lock;
    } catch (error) {
      if (!(error instanceof EtcdLockFailedError)) {
        // Timed out or failed: the put may yet commit or have committed; revoking the lease undoes it either way.
        attempt.catch(() => {});
        lock.release().catch(() => {});
        if (error instanceof Deadline) return null;
        if (!isRetryable(error)) throw error;
      }
    }
    await sleep(Math.min(settings.retryDelayMs, untilMs - Date.now()));
  }
}

/** A campaign's state as the library reports it: elected, then lost on its first 'error'. */
function leadership(campaign: Campaign): { elected: Promise<void>; leadership: SubjectLeadership } {
  let isElected = false;
  let lost = false;
  let resigned = false;
  const elected = new Promise<void>((resolve, reject) => {
    campaign.on('elected', () => {
      isElected = true;
      resolve();
    });
    // Always listened to: an 'error' without a listener would crash the process.
    campaign.on('error', (error) => {
      lost = true;
      reject(error);
    });
  });
  elected.catch(() => {});
  return {
    elected,
    leadership: {
      isLeader: () => isElected && !lost && !resigned,
      resign: async () => {
        resigned = true;
        await campaign.resign();
      },
    },
  };
}

async function campaign(client: Etcd3, settings: SubjectSettings, id: string): Promise<SubjectLeadership | null> {
  const untilMs = Date.now() + settings.acquireTimeoutMs;
  const election = client.election(settings.key, ttlSeconds(settings.ttlMs));
  for (;;) {
    const leftMs = untilMs - Date.now();
    if (leftMs <= 0) return null;
    const term = leadership(election.campaign(id));
    try {
      await within(term.elected, leftMs);
      return term.leadership;
    } catch (error) {
      // A failed campaign has resigned itself; one still waiting is withdrawn.
      await term.leadership.resign().catch(() => {});
      if (error instanceof Deadline) return null;
      if (!isRetryable(error)) throw error;
    }
    // The library's advice: on a campaign's error, start a new one.
    await sleep(Math.min(settings.retryDelayMs, untilMs - Date.now()));
  }
}

export default defineSubject({
  name: 'etcd3-lock',
  system: 'etcd',
  library: 'etcd3@1.1.2',
  leaderElection: true,
  liveOnly:
    'the simulator has no etcd client with the etcd3 package API (gRPC stubs, lease keepalive and watch streams)',
  create: ({ clients: [client], settings }) => {
    let campaigns = 0;
    return {
      lock: {
        acquire: () => acquire(client, settings),
        release: async (lock: Lock) => {
          await lock.release();
        },
      },
      election: { campaign: () => campaign(client, settings, `candidate-${++campaigns}`) },
    };
  },
});
