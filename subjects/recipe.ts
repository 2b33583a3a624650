/**
 * A subject behind the recipes' interfaces (LockRecipe, ElectionRecipe), so that the workloads
 * drive it as they drive lockstep's own recipes. Every call into the subject's code goes through a
 * Gate: in the simulator it runs the code on the client's node and hands its promise to the kernel
 * (sim-gate.ts); live it is a plain call.
 */
import type { ElectionRecipe, Grant, Leadership, LockRecipe, SystemId } from '../backends/recipe.ts';
import { redlockOptions } from '../backends/redlock/index.ts';
import type { SystemConfig } from '../backends/system.ts';
import { recipeOptions } from '../backends/timing.ts';
import type { SubjectDefinition, SubjectInstance, SubjectLeadership, SubjectSettings } from './define.ts';

export interface Gate {
  /** Start subject code that returns a promise; its outcome, as something the workload can await. */
  async<T>(task: () => Promise<T>): PromiseLike<T>;
  /** Run synchronous subject code (isLeader, held, token). */
  sync<T>(fn: () => T): T;
}

/** Why a run of `subject` is skipped in either world: no token to fence with, no election to run. */
export function whyNotSubject(
  subject: SubjectDefinition,
  fencing: boolean,
  workload: 'mutex' | 'election',
): string | null {
  if (fencing && subject.tokens !== true) return `subject ${subject.name} gives no fencing token`;
  if (workload === 'election' && subject.leaderElection !== true) return `subject ${subject.name} has no election`;
  return null;
}

/** The run's settings as a subject of `system` gets them: RedLock's retry pace for RedLock, else every recipe's. */
export function subjectSettings(system: SystemId, config: SystemConfig): SubjectSettings {
  const retryDelayMs = system === 'redlock' ? redlockOptions(config).retryDelayMs : recipeOptions(config).retryDelayMs;
  return {
    key: config.name,
    ttlMs: config.ttlMs,
    acquireTimeoutMs: config.acquireTimeoutMs,
    retryDelayMs,
    fencing: config.fencing,
  };
}

export const DIRECT_GATE: Gate = {
  async: (task) => task(),
  sync: (fn) => fn(),
};

interface SubjectGrant extends Grant {
  readonly handle: unknown;
}

/** A fencing token is a non-negative safe integer; anything else from a subject is refused. */
function checkedToken(name: string, token: unknown): number | null {
  if (token === null || token === undefined) return null;
  if (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 0)
    throw new Error(`subject ${name}: a fencing token must be a non-negative integer, got ${JSON.stringify(token)}`);
  return token;
}

export function subjectLock(name: string, instance: SubjectInstance, gate: Gate, fencing: boolean): LockRecipe {
  const { lock } = instance;
  return {
    acquire: async () => {
      const handle = await gate.async(() => lock.acquire());
      if (handle === null || handle === undefined) return null;
      const token =
        fencing && lock.token !== undefined
          ? checkedToken(
              name,
              gate.sync(() => lock.token?.(handle)),
            )
          : null;
      const grant: SubjectGrant = {
        token,
        validUntilMs: null,
        handle,
        ...(lock.held === undefined ? {} : { stillHeld: () => gate.sync(() => lock.held?.(handle) ?? true) }),
      };
      return grant;
    },
    release: async (grant) => {
      await gate.async(() => lock.release((grant as SubjectGrant).handle));
    },
  };
}

export function subjectElection(name: string, instance: SubjectInstance, gate: Gate, fencing: boolean): ElectionRecipe {
  const { election } = instance;
  return {
    campaign: async () => {
      if (election === undefined) throw new Error(`subject ${name} has no election`);
      // Third-party code: undefined is taken as null.
      const won = (await gate.async(() => election.campaign())) as SubjectLeadership | null | undefined;
      if (won === null || won === undefined) return null;
      const leadership: Leadership = {
        token: fencing ? checkedToken(name, won.token) : null,
        isLeader: () => gate.sync(() => won.isLeader()),
        resign: async () => {
          await gate.async(() => won.resign());
        },
      };
      return leadership;
    },
  };
}
