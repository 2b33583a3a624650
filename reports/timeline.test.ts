import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixtureResults, writeFixture, type Json } from '../test/report-fixture.ts';
import { tempDir } from '../test/temp.ts';
import { loadRunDirs } from './load.ts';
import { timeline } from './timeline.ts';

/** The fixture's one run (c1 paused past its lease, c2 takes over, c1 writes late), with its TTL or without. */
function fixtureTimeline(ttlMs: number | undefined) {
  const results = fixtureResults();
  const runs = results.runs as { [key: string]: Json }[];
  const dir = tempDir('lockstep-timeline-');
  writeFixture(dir, { ...results, runs: runs.map((run) => (ttlMs === undefined ? run : { ...run, ttlMs })) });
  const [run] = loadRunDirs([dir]).runs;
  assert.ok(run);
  const t = timeline(run);
  assert.ok(t, 'the run has a history');
  return t;
}

describe('timeline', () => {
  test('each hold carries the token its grant returned, and each write the token it carried', () => {
    const t = fixtureTimeline(30);
    assert.deepEqual(
      t.holds.map((h) => [h.client, h.startMs, h.token]),
      [
        ['c1', 1.5, 1],
        ['c2', 12.5, 2],
      ],
    );
    assert.deepEqual(
      t.writes.map((w) => [w.client, w.token]),
      [
        ['c2', 2],
        ['c1', 1],
      ],
    );
  });

  test("each grant's lease lapses at its grant time plus the run's TTL", () => {
    const t = fixtureTimeline(30);
    assert.equal(t.ttlMs, 30);
    assert.deepEqual(
      t.expiries.map((e) => [e.client, e.grantedMs, e.expiresMs, e.token]),
      [
        ['c1', 1.5, 31.5, 1],
        ['c2', 12.5, 42.5, 2],
      ],
    );
  });

  test('a run from before results.json held its TTL has no lease expiries', () => {
    const t = fixtureTimeline(undefined);
    assert.equal(t.ttlMs, undefined);
    assert.deepEqual(t.expiries, []);
  });
});
