import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ReportError } from './load.ts';
import { writeReport } from './report.ts';
import { simRunDir } from '../test/sim-run.ts';
import { tempDir } from '../test/temp.ts';

/** A real lockstep run of two library scenarios on two systems, into a fresh directory. */
function realRun(): Promise<string> {
  return simRunDir('lockstep-report-', ['gc-pause-beyond-ttl', 'leader-isolated'], ['redis', 'postgres']);
}

describe('lockstep report', () => {
  it('builds index.html, report.md and charts from a real run of two scenarios', async () => {
    const dir = await realRun();
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as { runs: unknown[] };
    assert.equal((html.match(/data-cell="/g) ?? []).length, results.runs.length, 'one matrix cell per run');
    for (const chart of ['latency', 'safety', 'throughput', 'failover']) {
      const figure = new RegExp(`data-chart="${chart}">(.*?)</figure>`, 's').exec(html);
      assert.ok(figure !== null, `chart ${chart} is in the page`);
      assert.match(figure[1]!, /class="mark-/, `chart ${chart} has drawn marks`);
      assert.ok(existsSync(join(dir, 'charts', `${chart}.png`)) && existsSync(join(dir, 'charts', `${chart}.svg`)));
    }
    assert.ok((html.match(/class="chart timeline"/g) ?? []).length >= 2, 'every unsafe run has a timeline');
    assert.doesNotMatch(html, /<script/i, 'no script: the page works from file:// without a runtime');
    assert.doesNotMatch(
      html.replace(/http:\/\/www\.w3\.org\/[^"]*/g, ''),
      /https?:\/\//,
      'no URL outside the SVG namespaces',
    );
    // PostgreSQL's strong claim is judged by its fenced runs, safe here; its unsafe unfenced run is a note.
    assert.doesNotMatch(html, /contradicted: claimed strong/);
    assert.match(html, /note: unsafe without fencing in leader-isolated \(sim\)/);
    const markdown = readFileSync(join(dir, 'report.md'), 'utf8');
    for (const link of markdown.match(/\(charts\/[^)]+\.png\)/g) ?? [])
      assert.ok(existsSync(join(dir, link.slice(1, -1))), `${link} exists`);
    assert.match(markdown, /npx lockstep run .*gc-pause-beyond-ttl\.yaml --systems redis --fencing off --seed 1/);
  });

  it('shows text from a run directory as text, never as markup', async () => {
    const dir = tempDir('lockstep-report-xss-');
    mkdirSync(join(dir, 'history'));
    const evil = '<script>alert(1)</script>';
    const run = {
      scenario: evil,
      system: 'redis',
      fencing: false,
      seed: 1,
      mode: 'sim',
      verdict: 'skipped',
      skipped: `because ${evil}`,
      metrics: null,
      expected: null,
      expectationMet: null,
      simulatedMs: 0,
      events: 0,
      traceHash: null,
      notes: [],
    };
    writeFileSync(
      join(dir, 'results.json'),
      JSON.stringify({
        tool: { name: 'lockstep', version: evil },
        mode: 'sim',
        createdAt: 'now',
        command: evil,
        runs: [run],
      }),
    );
    await writeReport([dir], dir);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.doesNotMatch(html, /<script>/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    // Markdown shows code spans and fenced blocks literally; everywhere else the text must be escaped.
    const prose = readFileSync(join(dir, 'report.md'), 'utf8')
      .replace(/```[\s\S]*?```/g, '')
      .replace(/`[^`]*`/g, '');
    assert.doesNotMatch(prose, /<script>/);
  });

  it('shows sim and live side by side when both judged a cell', async () => {
    const dir = tempDir('lockstep-report-both-');
    const run = (mode: string, verdict: string, lost: number) => ({
      scenario: 'no-faults',
      system: 'redis',
      fencing: false,
      seed: 1,
      mode,
      verdict,
      skipped: null,
      expected: null,
      expectationMet: null,
      simulatedMs: 1000,
      events: 1,
      metrics: {
        lostUpdates: lost,
        staleWritesAccepted: 0,
        staleWritesRejected: 0,
        overlaps: 0,
        acquisitions: 5,
        acquireFailures: 0,
        acquireLatencyMs: { p50: 1, p95: 2, p99: 3, max: 4 },
        unavailableMs: 0,
      },
    });
    writeFileSync(
      join(dir, 'results.json'),
      JSON.stringify({
        tool: { name: 'lockstep', version: 't' },
        mode: 'sim',
        runs: [run('sim', 'safe', 0), run('live', 'unsafe', 2)],
      }),
    );
    await writeReport([dir], dir);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.match(
      html,
      /<td class="cell unsafe" data-cell="no-faults\/redis\/off"><span class="mode safe">sim: safe<\/span><span class="mode unsafe">live: unsafe, lost 2<\/span><\/td>/,
    );
  });

  it("gives a third-party subject's live runs a column of their own, apart from the system's", async () => {
    const dir = tempDir('lockstep-report-subject-');
    const run = (subject: string | null, verdict: string) => ({
      scenario: 'gc-pause-beyond-ttl',
      system: 'redlock',
      subject,
      fencing: false,
      seed: 1,
      mode: 'live',
      verdict,
      skipped: null,
      expected: null,
      expectationMet: null,
      simulatedMs: 1000,
      events: 1,
      metrics: {
        lostUpdates: verdict === 'unsafe' ? 1 : 0,
        staleWritesAccepted: 0,
        staleWritesRejected: 0,
        overlaps: 0,
        acquisitions: 5,
        acquireFailures: 0,
        acquireLatencyMs: { p50: 1, p95: 2, p99: 3, max: 4 },
        unavailableMs: 0,
      },
    });
    writeFileSync(
      join(dir, 'results.json'),
      JSON.stringify({
        tool: { name: 'lockstep', version: 't' },
        mode: 'live',
        runs: [run(null, 'unsafe'), run('node-redlock', 'safe')],
      }),
    );
    await writeReport([dir], dir);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.match(html, /data-cell="gc-pause-beyond-ttl\/redlock\/off"><span class="mode unsafe">live: unsafe/);
    assert.match(html, /data-cell="gc-pause-beyond-ttl\/node-redlock\/off"><span class="mode safe">live: safe/);
  });

  it('never calls skipped runs safe: not in the matrix, the comparison, the charts or the summary', async () => {
    const dir = tempDir('lockstep-report-skipped-');
    const reason = 'selector minority: a single server has no minority';
    const run = (system: string, fencing: boolean, skipped: boolean) => ({
      scenario: 'minority-cut',
      system,
      fencing,
      seed: 1,
      mode: 'sim',
      verdict: skipped ? 'skipped' : 'safe',
      skipped: skipped ? reason : null,
      expected: null,
      expectationMet: null,
      simulatedMs: skipped ? 0 : 1000,
      metrics: skipped
        ? null
        : {
            lostUpdates: 0,
            staleWritesAccepted: 0,
            staleWritesRejected: 0,
            overlaps: 0,
            acquisitions: 5,
            acquireFailures: 0,
            acquireLatencyMs: { p50: 1, p95: 2, p99: 3, max: 4 },
            unavailableMs: 0,
          },
    });
    const runs = ['redis', 'postgres', 'etcd'].flatMap((system) =>
      [false, true].map((fencing) => run(system, fencing, system !== 'etcd')),
    );
    writeFileSync(
      join(dir, 'results.json'),
      JSON.stringify({ tool: { name: 'lockstep', version: 't' }, mode: 'sim', runs }),
    );
    await writeReport([dir], dir);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    assert.match(
      html,
      /6 run\(s\): 2 safe, 0 unsafe, 4 not run \(skipped\), 0 unknown/,
      'the summary counts them as not run, and only the judged runs as safe',
    );
    for (const system of ['redis', 'postgres']) {
      for (const fencing of ['off', 'on']) {
        const cell = new RegExp(
          `<td class="cell skipped" data-cell="minority-cut/${system}/${fencing}" title="sim: not run: ${reason}"><span class="mode skipped">sim: not run: ${reason}</span></td>`,
        );
        assert.match(html, cell, `${system} ${fencing}: the reason is shown and in the title`);
      }
    }
    for (const name of ['Redis \\(single node\\)', 'PostgreSQL advisory lock']) {
      const row = new RegExp(`<tr><th>${name}</th>(.*?)</tr>`, 's').exec(html)?.[1] ?? '';
      assert.match(row, new RegExp(`not run: ${reason} \\(minority-cut\\)`));
      assert.doesNotMatch(row, /\bsafe\b/, `${name}: no safe claim for runs that never ran`);
    }
    const safety = /data-chart="safety">(.*?)<\/figure>/s.exec(html)?.[1] ?? '';
    assert.doesNotMatch(safety, /system: (redis|postgres)/, 'no 0 bar for a system that ran nothing');
    const markdown = readFileSync(join(dir, 'report.md'), 'utf8');
    for (const line of markdown.split('\n').filter((l) => /^\| (redis|postgres|Redis|PostgreSQL)/.test(l))) {
      assert.doesNotMatch(line, /\bsafe\b/, line);
      assert.match(line, /not run: selector minority/);
    }
  });

  it("sets a scenario's published figure beside its own lost updates over acknowledged writes, with the scenario's account of the gap", async () => {
    const dir = await simRunDir('lockstep-report-reference-', ['jepsen-etcd-343-server-pauses'], ['etcd']);
    const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as {
      references: { scenario: string; lostFraction: number }[];
      runs: { fencing: boolean; metrics: { lostUpdates: number; acknowledgedWrites: number } }[];
    };
    assert.deepEqual(
      results.references.map((r) => [r.scenario, r.lostFraction]),
      [['jepsen-etcd-343-server-pauses', 0.18]],
      'results.json carries the reference of the scenario that ran',
    );
    await writeReport([dir], dir);
    for (const page of [readFileSync(join(dir, 'index.html'), 'utf8'), readFileSync(join(dir, 'report.md'), 'utf8')]) {
      assert.match(page, /Against published results/);
      assert.match(
        page,
        /Jepsen, etcd 3\.4\.3 \(2020\), lock test with process pauses: 18% of acknowledged updates lost/,
      );
      assert.match(page, /Why the figures may differ: Over seeds 1 to 30/);
      for (const run of results.runs) {
        const { lostUpdates, acknowledgedWrites } = run.metrics;
        assert.ok(acknowledgedWrites > 0);
        const measured = `${((lostUpdates / acknowledgedWrites) * 100).toFixed(1)}% lost (${lostUpdates} of ${acknowledgedWrites} acknowledged updates), unsafe in ${lostUpdates > 0 ? 1 : 0} of 1 judged run(s)`;
        assert.ok(page.includes(measured), `${run.fencing ? 'fenced' : 'unfenced'}: ${measured}`);
      }
    }
  });

  it('refuses a directory without results.json, naming it', async () => {
    const dir = tempDir('lockstep-report-empty-');
    await assert.rejects(
      writeReport([dir], dir),
      (error: unknown) => error instanceof ReportError && error.message.includes(`${dir}: no results.json`),
    );
  });
});
