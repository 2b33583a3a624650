/** One run as results.json holds it, for the tests of the CI reports (JUnit XML, step summaries): a safe, expected, simulated run unless `fields` say otherwise. */
import type { TimedRun } from '../runner/run-dir.ts';

export const CI_RUN_METRICS = {
  lostUpdates: 1,
  staleWritesAccepted: 2,
  staleWritesRejected: 3,
  overlaps: 4,
  acknowledgedWrites: 50,
  acquisitions: 40,
  acquireFailures: 5,
  acquireLatencyMs: { p50: 219.9, p95: 1000, p99: 2164.9, max: 3000 },
  unavailableMs: 120,
};

export function ciRun(fields: Partial<TimedRun> = {}): TimedRun {
  return {
    scenario: 'gc-pause-beyond-ttl',
    system: 'redis',
    subject: null,
    fencing: false,
    seed: 1,
    mode: 'sim',
    verdict: 'safe',
    skipped: null,
    expected: 'safe',
    expectationMet: true,
    simulatedMs: 5000,
    wallMs: 12.5,
    notes: [],
    metrics: CI_RUN_METRICS,
    ...fields,
  };
}
