/**
 * The campaign's section of index.html and report.md. Every value comes from compare.json, a file
 * someone else may have written: each goes through escapeHtml or the Markdown escapes.
 */
import type { CampaignView } from './campaign.ts';
import { escapeHtml } from './html.ts';
import { markdownCode, markdownText } from './markdown.ts';

const COLUMNS = [
  ['mechanism', (r: CampaignView['rows'][number]) => r.name],
  ['unsafe, unfenced', (r: CampaignView['rows'][number]) => r.unfenced],
  ['unsafe, fenced', (r: CampaignView['rows'][number]) => r.fenced],
  ['per 1,000 acknowledged writes', (r: CampaignView['rows'][number]) => r.damage],
  ['lock wanted, nobody held it', (r: CampaignView['rows'][number]) => r.unavailable],
  ['takeover after a holder was lost (crash, pause, cut)', (r: CampaignView['rows'][number]) => r.takeover],
  ['speed (no faults)', (r: CampaignView['rows'][number]) => r.speed],
  ['complexity', (r: CampaignView['rows'][number]) => r.complexity],
  ['best for (derived)', (r: CampaignView['rows'][number]) => r.bestFor],
  ['not applicable', (r: CampaignView['rows'][number]) => r.notApplicable],
] as const;

export function campaignHtml(view: CampaignView): string {
  const rows = view.rows
    .map((r) => {
      const cells = COLUMNS.map(([, pick]) => `<td>${escapeHtml(pick(r))}</td>`).join('');
      const claim = `<td>${escapeHtml(r.claim)}${r.contradiction === '' ? '' : `<br><span class="flag">contradicted: ${escapeHtml(r.contradiction)}</span>`}</td>`;
      const live = r.live === '' ? '' : `<br>live: ${escapeHtml(r.live)}`;
      return `<tr data-system="${escapeHtml(r.system)}">${cells}${claim}</tr>${live === '' ? '' : `<tr><td colspan="${COLUMNS.length + 1}">${escapeHtml(r.name)}${live}</td></tr>`}`;
    })
    .join('\n');
  const examples = view.rows
    .flatMap((r) =>
      r.counterexamples.map(
        (c) => `<li>${escapeHtml(r.name)}, fencing ${escapeHtml(c.fencing)}: <code>${escapeHtml(c.replay)}</code></li>`,
      ),
    )
    .join('\n');
  return `<h2 id="campaign">${escapeHtml(view.heading)}</h2>
<h3>What to use</h3>
<ul class="advice">${view.advice.map((a) => `<li>${escapeHtml(a)}</li>`).join('\n')}</ul>
<p>${escapeHtml(view.workload)}</p>
<table class="campaign"><tr>${COLUMNS.map(([title]) => `<th>${escapeHtml(title)}</th>`).join('')}<th>the usual claim</th></tr>
${rows}
</table>
${view.notes.map((n) => `<p>${escapeHtml(n)}</p>`).join('\n')}
<h3>Smallest counterexamples</h3>
${examples === '' ? '<p>No run of the campaign was unsafe.</p>' : `<ul>${examples}</ul>`}`;
}

export function campaignMarkdown(view: CampaignView): string[] {
  const lines = [`## ${markdownText(view.heading)}`, '', '### What to use', ''];
  for (const a of view.advice) lines.push(`- ${markdownText(a)}`);
  lines.push(
    '',
    markdownText(view.workload),
    '',
    `| ${COLUMNS.map(([title]) => title).join(' | ')} | the usual claim |`,
    `| ${COLUMNS.map(() => '---').join(' | ')} | --- |`,
  );
  for (const r of view.rows) {
    const claim = `${markdownText(r.claim)}${r.contradiction === '' ? '' : `; **contradicted: ${markdownText(r.contradiction)}**`}`;
    lines.push(`| ${COLUMNS.map(([, pick]) => markdownText(pick(r))).join(' | ')} | ${claim} |`);
  }
  lines.push('');
  for (const r of view.rows) if (r.live !== '') lines.push(`- live, ${markdownText(r.name)}: ${markdownText(r.live)}`);
  for (const n of view.notes) lines.push(markdownText(n), '');
  lines.push('### Smallest counterexamples', '');
  const examples = view.rows.flatMap((r) =>
    r.counterexamples.map(
      (c) => `- ${markdownText(r.name)}, fencing ${markdownText(c.fencing)}: ${markdownCode(c.replay)}`,
    ),
  );
  lines.push(...(examples.length === 0 ? ['No run of the campaign was unsafe.'] : examples), '');
  return lines;
}
