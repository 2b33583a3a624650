/**
 * report.md: the report's tables in Markdown, with the PNG charts linked, fit for a pull request.
 * Every value from a run directory goes through `cell` (or `code`): Markdown passes raw HTML
 * through, and a pipe, bracket or backtick would break a table, a link or a code span.
 */
import { redactSecrets } from '../runner/redact.ts';
import type { Report } from './report.ts';
import { CONSISTENCY_RULES } from './claims.ts';
import { cellKey, MODES, replayOf, tokenSound } from './model.ts';
import {
  cellText,
  claimText,
  columnLabel,
  consistencyLines,
  matrixBlocks,
  runCounts,
  sharedText,
  speedLines,
  speedScopeText,
} from './wording.ts';
import { campaignMarkdown } from './campaign-render.ts';
import { measuredText, publishedText } from './references.ts';

/**
 * Text shown as text: HTML special characters as entities, Markdown's inline syntax (and `~`, which
 * opens a fenced block) backslash-escaped, one line; and a leading `#`, `-`, `+` or `1.`, which
 * would make a heading or a list of a line or list item that starts with the value, escaped too.
 */
function cell(value: string | number): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|~]/g, '\\$&')
    .replace(/[\r\n]+/g, ' ')
    .replace(/^(\s*)(#|[-+](?=\s|$))/, '$1\\$2')
    .replace(/^(\s*\d{1,9})([.)])(?=\s|$)/, '$1\\$2');
}

/** A code span: Markdown shows its content literally, so only backticks need taking out. */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/[\r\n]+/g, ' ')}\``;
}

export function renderMarkdown(report: Report): string {
  const { matrix, columns, comparison, charts, timelines, loaded, scopes } = report;
  const lines: string[] = [
    '# lockstep report',
    '',
    `${cell(runCounts(loaded.runs))} From ${loaded.sources.length} run directory(ies). Skipped (not run) and unknown runs are never counted as safe.`,
    '',
    ...report.campaigns.flatMap(campaignMarkdown),
    '## Verdicts',
    '',
  ];
  for (const block of matrixBlocks(matrix)) {
    lines.push(`| system, fencing | ${block.map((row) => cell(row.scenario)).join(' | ')} |`);
    lines.push(`| --- | ${block.map(() => '---').join(' | ')} |`);
    for (const c of columns) {
      const sound = tokenSound(loaded.runs, c.system);
      const cells = block.map((row) => {
        const byMode = row.cells.get(cellKey(c.system, c.fencing));
        if (byMode === undefined) return '-';
        return MODES.flatMap((m) => {
          const modeCell = byMode[m];
          return modeCell === undefined ? [] : [`${m}: ${cell(cellText(modeCell, { unproven: c.fencing && !sound }))}`];
        }).join('<br>');
      });
      lines.push(`| ${cell(columnLabel(c.system, c.fencing, sound))} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }
  lines.push(
    '## The comparison, measured',
    '',
    'Figures that compare systems come only from the scenarios every system ran and judged:',
    '',
    ...scopes.map((scope) => `- ${cell(sharedText(scope))}`),
    '',
    '| mechanism | consistency (measured) | speed (acquire latency under contention) | servers | round trips | best for | usual claim |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of comparison) {
    const claim = [
      cell(claimText(r)),
      ...r.contradictions.map((c) => `**contradicted: ${cell(c)}**`),
      ...r.notes.map((n) => `note: ${cell(n)}`),
    ].join('; ');
    lines.push(
      `| ${cell(r.name)} | ${consistencyLines(r).map(cell).join('<br>')} | ${speedLines(r).map(cell).join('<br>')} | ${cell(r.servers)} | ${cell(r.roundTrips)} | ${cell(r.bestFor)} | ${claim} |`,
    );
  }
  lines.push(
    '',
    "Speed is acquire latency, from a client's acquire call until it holds the lock, with several clients contending for one lock: it includes waiting for the holder and each recipe's retry or poll policy. Read from:",
    '',
    ...scopes.map((scope) => `- ${cell(speedScopeText(scope))}`),
    '',
    cell(CONSISTENCY_RULES),
  );
  if (report.references.length > 0) {
    lines.push(
      '',
      '## Against published results',
      '',
      'Scenarios that reproduce a published experiment, with lost updates over acknowledged writes summed over their judged runs.',
    );
    for (const view of report.references) {
      lines.push(
        '',
        `### ${cell(view.scenario)}`,
        '',
        `Published: ${cell(publishedText(view))}${view.url === null ? '' : ` (${code(view.url)})`}.`,
        '',
        '| mode | system, fencing | measured here |',
        '| --- | --- | --- |',
        ...view.rows.map(
          (row) =>
            `| ${cell(row.mode)} | ${cell(columnLabel(row.system, row.fencing, tokenSound(loaded.runs, row.system)))} | ${cell(measuredText(row))} |`,
        ),
        '',
        `Why the figures may differ: ${cell(view.note)}`,
      );
    }
  }
  lines.push('', '## Charts', '');
  for (const c of charts) lines.push(`![${cell(c.caption)}](charts/${c.name}.png)`, '');
  lines.push(
    '## Timelines of unsafe runs',
    '',
    'One timeline per unsafe scenario, system, fencing setting and mode, drawn from its first unsafe seed.',
    '',
  );
  if (timelines.shown.length === 0) lines.push('No run was unsafe.', '');
  for (const t of timelines.shown)
    lines.push(`![${cell(t.caption)}](charts/${t.name}.png)`, '', code(replayOf(t.run)), '');
  if (timelines.omitted > 0) lines.push(`${timelines.omitted} more unsafe cell(s) are not drawn.`, '');
  lines.push('## Provenance', '');
  for (const s of loaded.sources)
    lines.push(
      `- ${code(s.dir)}: ${cell(s.mode)}, lockstep ${cell(s.version)}, ${cell(s.createdAt)}: ${code(redactSecrets(s.command))}`,
    );
  lines.push(
    '',
    '```',
    ...loaded.runs.map(
      (r) =>
        `${replayOf(r)
          .replace(/`/g, "'")
          .replace(/[\r\n]+/g, ' ')}   # ${r.verdict}`,
    ),
    '```',
    '',
  );
  return lines.join('\n');
}

export { cell as markdownText, code as markdownCode };
