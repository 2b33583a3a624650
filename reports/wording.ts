/**
 * The report's sentences, as plain text, so index.html and report.md say the same thing; each
 * renderer escapes them. Every sentence says what was measured and no more: a skipped run reads
 * "not run", never "safe", and a fenced result of a mechanism without a sound token never reads
 * "safe" either.
 */
import { ofSeeds, type Cell, type ComparisonRow, type ConsistencyRecord, type Mode } from './model.ts';

/** Longest skip reason shown in a matrix cell; the whole of it is in the cell's title. */
const SHORT_REASON_CHARS = 80;

/**
 * A matrix cell's text in one mode: "unsafe in 3 of 20 seeds, lost 7", "not run: <reason>". A
 * fenced cell of a mechanism without a sound token (`unproven`) never reads "safe": its runs
 * only saw no damage.
 */
export function cellText(cell: Cell, options: { short?: boolean; unproven?: boolean } = {}): string {
  const short = options.short ?? false;
  if (cell.verdict === 'skipped') return `not run: ${reasonsText(cell.skipReasons, short)}`;
  const safe = options.unproven === true ? 'no damage seen' : 'safe';
  const head =
    cell.runs === 1
      ? cell.verdict === 'safe'
        ? safe
        : cell.verdict
      : cell.verdict === 'unsafe'
        ? `unsafe in ${ofSeeds(cell.unsafe, cell.runs)}`
        : cell.verdict === 'safe'
          ? `${safe} in ${ofSeeds(cell.safe, cell.runs)}`
          : `unknown in ${ofSeeds(cell.unknown, cell.runs)}`;
  const extra = [
    cell.verdict !== 'unknown' && cell.unknown > 0 ? `${cell.unknown} unknown` : '',
    cell.verdict === 'unknown' && cell.safe > 0
      ? `${cell.safe} ${options.unproven === true ? 'with no damage seen' : 'safe'}`
      : '',
    cell.skipped > 0 ? `${cell.skipped} not run: ${reasonsText(cell.skipReasons, short)}` : '',
    cell.lostUpdates > 0 ? `lost ${cell.lostUpdates}` : '',
  ].filter((part) => part !== '');
  return [head, ...extra].join(', ');
}

/** The full skip reasons of a cell, for a title attribute; null when none was skipped. */
export function cellTitle(cell: Cell): string | null {
  return cell.skipped > 0 ? `not run: ${cell.skipReasons.join('; ')}` : null;
}

function reasonsText(reasons: readonly string[], short: boolean): string {
  const text = reasons.join('; ');
  return short && text.length > SHORT_REASON_CHARS ? `${text.slice(0, SHORT_REASON_CHARS - 1)}…` : text;
}

/** A matrix row's name: the system and its fencing, marked when its token is not sound. */
export function columnLabel(system: string, fencing: boolean, sound: boolean): string {
  return `${system}, ${fencing ? `fenced${sound ? '' : ' (no sound token)'}` : 'unfenced'}`;
}

/** One line per mode and fencing setting of a comparison row's measured consistency. */
export function consistencyLines(row: ComparisonRow): string[] {
  return row.consistency.map(
    (record) =>
      `${record.mode}, ${record.fencing ? 'fenced' : 'unfenced'}: ${consistencyText(record, record.fencing && !row.tokenSound)}`,
  );
}

function consistencyText(record: ConsistencyRecord, noSoundToken: boolean): string {
  // Without a sound token a run with no damage shows luck, not safety: it never reads "safe".
  const clean = noSoundToken ? 'no unsafe run in' : 'safe in';
  const parts: string[] = noSoundToken ? ['no sound token'] : [];
  if (record.sharedUnsafe.length > 0)
    parts.push(
      `unsafe in ${record.sharedUnsafe.length} of the ${record.shared} shared scenarios (${record.sharedUnsafe.join(', ')})`,
    );
  else if (record.shared > 0)
    parts.push(
      record.sharedSafe === record.shared
        ? `${clean} ${noSoundToken ? 'the' : 'all'} ${record.shared} shared scenarios`
        : `${clean} ${record.sharedSafe} of the ${record.shared} shared scenarios`,
    );
  const ownClean = record.ownJudged.filter((s) => !record.ownUnsafe.includes(s) && !record.unknown.includes(s));
  if (record.ownUnsafe.length > 0)
    parts.push(`in scenarios not every system ran: unsafe in ${record.ownUnsafe.join(', ')}`);
  if (ownClean.length > 0)
    parts.push(
      `${record.ownUnsafe.length > 0 ? '' : 'in scenarios not every system ran: '}${clean} ${ownClean.join(', ')}`,
    );
  if (record.unknown.length > 0) parts.push(`unknown in ${record.unknown.join(', ')}`);
  const byReason = new Map<string, string[]>();
  for (const { scenario, reasons } of record.notRun) {
    const reason = reasons.join('; ');
    byReason.set(reason, [...(byReason.get(reason) ?? []), scenario]);
  }
  for (const [reason, scenarios] of byReason) parts.push(`not run: ${reason} (${scenarios.join(', ')})`);
  return parts.length === 0 ? 'no run' : parts.join('; ');
}

/** One line per mode of a comparison row's speed, each number with its source; and the shared model, if any. */
export function speedLines(row: ComparisonRow): string[] {
  const lines = (['sim', 'live'] as const).flatMap((mode) => {
    const figures = [
      row.p50Ms[mode] === undefined ? '' : `p50 ${row.p50Ms[mode]} ms`,
      row.p99Ms[mode] === undefined ? '' : `p99 ${row.p99Ms[mode]} ms`,
      row.acquisitionsPerSec[mode] === undefined ? '' : `${row.acquisitionsPerSec[mode]} acquisitions/s`,
    ].filter((f) => f !== '');
    return figures.length === 0 ? [] : [`${mode}: ${figures.join(', ')}`];
  });
  if (row.sharesSimModel !== null)
    lines.push(
      `sim figures from one model shared with ${row.sharesSimModel.with.join(', ')} (${row.sharesSimModel.model})`,
    );
  return lines.length === 0 ? ['no judged run to time'] : lines;
}

/** The usual claim, or that there is none. */
export function claimText(row: ComparisonRow): string {
  return row.claimed === undefined ? 'no claim' : `consistency ${row.claimed.consistency}, speed ${row.claimed.speed}`;
}

/** Where the figures of one mode that compare systems came from. */
export interface Scope {
  readonly mode: Mode;
  /** The scenarios every system of the mode ran and judged. */
  readonly shared: readonly string[];
  /** The scenarios speed was read from, how many runs, and how many clients contended in them. */
  readonly speed: { readonly scenarios: readonly string[]; readonly runs: number; readonly clients: readonly number[] };
}

export function sharedText(scope: Scope): string {
  return scope.shared.length === 0
    ? `${scope.mode}: no scenario was run and judged by every system, so no figure compares systems; read the matrix per scenario`
    : `${scope.mode}: ${scope.shared.join(', ')}`;
}

export function speedScopeText(scope: Scope): string {
  const { scenarios, runs, clients } = scope.speed;
  if (runs === 0) return `${scope.mode}: no judged run every system shares to time`;
  const contending =
    clients.length === 0
      ? 'clients'
      : clients.length === 1
        ? `${clients[0]} client${clients[0] === 1 ? '' : 's'}`
        : `${Math.min(...clients)} to ${Math.max(...clients)} clients`;
  return `${scope.mode}: ${runs} run(s) of ${scenarios.join(', ')}, ${contending} contending for one lock`;
}

/** Scenarios per matrix table: more would squeeze the columns, so the matrix wraps into several tables. */
export const MATRIX_SCENARIOS_PER_TABLE = 6;

/** The matrix's scenarios split into tables of at most MATRIX_SCENARIOS_PER_TABLE, as evenly as possible. */
export function matrixBlocks<T>(scenarios: readonly T[]): T[][] {
  const tables = Math.max(1, Math.ceil(scenarios.length / MATRIX_SCENARIOS_PER_TABLE));
  const size = Math.ceil(scenarios.length / tables);
  return Array.from({ length: tables }, (_, i) => scenarios.slice(i * size, (i + 1) * size));
}

/** "142 run(s): 119 safe, 23 unsafe, 0 not run (skipped), 0 unknown." */
export function runCounts(runs: readonly { verdict: string }[]): string {
  const count = (verdict: string) => runs.filter((r) => r.verdict === verdict).length;
  return `${runs.length} run(s): ${count('safe')} safe, ${count('unsafe')} unsafe, ${count('skipped')} not run (skipped), ${count('unknown')} unknown.`;
}
