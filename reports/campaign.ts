/**
 * The campaign of `lockstep compare` as the report shows it: the measured comparison table, the
 * speed measurements, and a short "what to use" derived from them by the rules written below.
 * Pure functions over a validated compare.json; html.ts and markdown.ts escape what they print.
 *
 * The rules, the same for every system:
 *   correctness (a payment path, anything that must not be applied twice): a system whose token is
 *     sound and whose fenced runs were never unsafe; it holds only where the resource checks the
 *     token. Fenced runs judge a claim of strong consistency.
 *   unfenced: every system that was unsafe in some unfenced run is listed as "unsafe without
 *     fencing", a lease-based lock's known limit, stated alike for each.
 *   RedLock's token is not sound (its INCR runs on independent nodes); its fenced column is never
 *     read as safe, whatever its runs show.
 *   efficiency (a scheduler where a rare double run costs only work): the lowest unfenced unsafe
 *     fraction, then the fastest uncontended acquire-and-release.
 * Each row's "best for" follows the same rules: correctness where the token is sound and fenced
 * runs were never unsafe; otherwise efficiency only, saying why; and "fastest alone" for the
 * systems within 10% of the lowest uncontended p50.
 * Nothing that was not applicable or had no verdict is counted as safe: fractions are over the runs
 * that were judged, and each cell says how many did not apply.
 * A subject (compare --subject: a lock library on its system's servers) is a row of its own, under
 * its name, right after its system's, and the same rules judge it; a subject without a token has
 * no fenced run, and its row says so instead of reading as measured.
 */
import type { CompareFile } from '../runner/compare-file.ts';
import { mechanism } from './claims.ts';

type Cell = CompareFile['cells'][number];

export interface CampaignRow {
  /** The system, or the subject's name for a subject's row. */
  readonly system: string;
  readonly name: string;
  readonly unfenced: string;
  readonly fenced: string;
  readonly damage: string;
  readonly unavailable: string;
  readonly takeover: string;
  readonly notApplicable: string;
  readonly live: string;
  readonly speed: string;
  readonly complexity: string;
  /** What it suits, by the rules in the header, from this campaign's figures. */
  readonly bestFor: string;
  readonly claim: string;
  /** A claim the measurements contradict, in words; empty when none. */
  readonly contradiction: string;
  readonly counterexamples: readonly { readonly fencing: string; readonly file: string; readonly replay: string }[];
}

export interface CampaignView {
  readonly heading: string;
  readonly workload: string;
  readonly advice: readonly string[];
  readonly rows: readonly CampaignRow[];
  readonly notes: readonly string[];
}

export function percent(x: number): string {
  const p = x * 100;
  return `${p >= 10 || p === 0 ? Math.round(p) : Math.round(p * 10) / 10}%`;
}

/** "3 of 500 (0.6%, 95% CI 0.2-1.7%)", or why there is no fraction. */
export function fractionText(cell: Pick<Cell, 'unsafe' | 'runs' | 'interval'>): string {
  if (cell.runs === 0) return 'no run judged';
  return `unsafe in ${cell.unsafe} of ${cell.runs} (${percent(cell.unsafe / cell.runs)}; 95% CI ${percent(cell.interval[0])}-${percent(cell.interval[1])})`;
}

/** What a cell or speed row measured: the subject's name, or the system's. */
function labelOf(entry: { readonly system: string; readonly subject?: string | null }): string {
  return entry.subject ?? entry.system;
}

function cellOf(file: CompareFile, label: string, fencing: 'off' | 'on'): Cell | undefined {
  return file.cells.find((c) => labelOf(c) === label && c.fencing === fencing);
}

/** The subjects that ran on `system`'s servers, in the order of their cells. */
function subjectsOf(file: CompareFile, system: string): string[] {
  return [...new Set(file.cells.flatMap((c) => (c.system === system && c.subject != null ? [c.subject] : [])))];
}

export function campaignView(file: CompareFile): CampaignView {
  const w = file.workload;
  const schedules = file.schedules.length;
  const rows = file.systems.flatMap((system) =>
    [system, ...subjectsOf(file, system)].map((label) => rowOf(file, label)),
  );
  const subjects = file.cells.some((c) => c.subject != null)
    ? " Each subject ran its system's schedules, fitted as for that system, on that system's servers."
    : '';
  return {
    heading: `The campaign: ${schedules} fault schedules, the same for every system`,
    workload:
      `Every system ran the same ${schedules} schedules (seed ${file.seed}), fenced and unfenced: ${w.clients} clients, ` +
      `${w.durationMs / 1000} s each, lease ${w.ttlMs} ms, hold ${w.holdMs} ms, think ${w.thinkMs} ms, ` +
      `network ${w.latencyMs.min}-${w.latencyMs.max} ms.${subjects} Fractions are over the runs that were judged; ` +
      `schedules that could not apply to a system are counted apart, never as safe.`,
    advice: advice(file),
    rows,
    notes: [
      'Speed is measured apart from the campaign, without faults: one client alone (acquire plus release, per round), ' +
        `and the campaign's ${w.clients} clients contending (grants per second, which includes each recipe's retry or wait policy).`,
      ...(file.systems.includes('postgres') && file.systems.includes('mysql')
        ? [
            'PostgreSQL and MySQL share one session model in the simulator (a lock held by a connection, released when the ' +
              'server sees it close), so their simulated figures agree closely by construction; live runs tell them apart.',
          ]
        : []),
      ...(file.live > 0
        ? [
            `${file.live} schedule(s), chosen by the seed, also ran on the real servers; a live verdict that differs from the simulated one is listed as a disagreement.`,
          ]
        : []),
    ],
  };
}

function rowOf(file: CompareFile, label: string): CampaignRow {
  const m = mechanism(label);
  const off = cellOf(file, label, 'off');
  const on = cellOf(file, label, 'on');
  const speed = file.speed.find((s) => labelOf(s) === label);
  const unsound = on !== undefined && !on.fencingSound;
  const fencedText =
    on === undefined
      ? 'not run'
      : withoutRuns(on) !== null
        ? `not applicable: ${withoutRuns(on)}`
        : unsound
          ? `no sound token (${fractionText(on)} with its best attempt)`
          : fractionText(on);
  // A subject of the user's own has no entry of its own: it runs on its system's servers.
  const servers = m.servers > 0 ? m.servers : mechanism(on?.system ?? off?.system ?? label).servers;
  const either = [off, on].filter((c): c is Cell => c !== undefined);
  // A cell where nothing ran has no damage, unavailability or takeover to show: its reason is shown instead.
  const measured = either.filter((c) => withoutRuns(c) === null);
  const notApplicable = either
    .flatMap((c) => c.notApplicableReasons.map((r) => `${r.schedules} (fencing ${c.fencing}): ${r.reason}`))
    .join('; ');
  return {
    system: label,
    name: m.name,
    unfenced: off === undefined ? 'not run' : fractionText(off),
    fenced: fencedText,
    damage: measured
      .map((c) =>
        c.lostPer1000 === null
          ? `fencing ${c.fencing}: no acknowledged writes`
          : `fencing ${c.fencing}: ${c.lostPer1000} lost, ${c.stalePer1000 ?? 0} stale accepted`,
      )
      .join('; '),
    unavailable: measured
      .map((c) => `fencing ${c.fencing}: ${c.unavailableFraction === null ? '-' : percent(c.unavailableFraction)}`)
      .join('; '),
    takeover: measured
      .map((c) =>
        c.takeoverMs === null
          ? `fencing ${c.fencing}: no holder crashed`
          : `fencing ${c.fencing}: p50 ${c.takeoverMs.p50} ms, p99 ${c.takeoverMs.p99} ms (${c.takeoverMs.samples} holders lost)`,
      )
      .join('; '),
    notApplicable: notApplicable === '' ? 'none' : notApplicable,
    live: either
      .flatMap((c) =>
        c.live === undefined
          ? []
          : [
              `fencing ${c.fencing}: ${fractionText(c.live)}` +
                (c.live.disagreements.length === 0
                  ? ''
                  : `; disagrees with the simulator on schedule(s) ${c.live.disagreements.map((d) => `${d.schedule + 1} (sim ${d.sim}, live ${d.live})`).join(', ')}`),
            ],
      )
      .join('; '),
    speed:
      speed === undefined
        ? 'not measured'
        : `alone: p50 ${speed.uncontendedMs?.p50 ?? '-'} ms, p99 ${speed.uncontendedMs?.p99 ?? '-'} ms; ` +
          `${speed.contendedClients} contending: ${speed.contendedAcquisitionsPerSec} grants/s (${speed.source})`,
    complexity: `${servers} server(s); round trips per acquire: ${m.roundTrips.unfenced}; fenced ${m.roundTrips.fenced}`,
    bestFor: bestFor(file, on, speed?.uncontendedMs?.p50),
    claim: m.claimed === undefined ? 'none' : `consistency ${m.claimed.consistency}, speed ${m.claimed.speed}`,
    contradiction: contradiction(m.claimed?.consistency, on),
    counterexamples: either.flatMap((c) =>
      c.counterexample === null || c.replay === null
        ? []
        : [{ fencing: c.fencing, file: c.counterexample, replay: c.replay }],
    ),
  };
}

/**
 * Why a subject's cell has no run at all (it gives no token, and the cell is fenced), or null.
 * A system's cell keeps its own wording, whatever its counts.
 */
function withoutRuns(cell: Cell): string | null {
  if (cell.subject == null || cell.runs > 0 || cell.unknown > 0) return null;
  const reasons = cell.notApplicableReasons.map((r) => r.reason);
  return reasons.length === 0 ? null : [...new Set(reasons)].join('; ');
}

function bestFor(file: CompareFile, fenced: Cell | undefined, p50: number | undefined): string {
  const missing = fenced === undefined ? null : withoutRuns(fenced);
  const use =
    missing !== null
      ? `efficiency locks only: ${missing}`
      : fenced === undefined || fenced.runs === 0
        ? 'not measured fenced'
        : !fenced.fencingSound
          ? 'efficiency locks only: no sound fencing token'
          : fenced.unsafe > 0
            ? `efficiency locks: fenced, still unsafe in ${fenced.unsafe} of ${fenced.runs} runs`
            : 'correctness locks, with the token checked by the resource';
  const p50s = file.speed.flatMap((s) => (s.uncontendedMs === null ? [] : [s.uncontendedMs.p50]));
  const fastest = p50s.length > 0 && p50 !== undefined && p50 <= Math.min(...p50s) * 1.1;
  return fastest ? `${use}; among the fastest alone` : use;
}

/** A consistency claim judged by the evidence that bears on it: the fenced runs. */
function contradiction(claimed: string | undefined, fenced: Cell | undefined): string {
  if (claimed === undefined || fenced === undefined) return '';
  if (!fenced.fencingSound) return `claimed ${claimed}, but it has no sound fencing token`;
  if (claimed === 'strong' && fenced.unsafe > 0)
    return `claimed strong, but unsafe in ${fenced.unsafe} of ${fenced.runs} fenced runs`;
  return '';
}

function advice(file: CompareFile): string[] {
  const name = (entry: { readonly system: string; readonly subject?: string | null }) => mechanism(labelOf(entry)).name;
  const list = (entries: readonly Cell[]) => entries.map(name).join(', ');
  const fenced = file.cells.filter((c) => c.fencing === 'on');
  const unfenced = file.cells.filter((c) => c.fencing === 'off');
  const sound = fenced.filter((c) => c.fencingSound && c.runs > 0 && c.unsafe === 0);
  const fencedUnsafe = fenced.filter((c) => c.fencingSound && c.unsafe > 0);
  const unsound = fenced.filter((c) => !c.fencingSound);
  const unsafeUnfenced = unfenced.filter((c) => c.unsafe > 0);
  const out: string[] = [];
  if (sound.length > 0) {
    const worst = Math.max(...sound.map((c) => c.interval[1]));
    out.push(
      `For correctness (a payment path, a job that must not run twice): ${list(sound)}, with the ` +
        `fencing token checked by the resource. Fenced, none was unsafe in this campaign (at most ${percent(worst)} at 95% confidence).`,
    );
  }
  if (fencedUnsafe.length > 0)
    out.push(
      `Fenced and still unsafe: ${fencedUnsafe.map((c) => `${name(c)} (${c.unsafe} of ${c.runs})`).join(', ')}. ` +
        'A token kept on one node is only as durable as that node; see the counterexamples.',
    );
  if (unsound.length > 0)
    out.push(
      `${list(unsound)}: no sound fencing token; use only where a rare double grant costs duplicate work, not corruption.`,
    );
  if (unsafeUnfenced.length > 0)
    out.push(
      `Without fencing, every one of these was unsafe in some schedules: ${unsafeUnfenced.map((c) => `${name(c)} ${percent(c.unsafeFraction ?? 0)}`).join(', ')}. ` +
        'A lease cannot stop a paused or cut-off holder from acting late.',
    );
  const judged = unfenced.filter((c) => c.unsafeFraction !== null);
  const safest = judged.sort((a, b) => (a.unsafeFraction ?? 1) - (b.unsafeFraction ?? 1))[0];
  const fastest = [...file.speed]
    .filter((s) => s.uncontendedMs !== null)
    .sort((a, b) => (a.uncontendedMs?.p50 ?? 0) - (b.uncontendedMs?.p50 ?? 0))[0];
  if (safest !== undefined && fastest !== undefined)
    out.push(
      `For efficiency (a scheduler, a cache refill): the fewest unsafe unfenced runs were ${name(safest)}'s ` +
        `(${percent(safest.unsafeFraction ?? 0)}); the fastest alone was ${name(fastest)} (p50 ${fastest.uncontendedMs?.p50 ?? '-'} ms, ${fastest.source}).`,
    );
  return out;
}
