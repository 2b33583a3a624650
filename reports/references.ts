/**
 * Published results beside lockstep's own: for every scenario that names a `reference` (Jepsen's
 * etcd 3.4.3 lock test, say), the lost updates over acknowledged writes it measured, per mode,
 * system and fencing, summed over its judged runs, next to the published fraction and the
 * scenario's own account of why the two may differ. Skipped and unknown runs are counted apart,
 * never folded into the fraction.
 */
import type { LoadedRuns } from './load.ts';
import { isJudged, matrixColumns, MODES, type Mode } from './model.ts';

export interface ReferenceRow {
  readonly mode: Mode;
  readonly system: string;
  readonly fencing: boolean;
  readonly judged: number;
  readonly unsafe: number;
  /** Skipped or unknown runs: not counted in the figures. */
  readonly notJudged: number;
  readonly lost: number;
  readonly acked: number;
  /** Judged runs written before results carried acknowledgedWrites: their writes are not counted. */
  readonly unmeasured: number;
}

export interface ReferenceView {
  readonly scenario: string;
  readonly source: string;
  readonly url: string | null;
  readonly lostFraction: number | null;
  readonly note: string;
  readonly rows: readonly ReferenceRow[];
}

export function referenceViews(loaded: LoadedRuns): ReferenceView[] {
  return loaded.references.map((reference) => {
    const runs = loaded.runs.filter((r) => r.scenario === reference.scenario);
    const rows = MODES.flatMap((mode) =>
      matrixColumns(runs.filter((r) => r.mode === mode)).map(({ system, fencing }) => {
        const cell = runs.filter((r) => r.mode === mode && r.system === system && r.fencing === fencing);
        const judged = cell.filter(isJudged);
        const measured = judged.filter((r) => r.metrics?.acknowledgedWrites !== undefined);
        return {
          mode,
          system,
          fencing,
          judged: judged.length,
          unsafe: judged.filter((r) => r.verdict === 'unsafe').length,
          notJudged: cell.length - judged.length,
          lost: measured.reduce((n, r) => n + (r.metrics?.lostUpdates ?? 0), 0),
          acked: measured.reduce((n, r) => n + (r.metrics?.acknowledgedWrites ?? 0), 0),
          unmeasured: judged.length - measured.length,
        };
      }),
    );
    return {
      scenario: reference.scenario,
      source: reference.source,
      url: reference.url ?? null,
      lostFraction: reference.lostFraction ?? null,
      note: reference.note,
      rows,
    };
  });
}

/** "about 18% of acknowledged updates lost", or that the source gave no fraction. */
export function publishedText(view: ReferenceView): string {
  return view.lostFraction === null
    ? `${view.source}: no lost-update fraction given`
    : `${view.source}: ${String(Math.round(view.lostFraction * 1000) / 10)}% of acknowledged updates lost`;
}

/** One row in words: the fraction, what it is of, and every run it leaves out. */
export function measuredText(row: ReferenceRow): string {
  const fraction = row.acked === 0 ? 'no acknowledged update' : `${percent(row.lost / row.acked)} lost`;
  const parts = [
    `${fraction} (${row.lost} of ${row.acked} acknowledged updates), unsafe in ${row.unsafe} of ${row.judged} judged run(s)`,
  ];
  if (row.notJudged > 0) parts.push(`${row.notJudged} run(s) skipped or unknown, not counted`);
  if (row.unmeasured > 0) parts.push(`${row.unmeasured} older run(s) without a count of acknowledged writes, left out`);
  return parts.join('; ');
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
