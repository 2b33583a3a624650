/**
 * A subject: a lock (and optionally an election) lockstep did not write, tested under the same
 * workloads, faults and checkers as its own recipes. A subject file default-exports
 * `defineSubject({...})`:
 *
 *   import { defineSubject } from 'lockstep';
 *   export default defineSubject({
 *     name: 'my-lock',
 *     system: 'redis',
 *     create: ({ clients: [redis], settings }) => ({
 *       lock: {
 *         acquire: async () => ((await redis.set(settings.key, id, 'PX', settings.ttlMs, 'NX')) === 'OK' ? id : null),
 *         release: async (id) => void (await redis.del(settings.key)),
 *       },
 *     }),
 *   });
 *
 * `create` receives the clients the library expects, one per server of the system, connected
 * through the run's network: in the simulator, simulated ones with the same API (see clients.ts);
 * live, the real packages, through Toxiproxy. It runs once per client process, as a library is
 * set up once per process.
 */
import type { SystemId } from '../backends/recipe.ts';
import { SYSTEM_IDS } from '../backends/recipe.ts';
import type { SubjectClients } from './clients.ts';

/** The run's settings, as lockstep's own recipes get them. */
export interface SubjectSettings {
  /** The lock key, or the election's name. */
  readonly key: string;
  /** Lease length: TTL, session timeout or lease TTL, as the scenario sets it. */
  readonly ttlMs: number;
  /** How long an acquire may wait; after that it should give up (resolve null, or throw). */
  readonly acquireTimeoutMs: number;
  /** The pause lockstep's recipes take between attempts, for a library that asks for one. */
  readonly retryDelayMs: number;
  /** Whether the run is fenced: `token` is then asked for each grant. */
  readonly fencing: boolean;
}

export interface SubjectContext<S extends SystemId = SystemId> {
  readonly clients: SubjectClients[S];
  readonly settings: SubjectSettings;
}

/** The lock, as the library offers it. `H` is whatever the library returns for a held lock. */
export interface SubjectLock<H = unknown> {
  /** The held lock, or null when it could not be had in time. A throw counts as an acquire whose outcome is unknown. */
  acquire(): Promise<H | null>;
  release(handle: H): Promise<void>;
  /** The fencing token of a grant, when the library exposes one (see `tokens`). */
  token?(handle: H): number | null;
  /**
   * Whether the library itself still counts the lock as held (its expiry by its own clock, a
   * lost-lock flag): what a careful client checks before it writes. Absent: no such knowledge.
   */
  held?(handle: H): boolean;
}

export interface SubjectLeadership {
  /** Whether the library still says this process leads. */
  isLeader(): boolean;
  resign(): Promise<void>;
  /** The term's fencing token, when the library exposes one. */
  readonly token?: number | null;
}

export interface SubjectElection {
  /** Resolves once this process leads, or null when it could not within acquireTimeoutMs. */
  campaign(): Promise<SubjectLeadership | null>;
}

export interface SubjectInstance<H = unknown> {
  readonly lock: SubjectLock<H>;
  /** Leader election, if the library has one (say so with `leaderElection: true`). */
  readonly election?: SubjectElection;
  /** Close what `create` opened beyond the clients (lockstep closes those). */
  close?(): Promise<void>;
}

export interface SubjectDefinition<S extends SystemId = SystemId, H = unknown> {
  /** Its name in results and reports: letters, digits, '.', '_', '-' and '@' (at most 64). */
  readonly name: string;
  /** The system whose servers it runs on. */
  readonly system: S;
  /** The package and version under test, for results (e.g. "redlock@5.0.0-beta.2"). */
  readonly library?: string;
  /** Whether `lock.token` gives a fencing token; fenced runs of a subject without one are skipped. */
  readonly tokens?: boolean;
  /** Whether `create` returns an election; election scenarios skip a subject without one. */
  readonly leaderElection?: boolean;
  /**
   * Where it runs: both worlds (the default) or only live, with the reason the simulator cannot
   * run it (its client has no simulated counterpart yet).
   */
  readonly liveOnly?: string;
  create(context: SubjectContext<S>): SubjectInstance<H> | Promise<SubjectInstance<H>>;
}

const DEFINED = Symbol.for('lockstep.subject');

export const SUBJECT_NAME = /^[A-Za-z0-9@._-]{1,64}$/;

/** A subject that is not one: a bad definition, a file that does not load, a wrong `create`. */
export class SubjectError extends Error {
  override name = 'SubjectError';
}

/**
 * The subject's code crashed its process: it threw from a timer or a callback, or left a promise
 * rejected with no handler. The run has no verdict (its process would have died); it says why.
 */
export class SubjectCrash extends Error {
  override name = 'SubjectCrash';
}

/** Check and freeze a subject; throws a SubjectError naming the field that is wrong. */
export function defineSubject<S extends SystemId, H>(definition: SubjectDefinition<S, H>): SubjectDefinition<S, H> {
  const d = definition as Partial<SubjectDefinition<S, H>> | null;
  if (d === null || typeof d !== 'object') throw new SubjectError('defineSubject needs an object');
  if (typeof d.name !== 'string' || !SUBJECT_NAME.test(d.name))
    throw new SubjectError(
      `name must be 1 to 64 letters, digits, '.', '_', '-' or '@', got ${JSON.stringify(d.name ?? null)}`,
    );
  if ((SYSTEM_IDS as readonly string[]).includes(d.name))
    throw new SubjectError(`name must differ from every system's (${SYSTEM_IDS.join(', ')}), got '${d.name}'`);
  if (typeof d.system !== 'string' || !(SYSTEM_IDS as readonly string[]).includes(d.system))
    throw new SubjectError(`system must be one of ${SYSTEM_IDS.join(', ')}, got ${JSON.stringify(d.system ?? null)}`);
  if (d.library !== undefined && (typeof d.library !== 'string' || d.library.length > 100))
    throw new SubjectError('library must be a string of at most 100 characters');
  if (d.tokens !== undefined && typeof d.tokens !== 'boolean') throw new SubjectError('tokens must be true or false');
  if (d.leaderElection !== undefined && typeof d.leaderElection !== 'boolean')
    throw new SubjectError('leaderElection must be true or false');
  if (d.liveOnly !== undefined && (typeof d.liveOnly !== 'string' || d.liveOnly.length === 0))
    throw new SubjectError('liveOnly must be the reason, a non-empty string');
  if (typeof d.create !== 'function') throw new SubjectError('create must be a function');
  return Object.freeze({ ...definition, [DEFINED]: true });
}

export function isSubject(value: unknown): value is SubjectDefinition {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[DEFINED] === true;
}

/** What `create` returned, checked: a lock with acquire and release, functions where given, an election if promised. */
export function checkInstance(definition: SubjectDefinition, instance: unknown): SubjectInstance {
  const { name } = definition;
  const i = instance as Partial<SubjectInstance> | null;
  const lock = i?.lock as Partial<SubjectLock> | undefined;
  if (i === null || typeof i !== 'object' || lock === undefined || typeof lock !== 'object')
    throw new SubjectError(`subject ${name}: create must return { lock: { acquire, release }, ... }`);
  for (const field of ['acquire', 'release'] as const)
    if (typeof lock[field] !== 'function') throw new SubjectError(`subject ${name}: lock.${field} must be a function`);
  for (const field of ['token', 'held'] as const)
    if (lock[field] !== undefined && typeof lock[field] !== 'function')
      throw new SubjectError(`subject ${name}: lock.${field} must be a function when given`);
  if (i.election !== undefined && typeof i.election.campaign !== 'function')
    throw new SubjectError(`subject ${name}: election.campaign must be a function when given`);
  if (definition.leaderElection === true && i.election === undefined)
    throw new SubjectError(`subject ${name}: leaderElection is true, but create returned no election`);
  return i as SubjectInstance;
}
