/**
 * index.html: one self-contained file. Styles inline, charts as inline SVG, no script, no external
 * URL, so it opens the same from file:// on a machine with no network. Every value interpolated
 * into the page goes through escapeHtml, numbers too: they came from a file someone else may have
 * written, and a report built from it must never run its markup. Charts are SVG drawn by vega,
 * which escapes the text it draws (reports/load.test.ts checks it).
 */
import type { Report } from './report.ts';
import { redactSecrets } from '../runner/redact.ts';
import { cellKey, replayOf, type Cell, type Mode } from './model.ts';
import { campaignHtml } from './campaign-render.ts';

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
td.cell { text-align: center; min-width: 5.5rem; }
.safe { background: #dff3e3; } .unsafe { background: #f9d6d5; } .skipped { background: #eee; color: #777; } .unknown { background: #fdefc8; }
.mode { display: block; font-size: .75rem; }
.flag { color: #b3261e; font-weight: bold; }
.chart { margin: 1rem 0; } .chart svg { max-width: 100%; height: auto; }
.wide { overflow-x: auto; }
code, pre { font-family: 'DejaVu Sans Mono', monospace; font-size: .8rem; }
details { margin: .5rem 0; }
`;

function cellHtml(cell: Partial<Record<Mode, Cell>> | undefined, id: string): string {
  if (cell === undefined) return '<td class="cell">-</td>';
  const modes = (['sim', 'live'] as const).flatMap((m) => {
    const c = cell[m];
    return c === undefined ? [] : [[m, c] as const];
  });
  const worst = modes.map(([, c]) => c.verdict).sort((a, b) => order(a) - order(b))[0] ?? 'unknown';
  const parts = modes.map(([m, c]) => {
    const runs = c.runs > 1 ? ` ${escapeHtml(c.unsafe)}/${escapeHtml(c.runs)}` : '';
    const lost = c.lostUpdates > 0 ? `, lost ${escapeHtml(c.lostUpdates)}` : '';
    return `<span class="mode ${escapeHtml(c.verdict)}">${m}: ${escapeHtml(c.verdict)}${runs}${lost}</span>`;
  });
  return `<td class="cell ${escapeHtml(worst)}" data-cell="${escapeHtml(id)}">${parts.join('')}</td>`;
}

function order(verdict: string): number {
  return ['unsafe', 'unknown', 'safe', 'skipped'].indexOf(verdict);
}

export function renderHtml(report: Report): string {
  const { matrix, columns, comparison, charts, timelines, loaded } = report;
  const head = columns.map((c) => `<th>${escapeHtml(c.system)}<br>fencing ${c.fencing ? 'on' : 'off'}</th>`).join('');
  const rows = matrix
    .map(
      (row) =>
        `<tr><th>${escapeHtml(row.scenario)}</th>${columns.map((c) => cellHtml(row.cells.get(cellKey(c.system, c.fencing)), `${row.scenario}/${cellKey(c.system, c.fencing)}`)).join('')}</tr>`,
    )
    .join('\n');
  const fmt = (v: Partial<Record<Mode, number>>) =>
    (['sim', 'live'] as const)
      .flatMap((m) => {
        const value = v[m];
        return value === undefined ? [] : [`${m} ${escapeHtml(value)}`];
      })
      .join('<br>') || '-';
  const comparisonRows = comparison
    .map(
      (r) => `<tr><th>${escapeHtml(r.name)}</th>
<td>unfenced: ${r.unsafeUnfenced.length === 0 ? 'safe in every scenario' : `unsafe in ${escapeHtml(r.unsafeUnfenced.join(', '))}`}<br>fenced: ${r.unsafeFenced.length === 0 ? 'safe in every scenario' : `unsafe in ${escapeHtml(r.unsafeFenced.join(', '))}`}</td>
<td>p50 ${fmt(r.p50Ms)} ms<br>p99 ${fmt(r.p99Ms)} ms<br>${fmt(r.acquisitionsPerSec)} acquisitions/s</td>
<td>${escapeHtml(r.servers)} server(s); ${escapeHtml(r.roundTrips)}</td>
<td>${escapeHtml(r.bestFor)}</td>
<td>${r.claimed === undefined ? 'no claim' : `consistency ${escapeHtml(r.claimed.consistency)}, speed ${escapeHtml(r.claimed.speed)}`}${r.contradictions.map((c) => `<br><span class="flag">contradicted: ${escapeHtml(c)}</span>`).join('')}</td></tr>`,
    )
    .join('\n');
  const chartHtml = charts
    .map(
      (c) =>
        `<figure class="chart" data-chart="${escapeHtml(c.name)}">${c.svg}<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`,
    )
    .join('\n');
  const timelineHtml =
    timelines.shown.length === 0
      ? '<p>No run was unsafe.</p>'
      : timelines.shown
          .map(
            (t) =>
              `<figure class="chart timeline" data-chart="timeline">${t.svg}<figcaption>${escapeHtml(t.caption)}<br><code>${escapeHtml(replayOf(t.run))}</code></figcaption></figure>`,
          )
          .join('\n') +
        (timelines.omitted > 0
          ? `<p>${timelines.omitted} more unsafe run(s) not drawn; every one is listed in the provenance below.</p>`
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
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>lockstep report</title><style>${STYLE}</style></head>
<body>
<h1>lockstep report</h1>
<p>${loaded.runs.length} run(s) from ${loaded.sources.length} run director${loaded.sources.length === 1 ? 'y' : 'ies'}. A run is unsafe when it lost an update or the protected register accepted a stale write.</p>
${report.campaigns.map(campaignHtml).join('\n')}
<h2 id="matrix">Verdicts</h2>
<div class="wide"><table class="matrix"><tr><th>scenario</th>${head}</tr>
${rows}
</table></div>
<h2 id="comparison">The comparison, measured</h2>
<div class="wide"><table class="comparison"><tr><th>mechanism</th><th>consistency (measured)</th><th>speed (measured)</th><th>complexity</th><th>best for</th><th>the usual claim</th></tr>
${comparisonRows}
</table></div>
<p>Speed in the simulator counts protocol round trips over 1 to 3 ms links and the time spent waiting for the lock under contention (a blocking lock hands over on release; a polling lock waits for its next retry); it says nothing of server CPU. Live runs measure the real thing. The usual claims are flagged where a measurement contradicts them: strong consistency by any unsafe unfenced run, high or low speed by a median p50 on the other side of the median system's.</p>
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
