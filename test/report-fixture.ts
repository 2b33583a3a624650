/**
 * A small run directory written by hand, in the shape lockstep writes: one unsafe run, so that a
 * report reads its history (latency chart and timeline) and draws every part of the page. Tests of
 * the report under hostile input change one value of it at a time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function fixtureResults(): { [key: string]: Json } {
  return {
    tool: { name: 'lockstep', version: '0.1.0' },
    mode: 'sim',
    createdAt: '2026-01-01T00:00:00.000Z',
    command: 'lockstep run scenarios/gc-pause-beyond-ttl.yaml',
    references: [
      {
        scenario: 'gc-pause-beyond-ttl',
        source: 'a paper',
        url: 'https://example.org/paper',
        lostFraction: 0.25,
        note: 'why they differ',
      },
    ],
    runs: [
      {
        scenario: 'gc-pause-beyond-ttl',
        system: 'redis',
        subject: null,
        fencing: false,
        seed: 1,
        mode: 'sim',
        expected: 'unsafe',
        fencingSound: true,
        verdict: 'unsafe',
        skipped: null,
        metrics: {
          lostUpdates: 1,
          staleWritesAccepted: 1,
          staleWritesRejected: 0,
          overlaps: 1,
          acknowledgedWrites: 2,
          acquisitions: 2,
          acquireFailures: 0,
          acquireLatencyMs: { p50: 1.5, p95: 2.5, p99: 2.5, max: 2.5 },
          unavailableMs: 0,
          takeoverMs: [],
          leaderOverlapMs: 3,
          leaderlessMs: 1,
          failoverMs: [2],
        },
        expectationMet: true,
        simulatedMs: 100,
        wallMs: 2,
        events: 40,
        traceHash: '0a6a07b1ca15f09c',
        notes: ['a note'],
        file: 'scenarios/gc-pause-beyond-ttl.yaml',
      },
    ],
  };
}

/** History lines of the fixture's run: c1 is paused past its lease, c2 takes the lock, c1 writes late. */
export function fixtureHistory(): { [key: string]: Json }[] {
  const op = (
    index: number,
    process: string,
    type: string,
    f: string,
    timeMs: number,
    extra: { [key: string]: Json } = {},
  ) => ({ kind: 'op', index, process, type, f, timeMs, ...extra });
  return [
    op(0, 'c1', 'invoke', 'acquire', 0),
    op(1, 'c1', 'ok', 'acquire', 1.5, { token: 1 }),
    op(2, 'nemesis', 'info', 'fault-start', 2, { value: 0, detail: 'pause holder' }),
    op(3, 'c2', 'invoke', 'acquire', 10),
    op(4, 'c2', 'ok', 'acquire', 12.5, { token: 2 }),
    op(5, 'c2', 'invoke', 'write', 13, { value: 1, token: 2 }),
    op(6, 'c2', 'ok', 'write', 14, { value: 1, token: 2 }),
    op(7, 'nemesis', 'info', 'fault-end', 50, { value: 0, detail: 'pause holder' }),
    op(8, 'c1', 'invoke', 'write', 51, { value: 1, token: 1 }),
    op(9, 'c1', 'ok', 'write', 52, { value: 1, token: 1, error: 'none' }),
    { kind: 'register-write', timeMs: 13.5, process: 'c2', value: 1, token: 2, accepted: true },
    { kind: 'register-write', timeMs: 51.5, process: 'c1', value: 1, token: 1, accepted: true },
  ];
}

export const HISTORY_FILE = 'gc-pause-beyond-ttl.redis.off.1.jsonl';

/** Write a run directory into `dir`: results.json as given (text or value), and the history file. */
export function writeFixture(
  dir: string,
  results: Json = fixtureResults(),
  history: readonly Json[] = fixtureHistory(),
): { results: string; history: string } {
  mkdirSync(join(dir, 'history'), { recursive: true });
  const paths = { results: join(dir, 'results.json'), history: join(dir, 'history', HISTORY_FILE) };
  writeFileSync(paths.results, typeof results === 'string' ? results : JSON.stringify(results, null, 2));
  writeFileSync(
    paths.history,
    history.map((line) => `${typeof line === 'string' ? line : JSON.stringify(line)}\n`).join(''),
  );
  return paths;
}
