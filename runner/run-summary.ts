/**
 * What a campaign keeps of a run: its verdict and the few figures the comparison adds up. Small
 * enough to cross a worker thread boundary by the thousand; the history stays where it ran.
 */
import type { SystemId } from '../backends/recipe.ts';
import type { Scenario } from '../scenarios/schema.ts';
import { runScenario, type Verdict } from './run.ts';

export interface RunRequest {
  readonly scenario: Scenario;
  readonly seed: number;
  readonly system: SystemId;
  readonly fencing: boolean;
  /** A subject run instead of the system's recipe (a built-in name or a file). */
  readonly subject?: string | null;
}

export interface RunSummary {
  readonly verdict: Verdict;
  readonly lostUpdates: number;
  readonly staleWritesAccepted: number;
  /** Writes the register acknowledged to a client (the denominator of lost updates per 1,000). */
  readonly ackedWrites: number;
  readonly unavailableMs: number;
  readonly simulatedMs: number;
  /** For every grant lost to a crash, a pause or an isolation, the time until the lock was next granted. */
  readonly takeoverMs: readonly number[];
  readonly traceHash: string | null;
}

export async function summarizeRun(request: RunRequest): Promise<RunSummary> {
  const { result } = await runScenario(request);
  const m = result.metrics;
  return {
    verdict: result.verdict,
    lostUpdates: m?.lostUpdates ?? 0,
    staleWritesAccepted: m?.staleWritesAccepted ?? 0,
    ackedWrites: m?.acknowledgedWrites ?? 0,
    unavailableMs: m?.unavailableMs ?? 0,
    simulatedMs: result.simulatedMs,
    takeoverMs: m?.takeoverMs ?? [],
    traceHash: result.traceHash,
  };
}
