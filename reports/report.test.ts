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
    assert.match(html, /contradicted: claimed strong, but unsafe unfenced in leader-isolated/);
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

  it('refuses a directory without results.json, naming it', async () => {
    const dir = tempDir('lockstep-report-empty-');
    await assert.rejects(
      writeReport([dir], dir),
      (error: unknown) => error instanceof ReportError && error.message.includes(`${dir}: no results.json`),
    );
  });
});
