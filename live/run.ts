/**
 * One live run: a scenario, against one system (or a third-party subject on its servers), fenced
 * or not, on a live cluster: the live World (world.ts) through the run loop. And what a cluster
 * cannot run, or run beside other runs.
 */
import type { SystemId } from '../backends/recipe.ts';
import { runWorld } from '../runner/loop.ts';
import type { RunOutput, RunResult } from '../runner/run.ts';
import type { Scenario } from '../scenarios/schema.ts';
import type { Cluster } from './cluster.ts';
import { whyNotLive } from './capabilities.ts';
import { LiveWorld, type LiveFields } from './world.ts';
import { loadSubject } from '../subjects/index.ts';

export interface LiveRunSpec {
  readonly scenario: Scenario;
  readonly system: SystemId;
  /** A subject instead of the system's own recipe: a built-in name or a subject file. */
  readonly subject: string | null;
  readonly fencing: boolean;
  readonly seed: number;
  readonly cluster: Cluster;
  /** Numbers proxies and lock names, so that runs never share state. */
  readonly runIndex: number;
  /** Where client logs go. */
  readonly logDir: string;
}

export type LiveRunResult = RunResult & LiveFields;

export interface LiveRunOutput extends Omit<RunOutput, 'result'> {
  readonly result: LiveRunResult;
}

export async function runLive(spec: LiveRunSpec): Promise<LiveRunOutput> {
  const { scenario, system, subject, fencing, cluster } = spec;
  const definition = subject === null ? null : await loadSubject(subject);
  return runWorld(
    spec,
    new LiveWorld(spec, definition, () =>
      whyNotLive(scenario.faults, system, definition, fencing, cluster, scenario.lock.sentinel, scenario.workload),
    ),
  );
}
