/**
 * report.md: the report's tables in Markdown, with the PNG charts linked, fit for a pull request.
 * Every value from a run directory goes through `cell` (or `code`): Markdown passes raw HTML
 * through, and a pipe, bracket or backtick would break a table, a link or a code span.
 */
import { redactSecrets } from '../runner/redact.ts';
import type { Report } from './report.ts';
import { cellKey, replayOf, type Mode } from './model.ts';
import { campaignMarkdown } from './campaign-render.ts';

/** Text shown as text: HTML special characters as entities, Markdown's inline syntax backslash-escaped, one line. */
export function markdownText(value: string | number): string {
  return cell(value);
}

function cell(value: string | number): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|]/g, '\\$&')
    .replace(/[\r\n]+/g, ' ');
}

/** A code span: Markdown shows its content literally, so only backticks need taking out. */
export function markdownCode(text: string): string {
  return code(text);
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/[\r\n]+/g, ' ')}\``;
}

export function renderMarkdown(report: Report): string {
  const { matrix, columns, comparison, charts, timelines, loaded } = report;
  const lines: string[] = [
    '# lockstep report',
    '',
    `${loaded.runs.length} run(s) from ${loaded.sources.length} run directory(ies).`,
    '',
    ...report.campaigns.flatMap(campaignMarkdown),
    '## Verdicts',
    '',
  ];
  lines.push(
    `| scenario | ${columns.map((c) => `${cell(c.system)} ${c.fencing ? 'fenced' : 'unfenced'}`).join(' | ')} |`,
  );
  lines.push(`| --- | ${columns.map(() => '---').join(' | ')} |`);
  for (const row of matrix) {
    const cells = columns.map((c) => {
      const byMode = row.cells.get(cellKey(c.system, c.fencing));
      if (byMode === undefined) return '-';
      return (['sim', 'live'] as const)
        .flatMap((m) => {
          const c = byMode[m];
          if (c === undefined) return [];
          return [`${m}: ${cell(c.verdict)}${c.lostUpdates > 0 ? ` (lost ${cell(c.lostUpdates)})` : ''}`];
        })
        .join('<br>');
    });
    lines.push(`| ${cell(row.scenario)} | ${cells.join(' | ')} |`);
  }
  const fmt = (v: Partial<Record<Mode, number>>) =>
    (['sim', 'live'] as const)
      .flatMap((m) => {
        const value = v[m];
        return value === undefined ? [] : [`${m} ${cell(value)}`];
      })
      .join(', ') || '-';
  lines.push(
    '',
    '## The comparison, measured',
    '',
    '| mechanism | unsafe unfenced in | unsafe fenced in | p50 ms | p99 ms | acquisitions/s | servers | round trips | best for | usual claim |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const r of comparison) {
    const claim =
      r.claimed === undefined
        ? 'no claim'
        : `consistency ${cell(r.claimed.consistency)}, speed ${cell(r.claimed.speed)}${r.contradictions.map((c) => `; **contradicted: ${cell(c)}**`).join('')}`;
    lines.push(
      `| ${cell(r.name)} | ${cell(r.unsafeUnfenced.join(', ') || 'none')} | ${cell(r.unsafeFenced.join(', ') || 'none')} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.acquisitionsPerSec)} | ${cell(r.servers)} | ${cell(r.roundTrips)} | ${cell(r.bestFor)} | ${claim} |`,
    );
  }
  lines.push('', '## Charts', '');
  for (const c of charts) lines.push(`![${cell(c.caption)}](charts/${c.name}.png)`, '');
  lines.push('## Timelines of unsafe runs', '');
  if (timelines.shown.length === 0) lines.push('No run was unsafe.', '');
  for (const t of timelines.shown)
    lines.push(`![${cell(t.caption)}](charts/${t.name}.png)`, '', code(replayOf(t.run)), '');
  if (timelines.omitted > 0) lines.push(`${timelines.omitted} more unsafe run(s) are not drawn.`, '');
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
