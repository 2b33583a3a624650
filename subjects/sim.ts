/**
 * A subject in the simulator: on each client node, its own clients (simulated ones with the API
 * the library expects), its code run on the node's time and randomness (ambient.ts), and its
 * promises handed to the kernel as Futures the workload can await.
 */
import type { ElectionRecipe, LockRecipe, SystemId } from '../backends/recipe.ts';
import { redlockOptions } from '../backends/redlock/index.ts';
import type { SystemConfig } from '../backends/system.ts';
import { requestTimeoutMs } from '../backends/timing.ts';
import type { Kernel } from '../sim/kernel.ts';
import type { Host } from '../sim/node.ts';
import { runOn, type Ambient } from './ambient.ts';
import { checkInstance, SubjectCrash, SubjectError, type SubjectDefinition } from './define.ts';
import { subjectElection, subjectLock, subjectSettings, whyNotSubject, type Gate } from './recipe.ts';
import { SimIoredis } from './sim-ioredis.ts';

/** The systems whose clients the simulator can hand a subject. */
export const SIM_SUBJECT_SYSTEMS: readonly SystemId[] = ['redis', 'redlock'];

/** Why `subject` cannot run in the simulator with these settings, or null. */
export function whyNotSim(subject: SubjectDefinition, fencing: boolean, workload: 'mutex' | 'election'): string | null {
  if (subject.liveOnly !== undefined) return `subject ${subject.name} runs only live: ${subject.liveOnly}`;
  if (!SIM_SUBJECT_SYSTEMS.includes(subject.system))
    return `subject ${subject.name}: the simulator has no ${subject.system} client for third-party code yet (it has ${SIM_SUBJECT_SYSTEMS.join(', ')}); run it live`;
  return whyNotSubject(subject, fencing, workload);
}

export function ambientOf(host: Host, kernel: Kernel): Ambient {
  return {
    host,
    rng: host.rng.fork('subject'),
    wake: () => kernel.wokeUncounted(),
    fail: (error) => {
      const reason = error instanceof Error ? error.message : String(error);
      kernel.fail(new SubjectCrash(`subject code on node '${host.id}' threw: ${reason}`, { cause: error }));
    },
  };
}

/** Subject code as the kernel sees it: started on the node, its promise settled into a Future. */
export function simGate(ambient: Ambient): Gate {
  return {
    async: <T>(task: () => Promise<T>) => {
      const future = ambient.host.future<T>();
      ambient.wake();
      let promise: Promise<T>;
      try {
        promise = runOn(ambient, task);
      } catch (error) {
        future.reject(error);
        return future;
      }
      Promise.resolve(promise).then(
        (value) => future.resolve(value),
        (error: unknown) => future.reject(error),
      );
      return future;
    },
    sync: (fn) => runOn(ambient, fn),
  };
}

/** The clients a subject of `system` gets, one per server, with the timeouts lockstep's live clients use. */
function simClients(system: SystemId, ambient: Ambient, servers: readonly string[], config: SystemConfig): unknown[] {
  const timeoutMs = system === 'redlock' ? redlockOptions(config).requestTimeoutMs : requestTimeoutMs(config.ttlMs);
  return servers.map((server, i) => new SimIoredis(ambient, { server, commandTimeoutMs: timeoutMs, port: 6379 + i }));
}

export interface SimSubjectRecipes {
  readonly lock: LockRecipe;
  readonly election: ElectionRecipe;
}

/** Set the subject up on a client node (its `create`, on the node), and wrap it as recipes. */
export async function simSubjectRecipes(
  subject: SubjectDefinition,
  host: Host,
  kernel: Kernel,
  servers: readonly string[],
  config: SystemConfig,
): Promise<SimSubjectRecipes> {
  const ambient = ambientOf(host, kernel);
  const gate = simGate(ambient);
  const clients = simClients(subject.system, ambient, servers, config);
  const settings = subjectSettings(subject.system, config);
  let created: unknown;
  try {
    created = await gate.async(() =>
      Promise.resolve(subject.create({ clients, settings } as Parameters<SubjectDefinition['create']>[0])),
    );
  } catch (error) {
    throw new SubjectError(
      `subject ${subject.name}: create threw: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const instance = checkInstance(subject, created);
  return {
    lock: subjectLock(subject.name, instance, gate, config.fencing),
    election: subjectElection(subject.name, instance, gate, config.fencing),
  };
}
