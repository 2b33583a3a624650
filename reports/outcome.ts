/**
 * How a CI report (JUnit XML, a step summary) counts one run of results.json. A skipped run was not
 * run: it is reported as skipped, never as passed or safe, and never as a failure, whatever its
 * expectation (a live run is skipped where a server is missing). A run that ran and did not meet
 * its scenario's expectation failed, an unknown verdict included. Anything else passed.
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

export function runOutcome(run: Pick<CiRun, 'verdict' | 'expectationMet'>): RunOutcome {
  if (run.verdict === 'skipped') return 'skipped';
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
