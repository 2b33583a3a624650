/**
 * How a CI report (JUnit XML, a step summary) and the exit code count one run of results.json. A
 * skipped run was not run: it is reported as skipped, never as passed or safe (a live run is
 * skipped where real servers cannot suffer a fault), except a simulated run skipped where its
 * scenario expected a verdict, which failed. A run that did not meet its scenario's expectation
 * failed, an unknown verdict included. Anything else passed.
 */
import { runLabel, type RunEntryWritten } from '../runner/results.ts';

/** The fields of a results.json run that CI reports read: a run as written, or as loaded back. */
export type CiRun = Pick<
  RunEntryWritten,
  | 'scenario'
  | 'system'
  | 'subject'
  | 'fencing'
  | 'seed'
  | 'mode'
  | 'verdict'
  | 'skipped'
  | 'expected'
  | 'expectationMet'
  | 'notes'
  | 'wallMs'
  | 'durationMs'
  | 'metrics'
>;

export type RunOutcome = 'failed' | 'skipped' | 'passed';

export function runOutcome(run: Pick<CiRun, 'verdict' | 'expectationMet' | 'mode'>): RunOutcome {
  // The simulator performs every fault a scenario can name: a simulated run skipped where a
  // verdict was expected is a failed expectation (lockstep run exits 1), not a skip.
  if (run.verdict === 'skipped') return run.mode === 'sim' && run.expectationMet === false ? 'failed' : 'skipped';
  return run.expectationMet === false ? 'failed' : 'passed';
}

/** "expected safe, got unsafe", with any latency or damage bound the run broke (which fails a run whose verdict matched). */
export function expectationText(run: Pick<CiRun, 'expected' | 'verdict' | 'notes'>): string {
  const broken = (run.notes ?? []).filter((note) => note.startsWith('bound broken'));
  return [`expected ${run.expected ?? 'nothing'}, got ${run.verdict}`, ...broken].join('; ');
}

/** "gc-pause-beyond-ttl on redlock, fencing off, seed 3" (and ", live" for a live run). */
export function runTitle(run: Pick<CiRun, 'scenario' | 'system' | 'subject' | 'fencing' | 'seed' | 'mode'>): string {
  const live = run.mode === 'live' ? ', live' : '';
  return `${run.scenario} on ${runLabel(run)}, fencing ${run.fencing ? 'on' : 'off'}, seed ${run.seed}${live}`;
}
