/**
 * The etcd3 package's own Lock and Election (etcd3 1.1.2), as users deploy them, behind the
 * harness's LockRecipe / ElectionRecipe. One client over every member, with the library's own
 * fault handling (it retries recoverable errors up to three times, on other members); the one
 * thing added is a deadline on each unary call, as the library's docs show, since without one a
 * call to a silent member never returns.
 *
 * What the library does, and how it is wrapped:
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
 * revision in a private field. A read of the key afterwards (checked against the lease) would give
 * a sound token, but that is our code, not the library's: the subject is the library.
 */
import { Etcd3, EtcdError, EtcdLockFailedError, GRPCGenericError, type Campaign, type Lock } from 'etcd3';
import type { ElectionRecipe, Grant, Leadership, LockRecipe } from '../../backends/recipe.ts';
import type { Runtime } from '../../backends/runtime.ts';
import type { SystemConfig } from '../../backends/system.ts';
import { requestTimeoutMs, retryDelayMs } from '../../backends/timing.ts';
import type { Subject, SubjectConnection } from '../system.ts';
import { promiseOf } from '../promise-of.ts';

const LIBRARY = 'etcd3@1.1.2';

interface Etcd3Grant extends Grant {
  readonly lock: Lock;
}

/** etcd leases are whole seconds, at least one. */
function ttlSeconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs / 1000));
}

/** An error of etcd or of the connection to it, after which a user would try again. */
function isRetryable(error: unknown): boolean {
  return error instanceof GRPCGenericError || error instanceof EtcdError;
}

function isDeadline(error: unknown): boolean {
  return (error as Error | null)?.name === 'TimeoutError';
}

class Etcd3Lock implements LockRecipe {
  constructor(
    private readonly runtime: Runtime,
    private readonly client: Etcd3,
    private readonly config: SystemConfig,
  ) {}

  async acquire(): Promise<Grant | null> {
    const clock = this.runtime.clock;
    const untilMs = clock.monotonic() + this.config.acquireTimeoutMs;
    for (;;) {
      const leftMs = untilMs - clock.monotonic();
      if (leftMs <= 0) return null;
      const lock = this.client.lock(this.config.name).ttl(ttlSeconds(this.config.ttlMs));
      const attempt = lock.acquire();
      try {
        await this.runtime.deadline(() => attempt, leftMs);
        const grant: Etcd3Grant = { token: null, validUntilMs: null, lock };
        return grant;
      } catch (error) {
        if (!(error instanceof EtcdLockFailedError)) {
          // Timed out or failed: the put may yet commit or have committed; revoking the lease undoes it either way.
          attempt.catch(() => {});
          lock.release().catch(() => {});
          if (isDeadline(error)) return null;
          if (!isRetryable(error)) throw error;
        }
      }
      await clock.sleep(Math.min(retryDelayMs(this.config.ttlMs), Math.max(0, untilMs - clock.monotonic())));
    }
  }

  /** Lock.release: revoke the lease, which deletes the key. */
  async release(grant: Grant): Promise<void> {
    await (grant as Etcd3Grant).lock.release();
  }
}

class Etcd3Election implements ElectionRecipe {
  constructor(
    private readonly runtime: Runtime,
    private readonly client: Etcd3,
    private readonly config: SystemConfig,
  ) {}

  async campaign(): Promise<Leadership | null> {
    const clock = this.runtime.clock;
    const untilMs = clock.monotonic() + this.config.acquireTimeoutMs;
    const election = this.client.election(this.config.name, ttlSeconds(this.config.ttlMs));
    for (;;) {
      const leftMs = untilMs - clock.monotonic();
      if (leftMs <= 0) return null;
      const leadership = new Etcd3Leadership(election.campaign(this.runtime.id));
      try {
        await this.runtime.deadline(() => leadership.elected, leftMs);
        return leadership;
      } catch (error) {
        // A failed campaign has resigned itself; one still waiting is withdrawn.
        await leadership.resign().catch(() => {});
        if (isDeadline(error)) return null;
        if (!isRetryable(error)) throw error;
      }
      // The library's advice: on a campaign's error, start a new one.
      await clock.sleep(Math.min(retryDelayMs(this.config.ttlMs), Math.max(0, untilMs - clock.monotonic())));
    }
  }
}

class Etcd3Leadership implements Leadership {
  readonly token = null;
  /** Resolves when the campaign is elected; rejects with its first error. */
  readonly elected: Promise<void>;
  private isElected = false;
  private lost = false;
  private resigned = false;

  constructor(private readonly campaign: Campaign) {
    this.elected = new Promise<void>((resolve, reject) => {
      campaign.on('elected', () => {
        this.isElected = true;
        resolve();
      });
      // Always listened to: an 'error' without a listener would crash the process.
      campaign.on('error', (error) => {
        this.lost = true;
        reject(error);
      });
    });
    this.elected.catch(() => {});
  }

  /** Elected, and since then neither resigned nor told by the library that its lease was lost. */
  isLeader(): boolean {
    return this.isElected && !this.lost && !this.resigned;
  }

  async resign(): Promise<void> {
    this.resigned = true;
    await this.campaign.resign();
  }
}

export const etcd3Subject: Subject = {
  id: 'etcd3-lock',
  system: 'etcd',
  library: LIBRARY,
  tokens: false,
  connect: (servers, config): Promise<SubjectConnection> =>
    promiseOf(() => {
      const timeoutMs = requestTimeoutMs(config.ttlMs);
      const client = new Etcd3({
        hosts: servers.map((server) => `http://${server.host}:${server.port}`),
        defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
      });
      return {
        lock: (runtime) => new Etcd3Lock(runtime, client, config),
        election: (runtime) => new Etcd3Election(runtime, client, config),
        close: () => promiseOf(() => client.close()),
      };
    }),
};
