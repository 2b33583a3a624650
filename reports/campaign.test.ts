import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompareFile } from '../runner/compare-file.ts';
import { campaignView } from './campaign.ts';
import { campaignHtml, campaignMarkdown } from './campaign-render.ts';

type Cell = CompareFile['cells'][number];

function cell(system: string, fencing: 'off' | 'on', unsafe: number, extra: Partial<Cell> = {}): Cell {
  return {
    system,
    fencing,
    fencingSound: system !== 'redlock',
    runs: 100,
    notApplicable: 0,
    notApplicableReasons: [],
    unknown: 0,
    unsafe,
    unsafeFraction: unsafe / 100,
    interval: [0, 0.05],
    ackedWrites: 1000,
    lostUpdates: unsafe,
    staleWritesAccepted: 0,
    lostPer1000: unsafe,
    stalePer1000: 0,
    unavailableFraction: 0.1,
    takeoverMs: null,
    firstUnsafe: unsafe > 0 ? 0 : null,
    counterexample: null,
    replay: null,
    ...extra,
  };
}

function file(cells: Cell[], systems: string[]): CompareFile {
  return {
    formatVersion: 1,
    tool: { name: 'lockstep', version: '0' },
    seed: 1,
    workload: { clients: 3, durationMs: 5000, ttlMs: 1000, holdMs: 250, thinkMs: 50, latencyMs: { min: 1, max: 5 } },
    systems,
    live: 0,
    cells,
    speed: systems.map((system, i) => ({
      system,
      source: 'sim' as const,
      uncontendedMs: { p50: 10 + i * 50, p95: 20, p99: 30, max: 40 },
      uncontendedRounds: 50,
      contendedClients: 3,
      contendedAcquisitionsPerSec: 4,
    })),
    schedules: [],
  };
}

describe('the campaign in the report', () => {
  const compared = file(
    [
      cell('redis', 'off', 9),
      cell('redis', 'on', 1),
      cell('redlock', 'off', 6),
      cell('redlock', 'on', 0),
      cell('etcd', 'off', 2),
      cell('etcd', 'on', 0),
    ],
    ['redis', 'redlock', 'etcd'],
  );
  const view = campaignView(compared);
  const row = (system: string) => {
    const found = view.rows.find((r) => r.system === system);
    assert.ok(found !== undefined, system);
    return found;
  };

  it('recommends for correctness only a sound token that was never unsafe fenced', () => {
    const correctness = view.advice.find((a) => a.startsWith('For correctness'));
    assert.ok(correctness !== undefined && correctness.includes('etcd'), correctness);
    assert.ok(!correctness.includes('Redis') && !correctness.includes('RedLock'), correctness);
    assert.match(row('etcd').bestFor, /^correctness locks/);
    assert.match(row('redis').bestFor, /^efficiency locks: fenced, still unsafe in 1 of 100 runs/);
    assert.match(row('redlock').bestFor, /^efficiency locks only: no sound fencing token/);
  });

  it('never reads RedLock fenced as safe, and judges claims by the fenced runs', () => {
    assert.match(row('redlock').fenced, /^no sound token/);
    assert.match(row('redlock').contradiction, /no sound fencing token/);
    // etcd claims strong consistency and was unsafe unfenced: not a contradiction, its fenced runs were clean.
    assert.equal(row('etcd').contradiction, '');
    const strong = campaignView(file([cell('etcd', 'off', 2), cell('etcd', 'on', 3)], ['etcd']));
    assert.match(strong.rows[0]?.contradiction ?? '', /claimed strong, but unsafe in 3 of 100 fenced runs/);
  });

  it('names every system unsafe without fencing alike', () => {
    const unfenced = view.advice.find((a) => a.startsWith('Without fencing'));
    for (const name of ['Redis (single node)', 'RedLock', 'etcd']) assert.ok(unfenced?.includes(name), name);
  });

  it('counts schedules that did not apply apart, with their reasons, and says when none was judged', () => {
    const sparse = campaignView(
      file(
        [
          cell('redis', 'off', 0, {
            runs: 0,
            unsafeFraction: null,
            interval: [0, 1],
            notApplicable: 100,
            notApplicableReasons: [{ reason: 'no such node', schedules: 100 }],
          }),
        ],
        ['redis'],
      ),
    );
    assert.equal(sparse.rows[0]?.unfenced, 'no run judged');
    assert.match(sparse.rows[0].notApplicable, /100 \(fencing off\): no such node/);
    assert.ok(!sparse.advice.some((a) => a.startsWith('For correctness')));
  });

  it('escapes what compare.json holds, in the page and in Markdown', () => {
    const hostile = campaignView(
      file(
        [cell('<img src=x onerror=alert(1)>', 'off', 1, { replay: '`x`|<b>', counterexample: 'c.yaml' })],
        ['<img src=x onerror=alert(1)>'],
      ),
    );
    const html = campaignHtml(hostile);
    assert.ok(!html.includes('<img'), html);
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    const md = campaignMarkdown(hostile).join('\n');
    // Markup outside a code span is escaped; inside one (the replay command) Markdown shows it literally.
    assert.ok(!md.includes('<img'), md);
    assert.ok(md.includes("`'x'|<b>`"), md);
  });

  it("gives a subject a row of its own under its name, after its system's, and never reads its tokenless fenced cell as measured", () => {
    const reason = 'subject node-redlock gives no fencing token';
    const withSubject = file(
      [
        cell('redlock', 'off', 6),
        cell('redlock', 'on', 0),
        cell('redlock', 'off', 9, {
          subject: 'node-redlock',
          counterexample: 'counterexamples/node-redlock-fencing-off.yaml',
          replay: 'npx lockstep run counterexamples/node-redlock-fencing-off.yaml --subject node-redlock --seed 1',
        }),
        cell('redlock', 'on', 0, {
          subject: 'node-redlock',
          runs: 0,
          unsafeFraction: null,
          interval: [0, 1],
          notApplicable: 100,
          notApplicableReasons: [{ reason, schedules: 100 }],
        }),
      ],
      ['redlock'],
    );
    const view = campaignView(withSubject);
    assert.deepEqual(
      view.rows.map((r) => r.system),
      ['redlock', 'node-redlock'],
    );
    const [own, subject] = view.rows;
    assert.ok(own !== undefined && subject !== undefined);
    assert.match(subject.name, /^node-redlock/);
    assert.match(subject.unfenced, /unsafe in 9 of 100/);
    assert.equal(subject.fenced, `not applicable: ${reason}`);
    assert.match(subject.bestFor, new RegExp(`^efficiency locks only: ${reason}`));
    assert.doesNotMatch(subject.damage, /fencing on/);
    assert.match(subject.notApplicable, /100 \(fencing on\): subject node-redlock gives no fencing token/);
    assert.deepEqual(
      subject.counterexamples.map((c) => c.replay),
      ['npx lockstep run counterexamples/node-redlock-fencing-off.yaml --subject node-redlock --seed 1'],
    );
    assert.match(own.unfenced, /unsafe in 6 of 100/);
    assert.match(view.workload, /Each subject ran its system's schedules/);
    assert.ok(
      view.advice.some((a) => a.includes('node-redlock (redlock 5.0.0-beta.2) 9%')),
      view.advice.join('\n'),
    );
  });
});
