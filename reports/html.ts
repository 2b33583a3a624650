/**
 * index.html: one self-contained file. Styles inline, charts as inline SVG, no script, nothing
 * loaded from a URL (a published result's address is shown as text, not linked), so it opens the
 * same from file:// on a machine with no network. Every value interpolated
 * into the page goes through escapeHtml, numbers too: they came from a file someone else may have
 * written, and a report built from it must never run its markup. Charts are SVG drawn by vega,
 * which escapes the text it draws (reports/load.test.ts checks it).
 */
import type { Report } from './report.ts';
import { redactSecrets } from '../runner/redact.ts';
import { CONSISTENCY_RULES } from './claims.ts';
import { cellKey, MODES, replayOf, tokenSound, type Cell, type Mode } from './model.ts';
import {
  cellText,
  cellTitle,
  claimText,
  columnLabel,
  consistencyLines,
  matrixBlocks,
  runCounts,
  sharedText,
  speedLines,
  speedScopeText,
} from './wording.ts';
import { campaignHtml } from './campaign-render.ts';
import { measuredText, publishedText } from './references.ts';

export function escapeHtml(value: string | number): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
body { font-family: 'DejaVu Sans', system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .85rem; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.matrix table { table-layout: fixed; width: 100%; }
.matrix th, .matrix td { overflow-wrap: anywhere; }
.matrix th.row { width: 11rem; }
td.cell { text-align: center; }
.safe { background: #dff3e3; } .unsafe { background: #f9d6d5; } .skipped { background: #eee; color: #555; } .unknown { background: #fdefc8; } .unproven { background: #e3eaf2; }
.mode { display: block; font-size: .75rem; }
.flag { color: #b3261e; font-weight: bold; }
.note { color: #555; }
.chart { margin: 1rem 0; } .chart svg { max-width: 100%; height: auto; }
.wide { overflow-x: auto; }
code, pre { font-family: 'DejaVu Sans Mono', monospace; font-size: .8rem; }
details { margin: .5rem 0; }
`;

function cellHtml(cell: Partial<Record<Mode, Cell>> | undefined, id: string, unproven: boolean): string {
  if (cell === undefined) return '<td class="cell">-</td>';
  const modes = MODES.flatMap((m) => {
    const c = cell[m];
    return c === undefined ? [] : [[m, c] as const];
  });
  const shade = (verdict: Cell['verdict']) => (unproven && verdict === 'safe' ? 'unproven' : verdict);
  const worst = shade(modes.map(([, c]) => c.verdict).sort((a, b) => order(a) - order(b))[0] ?? 'unknown');
  const titles = modes.flatMap(([m, c]) => {
    const title = cellTitle(c);
    return title === null ? [] : [`${m}: ${title}`];
  });
  const parts = modes.map(
    ([m, c]) =>
      `<span class="mode ${escapeHtml(shade(c.verdict))}">${m}: ${escapeHtml(cellText(c, { short: true, unproven }))}</span>`,
  );
  const title = titles.length === 0 ? '' : ` title="${escapeHtml(titles.join('\n'))}"`;
  return `<td class="cell ${escapeHtml(worst)}" data-cell="${escapeHtml(id)}"${title}>${parts.join('')}</td>`;
}

function order(verdict: string): number {
  return ['unsafe', 'unknown', 'safe', 'skipped'].indexOf(verdict);
}

/** A scenario name as a column head: it may break after each hyphen, so long names fit narrow columns. */
function scenarioHead(scenario: string): string {
  return escapeHtml(scenario).replace(/-/g, '-<wbr>');
}

/** The verdict matrix, transposed (a row per system and fencing, a column per scenario) and wrapped into tables that fit the page. */
function matrixHtml(report: Report): string {
  const { matrix, columns, loaded } = report;
  return matrixBlocks(matrix)
    .map((block) => {
      const head = block.map((row) => `<th>${scenarioHead(row.scenario)}</th>`).join('');
      const rows = columns
        .map((c) => {
          const sound = tokenSound(loaded.runs, c.system);
          const cells = block.map((row) =>
            cellHtml(
              row.cells.get(cellKey(c.system, c.fencing)),
              `${row.scenario}/${cellKey(c.system, c.fencing)}`,
              c.fencing && !sound,
            ),
          );
          return `<tr><th class="row">${escapeHtml(columnLabel(c.system, c.fencing, sound))}</th>${cells.join('')}</tr>`;
        })
        .join('\n');
      return `<table><tr><th class="row">system, fencing</th>${head}</tr>\n${rows}\n</table>`;
    })
    .join('\n');
}

function comparisonHtml(report: Report): string {
  const lines = (texts: readonly string[]) => texts.map((t) => escapeHtml(t)).join('<br>');
  return report.comparison
    .map(
      (r) => `<tr><th>${escapeHtml(r.name)}</th>
<td>${lines(consistencyLines(r))}</td>
<td>${lines(speedLines(r))}</td>
<td>${escapeHtml(r.servers)} server(s); ${escapeHtml(r.roundTrips)}</td>
<td>${escapeHtml(r.bestFor)}</td>
<td>${escapeHtml(claimText(r))}${r.contradictions.map((c) => `<br><span class="flag">contradicted: ${escapeHtml(c)}</span>`).join('')}${r.notes.map((n) => `<br><span class="note">note: ${escapeHtml(n)}</span>`).join('')}</td></tr>`,
    )
    .join('\n');
}

/** Each published result beside the measured one, with the scenario's account of the difference. */
function referencesHtml(report: Report): string {
  if (report.references.length === 0) return '';
  const views = report.references.map((view) => {
    const rows = view.rows
      .map(
        (row) =>
          `<tr><td>${escapeHtml(row.mode)}</td><td>${escapeHtml(columnLabel(row.system, row.fencing, tokenSound(report.loaded.runs, row.system)))}</td><td>${escapeHtml(measuredText(row))}</td></tr>`,
      )
      .join('\n');
    const where = view.url === null ? '' : ` (<code>${escapeHtml(view.url)}</code>)`;
    return `<h3>${escapeHtml(view.scenario)}</h3>
<p>Published: ${escapeHtml(publishedText(view))}${where}.</p>
<table><tr><th>mode</th><th>system, fencing</th><th>measured here</th></tr>
${rows}
</table>
<p class="note">Why the figures may differ: ${escapeHtml(view.note)}</p>`;
  });
  return `<h2 id="references">Against published results</h2>
<p>Scenarios that reproduce a published experiment, with lost updates over acknowledged writes summed over their judged runs.</p>
${views.join('\n')}`;
}

export function renderHtml(report: Report): string {
  const { charts, timelines, loaded, scopes } = report;
  const chartHtml = charts
    .map(
      (c) =>
        `<figure class="chart" data-chart="${escapeHtml(c.name)}">${c.svg}<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`,
    )
    .join('\n');
  const timelineHtml =
    timelines.shown.length === 0
      ? '<p>No run was unsafe.</p>'
      : `<p>One timeline per unsafe scenario, system, fencing setting and mode, drawn from its first unsafe seed.</p>\n` +
        timelines.shown
          .map(
            (t) =>
              `<figure class="chart timeline" data-chart="timeline">${t.svg}<figcaption>${escapeHtml(t.caption)}<br><code>${escapeHtml(replayOf(t.run))}</code></figcaption></figure>`,
          )
          .join('\n') +
        (timelines.omitted > 0
          ? `<p>${escapeHtml(timelines.omitted)} more unsafe cell(s) not drawn; every run is listed in the provenance below.</p>`
          : '');
  const sources = loaded.sources
    .map(
      (s) =>
        `<li><code>${escapeHtml(s.dir)}</code>: ${escapeHtml(s.mode)}, lockstep ${escapeHtml(s.version)}, ${escapeHtml(s.createdAt)}<br><code>${escapeHtml(redactSecrets(s.command))}</code></li>`,
    )
    .join('\n');
  const seeds = [...new Set(loaded.runs.map((r) => r.seed))].sort((a, b) => a - b);
  const replays = loaded.runs
    .map(
      (r) =>
        `${escapeHtml(replayOf(r))}   # ${escapeHtml(r.verdict)}${r.skipped === null ? '' : `: ${escapeHtml(r.skipped)}`}`,
    )
    .join('\n');
  const list = (texts: readonly string[]) => `<ul>${texts.map((t) => `<li>${escapeHtml(t)}</li>`).join('')}</ul>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>lockstep report</title><style>${STYLE}</style></head>
<body>
<h1>lockstep report</h1>
<p>${escapeHtml(runCounts(loaded.runs))} From ${loaded.sources.length} run director${loaded.sources.length === 1 ? 'y' : 'ies'}. A run is unsafe when it lost an update or the protected register accepted a stale write; a skipped run was not run and an unknown one could not be judged, and neither is counted as safe anywhere on this page.</p>
${report.campaigns.map(campaignHtml).join('\n')}
<h2 id="matrix">Verdicts</h2>
<div class="matrix">${matrixHtml(report)}</div>
<h2 id="comparison">The comparison, measured</h2>
<p>Figures that compare systems (the consistency column's shared scenarios, the speed column, the latency, safety and throughput charts) come only from scenarios every system ran and judged, so no system is ranked by how many scenarios were written for it. Shared scenarios:</p>
${list(scopes.map(sharedText))}
<div class="wide"><table class="comparison"><tr><th>mechanism</th><th>consistency (measured)</th><th>speed (acquire latency under contention)</th><th>complexity</th><th>best for</th><th>the usual claim</th></tr>
${comparisonHtml(report)}
</table></div>
<p>Speed is acquire latency: from a client's acquire call until it holds the lock, with several clients contending for one lock, so it includes waiting for the holder and each recipe's retry or poll policy (a blocking lock hands over on release; a polling lock waits for its next retry). In the simulator it counts protocol round trips over simulated links and that waiting, nothing of server CPU; live runs measure the real thing. Acquisitions/s are grants per second of simulated (sim) or real (live) time, all clients together. Read from:</p>
${list(scopes.map(speedScopeText))}
<p>${escapeHtml(CONSISTENCY_RULES)} A claim of high or low speed is flagged by a median p50 on the other side of the median system's in the same mode.</p>
${referencesHtml(report)}
<h2 id="charts">Charts</h2>
${chartHtml}
<h2 id="timelines">Timelines of unsafe runs</h2>
${timelineHtml}
<h2 id="provenance">Provenance</h2>
<ul>${sources}</ul>
<p>Seeds: ${escapeHtml(seeds.join(', '))}. Scenario files: ${escapeHtml([...new Set(loaded.runs.map((r) => r.file ?? `scenarios/${r.scenario}.yaml`))].sort().join(', '))}.</p>
<details><summary>Replay command of every run</summary><pre>${replays}</pre></details>
</body>
</html>
`;
}
