/**
 * The election workload: every client campaigns; whoever wins does leader work for as long as it
 * believes it leads: check, work for `workMs`, commit the result as one increment of the register
 * (carrying its token when fencing is on). Then it campaigns again. An increment cannot be lost, so what the checkers find is work
 * accepted from a leader that had been deposed: split brain. Believed leadership runs from `campaign ok`
 * to `resign invoke`, which the client records the moment it stops believing.
 */
import type { ElectionRecipe } from '../backends/recipe.ts';
import type { Runtime } from '../backends/runtime.ts';
import type { History } from './history.ts';
import type { RegisterClient } from './mutex.ts';
import { describe, registerStep } from './steps.ts';
import { drawMs, type DurationSpec } from './durations.ts';

export interface ElectionParams {
  readonly workMs: DurationSpec;
  readonly thinkMs: DurationSpec;
  readonly fencing: boolean;
}

export async function electionClient(
  process: string,
  runtime: Runtime,
  election: ElectionRecipe,
  register: RegisterClient,
  history: History,
  params: ElectionParams,
  stopping: () => boolean,
): Promise<void> {
  const clock = runtime.clock;
  while (!stopping()) {
    history.record(process, 'invoke', 'campaign');
    let leadership;
    try {
      leadership = await election.campaign();
    } catch (error) {
      history.record(process, 'info', 'campaign', { error: describe(error) });
      await clock.sleep(drawMs(params.thinkMs, runtime.rng));
      continue;
    }
    if (leadership === null) {
      history.record(process, 'fail', 'campaign', { error: 'not elected in time' });
      continue;
    }
    history.record(process, 'ok', 'campaign', { token: leadership.token });
    const token = params.fencing ? leadership.token : null;
    // A unit of leader work: check leadership, spend workMs on the work, then commit its result.
    // A pause or a slow network between the check and the commit is what splits a brain.
    while (leadership.isLeader() && !stopping()) {
      await clock.sleep(drawMs(params.workMs, runtime.rng));
      await leaderWork(process, register, history, token);
    }
    history.record(process, 'invoke', 'resign', { token: leadership.token });
    try {
      await leadership.resign();
      history.record(process, 'ok', 'resign', { token: leadership.token });
    } catch (error) {
      history.record(process, 'info', 'resign', { error: describe(error) });
    }
    await clock.sleep(drawMs(params.thinkMs, runtime.rng));
  }
}

/** One unit of leader work: a single write, so that it can be delayed in the network as a whole. */
async function leaderWork(
  process: string,
  register: RegisterClient,
  history: History,
  token: number | null,
): Promise<void> {
  await registerStep(history, process, 'write', { token }, () => register.increment(token));
}
