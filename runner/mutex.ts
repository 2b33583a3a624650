/**
 * The mutex workload: acquire, read the register, hold, write back read + 1, release, think.
 * Every step is recorded in the history; with fencing on, reads and writes carry the token.
 * It is written against a Runtime, a LockRecipe and a RegisterClient, so it runs unchanged
 * in the simulator and against live servers.
 */
import type { Grant, LockRecipe } from '../backends/recipe.ts';
import type { Runtime } from '../backends/runtime.ts';
import type { History } from './history.ts';
import type { RegisterReply } from './register.ts';
import { describe, registerStep } from './steps.ts';
import { drawMs, type DurationSpec } from './durations.ts';

export interface RegisterClient {
  read(token: number | null): Promise<RegisterReply>;
  write(value: number, token: number | null): Promise<RegisterReply>;
  increment(token: number | null): Promise<RegisterReply>;
}

export interface MutexParams {
  readonly holdMs: DurationSpec;
  readonly thinkMs: DurationSpec;
  readonly fencing: boolean;
  /** Before writing, check what the recipe knows of the lock (validity, session, connection); skip the write if it lapsed. */
  readonly careful?: boolean;
  /**
   * Called just before a write is sent, after the careful check: the world's chance to land a
   * fault a `writing` trigger waits for. A promise holds the write until it settles; undefined
   * (no such trigger) lets it go at once, with no extra step in the run's schedule.
   */
  readonly beforeWrite?: () => PromiseLike<void> | undefined;
}

/** By what the client itself knows, with no round trip: the grant's validity and the recipe's own view. */
export function stillHeld(grant: Grant, nowMs: number): boolean {
  if (grant.validUntilMs !== null && nowMs >= grant.validUntilMs) return false;
  return grant.stillHeld?.() ?? true;
}

/** Run one client until `stopping()` says so; it then finishes the round it is in. */
export async function mutexClient(
  process: string,
  runtime: Runtime,
  lock: LockRecipe,
  register: RegisterClient,
  history: History,
  params: MutexParams,
  stopping: () => boolean,
): Promise<void> {
  const clock = runtime.clock;
  while (!stopping()) {
    history.record(process, 'invoke', 'acquire');
    let grant;
    try {
      grant = await lock.acquire();
    } catch (error) {
      history.record(process, 'info', 'acquire', { error: describe(error) });
      await clock.sleep(drawMs(params.thinkMs, runtime.rng));
      continue;
    }
    if (grant === null) {
      history.record(process, 'fail', 'acquire', { error: 'timed out waiting for the lock' });
      await clock.sleep(drawMs(params.thinkMs, runtime.rng));
      continue;
    }
    const token = params.fencing ? grant.token : null;
    history.record(process, 'ok', 'acquire', { token: grant.token });
    const seen = await registerStep(history, process, 'read', { token }, () => register.read(token));
    if (seen !== null) {
      await clock.sleep(drawMs(params.holdMs, runtime.rng));
      if (params.careful === true && !stillHeld(grant, clock.monotonic()))
        history.record(process, 'fail', 'write', { error: 'careful: the lock may have lapsed, not writing' });
      else {
        const gate = params.beforeWrite?.();
        if (gate !== undefined) await gate;
        await registerStep(history, process, 'write', { value: seen + 1, token }, () =>
          register.write(seen + 1, token),
        );
      }
    }
    history.record(process, 'invoke', 'release', { token: grant.token });
    try {
      await lock.release(grant);
      history.record(process, 'ok', 'release', { token: grant.token });
    } catch (error) {
      history.record(process, 'info', 'release', { error: describe(error) });
    }
    await clock.sleep(drawMs(params.thinkMs, runtime.rng));
  }
}
