/**
 * The two things every system offers the workloads: a lock and a leader election. Each system
 * implements both on top of its port; the runner drives them without knowing which system it is.
 */

export const SYSTEM_IDS = ['redis', 'redlock', 'zookeeper', 'etcd', 'postgres', 'mysql', 'redis-sentinel'] as const;
export type SystemId = (typeof SYSTEM_IDS)[number];

/** How far a system's fencing token can be trusted. */
export type FencingSoundness = 'sound' | 'unsound';

export interface RecipeOptions {
  /** The lock or leader key. */
  readonly name: string;
  /** Lease length: TTL, session timeout, or lease TTL, depending on the system. */
  readonly ttlMs: number;
  /** Take a fencing token on acquire (costs a round trip on some systems). */
  readonly fencing: boolean;
  /** Give up acquiring after this much local time; the acquire then resolves to null. */
  readonly acquireTimeoutMs: number;
}

/** A lock the client believes it holds. */
export interface Grant {
  /** The fencing token, when fencing is on. */
  readonly token: number | null;
  /**
   * Local monotonic time after which the recipe itself says the grant may have lapsed, for
   * lease-based locks (RedLock's validity); null where the lock lasts as long as a session.
   */
  readonly validUntilMs: number | null;
  /**
   * What the recipe knows, with no round trip, of whether it still holds the lock: a session
   * that has lapsed by the client's clock (etcd), a connection SUSPENDED or a session lost
   * (ZooKeeper, as Curator's TN14 advises). Absent where the client knows nothing more than
   * validUntilMs (Redis, RedLock) or nothing at all (a database session, until a request fails).
   */
  readonly stillHeld?: () => boolean;
}

export interface LockRecipe {
  /** Resolves with a grant, or null when acquireTimeoutMs passed without one. */
  acquire(): Promise<Grant | null>;
  /** Let go. Best effort: a release that cannot reach the system throws. */
  release(grant: Grant): Promise<void>;
}

/** A term of leadership the client believes it has. */
export interface Leadership {
  /** The fencing token (term, revision, czxid, ...), when fencing is on. */
  readonly token: number | null;
  /** Whether the leader still believes it leads, judged by its own clock and what it has heard. */
  isLeader(): boolean;
  /** Step down. */
  resign(): Promise<void>;
}

export interface ElectionRecipe {
  /** Resolves once this client leads, or null when acquireTimeoutMs passed. */
  campaign(): Promise<Leadership | null>;
}

export class RecipeConfigError extends Error {
  override name = 'RecipeConfigError';
}

/** Check the options every recipe shares; throws naming the parameter. */
export function checkRecipeOptions(options: RecipeOptions): void {
  if (typeof options.name !== 'string' || options.name.length === 0)
    throw new RecipeConfigError('name must be a non-empty string');
  positive('ttlMs', options.ttlMs);
  positive('acquireTimeoutMs', options.acquireTimeoutMs);
}

export function positive(parameter: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RecipeConfigError(`${parameter} must be a finite number > 0, got ${String(value)}`);
  }
}
