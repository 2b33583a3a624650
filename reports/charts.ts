// Chart specifications for the comparison report: pure functions from plain rows to Vega-Lite
// specs. No file I/O and no rendering here (render.ts turns a spec into SVG and PNG), so the same
// spec can be embedded in index.html and rasterised for report.md.
//
// One palette serves every chart, so a colour means the same thing wherever it appears: verdicts
// are green (safe), red (unsafe), grey (skipped) and amber (unknown); sim and live are blue and
// purple. Colours that are not verdicts keep away from green, red, grey and amber.
//
// Every function accepts empty input and returns a chart with nothing drawn in it.
import type { Config, TopLevelSpec } from 'vega-lite';

/** The only font family charts use; render.ts rasterises with this font bundled, nothing else. */
export const FONT_FAMILY = 'DejaVu Sans';

export const VERDICT_COLORS = {
  safe: '#2e7d32',
  unsafe: '#c62828',
  skipped: '#9e9e9e',
  unknown: '#f9a825',
} as const;

export const MODE_COLORS = { sim: '#4c78a8', live: '#9c5fb5' } as const;

export const FENCING_COLORS = { off: '#9d755d', on: '#4c78a8' } as const;

const ELECTION_COLORS = { failover: '#4c78a8', leaderless: '#72b7b2' } as const;

const HOLD_COLOR = '#6f9bd1';
// Sand: a neutral that no verdict or measure uses, for a fault band whose kind is not known.
const FAULT_COLOR = '#cdb99c';

/**
 * The systems in the order the design lists them (DESIGN.md section 4), so every chart and table
 * reads left to right the same way; a system not listed here follows, alphabetically.
 */
const SYSTEM_ORDER = ['redis', 'redlock', 'zookeeper', 'etcd', 'postgres', 'mysql', 'redis-sentinel'];

export type Mode = 'sim' | 'live';
export type Fencing = 'off' | 'on';

/** One successful acquire: how long the client waited for the lock. */
export interface LatencySample {
  system: string;
  mode: Mode;
  latencyMs: number;
}

/** Damage counted for one system and fencing variant; rows for the same pair are added up. */
export interface SafetyRow {
  system: string;
  fencing: Fencing;
  lostUpdates: number;
  staleWritesAccepted: number;
}

/** Grants per second for one system and mode; rows for the same pair are averaged. */
export interface ThroughputRow {
  system: string;
  mode: Mode;
  acquisitionsPerSec: number;
}

/** One election scenario on one system: time to a new leader, and time with none. */
export interface FailoverRow {
  system: string;
  scenario: string;
  failoverMs: number;
  leaderlessMs: number;
}

/** A span of true time during which a fault was in force. */
export interface FaultWindow {
  label: string;
  startMs: number;
  endMs: number;
  /** Its kind's colour (faults/), so a band of each kind looks the same in every chart. */
  color?: string;
}

/** A span of true time during which a client believed it held the lock. */
export interface HoldInterval {
  client: string;
  startMs: number;
  endMs: number;
  /** The fencing token it was granted, null when it was granted none. */
  token?: number | null;
}

/** A write as the protected register judged it. */
export interface TimelineWrite {
  client: string;
  atMs: number;
  accepted: boolean;
  stale: boolean;
  /** The fencing token the write carried, null when it carried none. */
  token?: number | null;
}

export interface TimelineInput {
  title: string;
  endMs: number;
  /** The lease length the clients were configured with, when the run recorded it. */
  ttlMs?: number;
  holds: HoldInterval[];
  faults: FaultWindow[];
  writes: TimelineWrite[];
  expiries?: LeaseExpiry[];
}

/** An entry of a layered spec's `layer` array (derived from the one spec type vega-lite exports). */
export type ChartLayer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];
/** An entry of a vertically concatenated spec's `vconcat` array. */
type ConcatView = Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number];

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

// Sizes are in CSS pixels; render.ts doubles them for the PNG.
const SYSTEM_STEP_PX = 72; // the width one system gets: two bars or boxes and its name
const PLOT_HEIGHT_PX = 300;
const FACET_HEIGHT_PX = 240; // faceted charts sit side by side, so each panel is a little lower
const BOX_WIDTH_PX = 18;
const LANE_HEIGHT_PX = 36; // one timeline lane per client
const TIMELINE_WIDTH_PX = 760;

// d3-format strings for the values written above bars.
const COUNT_FORMAT = ',d';
const MEASURE_FORMAT = ',.3~r'; // three significant digits: 1,230 and 4.57

// Every weight is normal: the bundled font has a regular face only, and the PNG would draw bold
// text in it anyway, so the SVG says the same.
const CONFIG: Config = {
  font: FONT_FAMILY,
  background: 'white',
  title: {
    anchor: 'start',
    fontSize: 15,
    fontWeight: 'normal',
    subtitleFontSize: 12,
    subtitleColor: '#555555',
  },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal' },
  axisX: { labelAngle: 0 },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', orient: 'top' },
  header: { labelFontSize: 12, titleFontWeight: 'normal' },
  view: { stroke: '#dddddd' },
};

/** Acquire-latency distribution per system as box plots, sim next to live, on a log axis. */
export function latencyChart(samples: LatencySample[]): TopLevelSpec {
  // A log axis has no place for zero: such samples are left out and the subtitle says how many.
  const plotted = samples.filter((sample) => sample.latencyMs > 0);
  const omitted = samples.length - plotted.length;
  const modes = modesIn(samples);
  return {
    $schema: SCHEMA,
    title: {
      text: 'Acquire latency',
      subtitle:
        'successful acquires, waiting included' +
        (omitted > 0 ? `; ${omitted} sample(s) of 0 ms cannot be drawn on the log axis` : ''),
    },
    width: { step: SYSTEM_STEP_PX, for: 'position' },
    height: PLOT_HEIGHT_PX,
    data: { values: plotted },
    name: 'latency',
    // Whiskers reach the fastest and the slowest acquire. The slowest is the one a lock user
    // feels, and without outlier points the SVG stays the same size however many samples come in.
    mark: { type: 'boxplot', extent: 'min-max', size: BOX_WIDTH_PX },
    encoding: {
      x: systemAxis(samples),
      xOffset: { field: 'mode', type: 'nominal', sort: modes },
      y: {
        field: 'latencyMs',
        type: 'quantitative',
        title: 'acquire latency (ms, log scale)',
        scale: { type: 'log' },
      },
      color: groupColor('mode', modes, MODE_COLORS),
    },
    config: CONFIG,
  };
}

/**
 * Lost updates and accepted stale writes per system, unfenced next to fenced, summed over rows;
 * `scope` names the runs the rows came from, for the subtitle.
 */
export function safetyChart(rows: SafetyRow[], scope = 'the runs given'): TopLevelSpec {
  const values = rows.flatMap((row) => [
    { system: row.system, fencing: row.fencing, measure: 'lost updates', count: row.lostUpdates },
    {
      system: row.system,
      fencing: row.fencing,
      measure: 'stale writes accepted',
      count: row.staleWritesAccepted,
    },
  ]);
  const fencings = (['off', 'on'] as const).filter((fencing) => rows.some((row) => row.fencing === fencing));
  return {
    $schema: SCHEMA,
    title: {
      text: 'Safety: damage per system',
      subtitle: `lost updates and stale writes the register accepted, summed over ${scope}`,
    },
    data: { values },
    facet: { column: { field: 'measure', type: 'nominal', title: null } },
    spec: {
      width: { step: SYSTEM_STEP_PX, for: 'position' },
      height: FACET_HEIGHT_PX,
      layer: groupedBars({
        systemAxis: systemAxis(rows),
        value: {
          field: 'count',
          aggregate: 'sum',
          title: 'total over scenarios',
          format: COUNT_FORMAT,
          tickMinStep: 1, // counts: no tick at half a lost update
        },
        color: groupColor('fencing', fencings, FENCING_COLORS),
      }),
    },
    config: CONFIG,
  };
}

/** Acquisitions per second per system, sim next to live; rows for the same pair are averaged. */
export function throughputChart(rows: ThroughputRow[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    title: {
      text: 'Throughput',
      subtitle: 'lock grants per second of run time, all clients together',
    },
    width: { step: SYSTEM_STEP_PX, for: 'position' },
    height: PLOT_HEIGHT_PX,
    data: { values: rows },
    layer: groupedBars({
      systemAxis: systemAxis(rows),
      value: {
        field: 'acquisitionsPerSec',
        aggregate: 'mean',
        title: 'acquisitions per second',
        format: MEASURE_FORMAT,
      },
      color: groupColor('mode', modesIn(rows), MODE_COLORS),
    }),
    config: CONFIG,
  };
}

/** Failover and leaderless time per system, one panel per election scenario; rows are averaged. */
export function failoverChart(rows: FailoverRow[]): TopLevelSpec {
  const values = rows.flatMap((row) => [
    { system: row.system, scenario: row.scenario, measure: 'failover', ms: row.failoverMs },
    { system: row.system, scenario: row.scenario, measure: 'leaderless', ms: row.leaderlessMs },
  ]);
  const measures = rows.length > 0 ? (['failover', 'leaderless'] as const) : [];
  return {
    $schema: SCHEMA,
    title: {
      text: 'Leader election: failover',
      subtitle: 'time until a new leader, and time with no leader at all',
    },
    data: { values },
    facet: { column: { field: 'scenario', type: 'nominal', title: null } },
    spec: {
      width: { step: SYSTEM_STEP_PX, for: 'position' },
      height: FACET_HEIGHT_PX,
      layer: groupedBars({
        systemAxis: systemAxis(rows),
        value: { field: 'ms', aggregate: 'mean', title: 'time (ms)', format: MEASURE_FORMAT },
        color: groupColor('measure', measures, ELECTION_COLORS, null),
      }),
    },
    config: CONFIG,
  };
}

/**
 * The diagram from Kleppmann's "How to do distributed locking", drawn from a run. Above, one lane
 * per fault: a marker where it struck (a diamond for an instant fault such as a clock jump or a
 * crash-restart, a triangle where a lasting one began), a band while it lasted, and its label, so
 * no label can cover another's and a partition that lasts the whole run hides nothing. Below, one
 * lane per client: a bar wherever it believed it held the lock, a dashed line where each fault
 * struck, a tick where each grant's lease lapses unless renewed, and each write. A stale write the
 * register accepted is the damage, so it gets a large red cross; one that fencing refused, a green
 * square. Fencing tokens are written where there is room and are in every mark's tooltip; writes
 * of one client with one outcome at the same instant are one mark, counted.
 */
export function timelineChart(input: TimelineInput): TopLevelSpec {
  const domainMs = Math.max(input.endMs, 1); // an empty run still gets an axis
  const faults = faultLanes(input.faults, input.endMs);
  const clientPanel = clientLanes(input, domainMs, faults.rows);
  const shownFaults = faults.rows.length;
  const leftOut = faults.leftOut > 0 ? ` · ${String(faults.leftOut)} more fault(s) not drawn` : '';
  return {
    $schema: SCHEMA,
    title: {
      text: input.title,
      // One line: vega draws a multi-line subtitle with <tspan>s, a tag the report's hostile-input
      // tests (load.test.ts) do not allow in a chart.
      subtitle:
        'bars: held, with fencing token (#) · dashed: a fault struck · ' +
        (input.ttlMs === undefined
          ? 'no lease ticks: the run did not record its TTL'
          : `ticks: grant + TTL (${String(input.ttlMs)} ms), lapsed unless renewed; tall: while still held`) +
        leftOut,
    },
    vconcat: shownFaults === 0 ? [clientPanel] : [faultPanel(faults.rows, domainMs), clientPanel],
    config: CONFIG,
  };
}

/** Where each grant's lease lapses unless renewed: its grant time plus the TTL. */
export interface LeaseExpiry {
  client: string;
  grantedMs: number;
  expiresMs: number;
  token: number | null;
}

// Faults drawn at most, one lane each; a scenario holds at most 100, a hostile history any number.
const MAX_FAULT_LANES = 100;
const FAULT_LANE_HEIGHT_PX = 22;
const FAULT_LABEL_FONT_PX = 10;
const SMALL_FONT_PX = 9; // tokens and counts
const SMALL_LABEL_OFFSET_PX = 12; // from a client lane's middle to the middle of its row above or below
const MARKER_GAP_PX = 8; // between a fault's marker and its label
/**
 * Widths of small labels are estimated, not measured: at most this many ems a character. DejaVu
 * Sans sets digits 0.64 em wide and '#' and '×' 0.84 em, so the estimate errs on the wide side.
 */
export const SMALL_CHAR_WIDTH_EM = 0.85;
const EXPIRY_COLOR = '#283593'; // indigo: dark on the hold bars' blue, and not a verdict's colour
const TOKEN_TEXT_COLOR = '#1a237e';
type LeaseEnd = 'while held' | 'after release';

interface FaultRow {
  lane: number;
  label: string;
  startMs: number;
  endMs: number;
  color: string;
  marker: 'diamond' | 'triangle-right';
  /** The label's side of the marker: after it in the left half of the run, before it in the right. */
  side: 'after' | 'before';
}

function faultLanes(faults: FaultWindow[], endMs: number): { rows: FaultRow[]; leftOut: number } {
  const clipped = clipToRun(faults, endMs).sort((a, b) => a.startMs - b.startMs);
  const rows = clipped.slice(0, MAX_FAULT_LANES).map(
    (fault, i): FaultRow => ({
      lane: i + 1,
      label: fault.label,
      startMs: fault.startMs,
      endMs: fault.endMs,
      color: fault.color ?? FAULT_COLOR,
      marker: fault.endMs > fault.startMs ? 'triangle-right' : 'diamond',
      side: fault.startMs <= Math.max(endMs, 1) / 2 ? 'after' : 'before',
    }),
  );
  return { rows, leftOut: clipped.length - rows.length };
}

function timeAxis(domainMs: number, axis: boolean) {
  return {
    type: 'quantitative' as const,
    title: axis ? 'true time (ms)' : null,
    scale: { domain: [0, domainMs], nice: false },
    ...(axis ? {} : { axis: { labels: false, ticks: false, domain: false, title: null } }),
  };
}

const FAULT_TOOLTIP = [
  { field: 'label', type: 'nominal', title: 'fault' },
  { field: 'startMs', type: 'quantitative', title: 'from (ms)', format: ',.1f' },
  { field: 'endMs', type: 'quantitative', title: 'to (ms)', format: ',.1f' },
] as const;

/** One lane per fault, in order of onset: its band, its marker and its label. */
function faultPanel(rows: FaultRow[], domainMs: number): ConcatView {
  const time = timeAxis(domainMs, false);
  const lane = {
    field: 'lane',
    type: 'ordinal',
    title: 'faults',
    axis: { labels: false, ticks: false, titleAngle: 0, titleAlign: 'right', titleBaseline: 'middle' },
  } as const;
  // fill and stroke, not color: a color channel without a scale keeps vega-lite from merging the
  // writes' colour, shape and size legends into one.
  const fill = { field: 'color', type: 'nominal', scale: null } as const;
  const marker = (shape: FaultRow['marker']) => ({
    name: shape === 'diamond' ? 'fault_instants' : 'fault_onsets',
    data: { values: rows.filter((row) => row.marker === shape) },
    mark: { type: 'point' as const, shape, filled: true, opacity: 1, size: 90, stroke: '#424242', strokeWidth: 1 },
    encoding: { x: { field: 'startMs', ...time }, y: lane, fill, tooltip: [...FAULT_TOOLTIP] },
  });
  const label = (side: FaultRow['side']) => ({
    name: side === 'after' ? 'fault_labels' : 'fault_labels_before',
    data: { values: rows.filter((row) => row.side === side) },
    // limit: the label is cut short (with an ellipsis) before it can leave the plot.
    mark: {
      type: 'text' as const,
      align: side === 'after' ? ('left' as const) : ('right' as const),
      baseline: 'middle' as const,
      dx: side === 'after' ? MARKER_GAP_PX : -MARKER_GAP_PX,
      fontSize: FAULT_LABEL_FONT_PX,
      limit: TIMELINE_WIDTH_PX / 2 - MARKER_GAP_PX,
    },
    encoding: { x: { field: 'startMs', ...time }, y: lane, text: { field: 'label' }, tooltip: [...FAULT_TOOLTIP] },
  });
  return {
    width: TIMELINE_WIDTH_PX,
    height: { step: FAULT_LANE_HEIGHT_PX },
    layer: [
      {
        name: 'fault_bands',
        data: { values: rows.filter((row) => row.endMs > row.startMs) },
        mark: { type: 'rect', opacity: 0.6, height: { band: 0.7 } },
        encoding: {
          x: { field: 'startMs', ...time },
          x2: { field: 'endMs' },
          y: lane,
          fill,
          tooltip: [...FAULT_TOOLTIP],
        },
      },
      marker('diamond'),
      marker('triangle-right'),
      label('after'),
      label('before'),
    ],
  };
}

/** The client lanes: fault onsets, holds, lease expiries, writes, and tokens and counts where they fit. */
function clientLanes(input: TimelineInput, domainMs: number, faults: FaultRow[]): ConcatView {
  const expiries = input.expiries ?? [];
  const clients = naturalSort([
    ...new Set([...input.holds, ...input.writes, ...expiries].map((event) => event.client)),
  ]);
  const time = timeAxis(domainMs, true);
  const lane = { field: 'client', type: 'nominal', title: null, sort: clients } as const;
  const holds = clipToRun(input.holds, input.endMs).map((hold) => ({
    ...hold,
    token: hold.token ?? null,
    said: `${hold.client} held ${at(hold.startMs)} to ${at(hold.endMs)} ms${hold.token == null ? '' : `, token #${String(hold.token)}`}`,
  }));
  const writes = countedWrites(input.writes).map((write) => ({
    ...write,
    said: `${write.client}: ${write.count > 1 ? `${String(write.count)} writes` : 'write'} ${write.outcome} at ${at(write.atMs)} ms${write.tokens === '' ? '' : `, token ${write.tokens}`}`,
  }));
  const leases = leaseMarks(expiries, holds, input.endMs).map((lease) => ({
    ...lease,
    said: `${lease.client}: lease lapsed at ${at(lease.expiresMs)} ms, ${lease.held}`,
  }));
  const labels = smallLabels(holds, writes, domainMs);
  const smallText = (row: SmallLabel['row']) => ({
    name: `labels_${row}`,
    data: { values: labels.filter((label) => label.row === row) },
    mark: {
      type: 'text' as const,
      align: 'center' as const,
      baseline: 'middle' as const,
      dy: row === 'above' ? -SMALL_LABEL_OFFSET_PX : SMALL_LABEL_OFFSET_PX,
      fontSize: SMALL_FONT_PX,
      color: TOKEN_TEXT_COLOR,
    },
    encoding: { x: { field: 'centerMs', ...time }, y: lane, text: { field: 'text' }, description: { field: 'text' } },
  });
  return {
    width: TIMELINE_WIDTH_PX,
    height: { step: LANE_HEIGHT_PX },
    layer: [
      {
        name: 'fault_rules',
        data: { values: faults },
        // A rule with x but no y spans every lane: where the fault struck, next to what it did.
        mark: { type: 'rule', strokeDash: [4, 3], strokeWidth: 1.5, opacity: 0.9 },
        encoding: {
          x: { field: 'startMs', ...time },
          stroke: { field: 'color', type: 'nominal', scale: null },
          tooltip: [...FAULT_TOOLTIP],
        },
      },
      {
        name: 'holds',
        data: { values: holds },
        // Square corners: a rounded bar's SVG path is seven times as long, and runs have hundreds.
        mark: { type: 'bar', color: HOLD_COLOR, opacity: 0.8 },
        encoding: {
          x: { field: 'startMs', ...time },
          x2: { field: 'endMs' },
          y: lane,
          description: { field: 'said' },
          tooltip: [
            { field: 'client', type: 'nominal', title: 'held by' },
            { field: 'startMs', type: 'quantitative', title: 'from (ms)', format: ',.1f' },
            { field: 'endMs', type: 'quantitative', title: 'to (ms)', format: ',.1f' },
            { field: 'token', type: 'nominal', title: 'token' },
          ],
        },
      },
      leaseLayer(leases, 'while held', lane, time),
      leaseLayer(leases, 'after release', lane, time),
      {
        name: 'writes',
        data: { values: writes },
        mark: { type: 'point', filled: true, opacity: 1 },
        encoding: {
          x: { field: 'atMs', ...time },
          y: lane,
          shape: writeScale('shape'),
          color: writeScale('color'),
          size: writeScale('size'),
          description: { field: 'said' },
          tooltip: [
            { field: 'client', type: 'nominal', title: 'writer' },
            { field: 'atMs', type: 'quantitative', title: 'at (ms)', format: ',.1f' },
            { field: 'outcome', type: 'nominal', title: 'write' },
            { field: 'count', type: 'quantitative', title: 'writes' },
            { field: 'tokens', type: 'nominal', title: 'token' },
          ],
        },
      },
      smallText('above'),
      smallText('below'),
    ],
  };
}

/** Writes of one client with one outcome at the same instant, as one mark with their count; the damage last. */
function countedWrites(writes: TimelineWrite[]) {
  const groups = new Map<string, { client: string; atMs: number; outcome: WriteOutcome; tokens: (number | null)[] }>();
  for (const write of writes) {
    const outcome = writeOutcome(write);
    const key = JSON.stringify([write.client, write.atMs, outcome]);
    const group = groups.get(key) ?? { client: write.client, atMs: write.atMs, outcome, tokens: [] };
    group.tokens.push(write.token ?? null);
    groups.set(key, group);
  }
  const rank = (outcome: WriteOutcome) => WRITE_OUTCOMES.indexOf(outcome);
  return [...groups.values()]
    .map(({ tokens, ...group }) => ({ ...group, count: tokens.length, tokens: tokenText(tokens) }))
    .sort((a, b) => rank(a.outcome) - rank(b.outcome) || a.atMs - b.atMs);
}

/** '#3' or '#3, #4' for the tokens carried, '' when none was. */
function tokenText(tokens: readonly (number | null)[]): string {
  const distinct = [...new Set(tokens.filter((token): token is number => token !== null))].sort((a, b) => a - b);
  return distinct.map((token) => `#${String(token)}`).join(', ');
}

/**
 * Ticks where leases lapse: tall and dark where the client still believed it held the lock (the
 * lease ran out under it), short and faint where it had already let go.
 */
function leaseLayer(
  leases: ReturnType<typeof leaseMarks>,
  end: LeaseEnd,
  lane: { field: 'client'; type: 'nominal'; title: null; sort: string[] },
  time: ReturnType<typeof timeAxis>,
): ChartLayer {
  const held = end === 'while held';
  return {
    name: held ? 'lease_expiries' : 'lease_expiries_after_release',
    data: { values: leases.filter((lease) => lease.held === end) },
    mark: {
      type: 'tick',
      color: EXPIRY_COLOR,
      thickness: held ? 2.5 : 1.5,
      size: held ? LANE_HEIGHT_PX * 0.8 : 12,
      opacity: held ? 1 : 0.45,
      // A lease that lapsed after its release is background: its faint tick is drawn, with its
      // tooltip, but not read out (a fifth of a timeline's weight, with nothing a reader needs).
      aria: held,
    },
    encoding: {
      x: { field: 'expiresMs', ...time },
      y: lane,
      description: { field: 'said' },
      tooltip: [
        { field: 'client', type: 'nominal', title: 'lease of' },
        { field: 'grantedMs', type: 'quantitative', title: 'granted (ms)', format: ',.1f' },
        { field: 'expiresMs', type: 'quantitative', title: 'lapses (ms)', format: ',.1f' },
        { field: 'token', type: 'nominal', title: 'token' },
        { field: 'held', type: 'nominal', title: 'lease lapsed' },
      ],
    },
  };
}

/**
 * A time as a mark's short description says it. Each mark's aria-label would otherwise list every
 * field it encodes, which on a timeline of a few hundred marks is a third of the page.
 */
function at(ms: number): string {
  return ms.toFixed(1);
}

/** Lease expiries within the run, each marked with whether its client still believed it held the lock then. */
function leaseMarks(expiries: LeaseExpiry[], holds: HoldInterval[], endMs: number) {
  return expiries
    .filter((expiry) => expiry.expiresMs >= 0 && expiry.expiresMs <= endMs)
    .map((expiry) => {
      const hold = holds.find((h) => h.client === expiry.client && h.startMs === expiry.grantedMs);
      const held: LeaseEnd = hold !== undefined && hold.endMs > expiry.expiresMs ? 'while held' : 'after release';
      return { ...expiry, held };
    });
}

interface SmallLabel {
  client: string;
  centerMs: number;
  text: string;
  row: 'above' | 'below';
}

/**
 * Counts of coincident writes, then write tokens, then hold tokens, each put in the row below or
 * above its lane's middle where its estimated box overlaps no label placed before it, stays in
 * the plot and (a hold's token) inside its bar. A count that does not fit is still in its mark's
 * tooltip; so is a token.
 */
function smallLabels(
  holds: (HoldInterval & { token: number | null })[],
  writes: ReturnType<typeof countedWrites>,
  domainMs: number,
): SmallLabel[] {
  const pxPerMs = TIMELINE_WIDTH_PX / domainMs;
  const wanted = [
    ...writes
      .filter((w) => w.count > 1)
      .map((w) => ({ client: w.client, atPx: w.atMs * pxPerMs, text: `×${String(w.count)} ${w.tokens}`.trim() })),
    ...writes
      .filter((w) => w.count === 1 && w.tokens !== '')
      .map((w) => ({ client: w.client, atPx: w.atMs * pxPerMs, text: w.tokens })),
  ].map((label) => ({ ...label, fromPx: 0, toPx: TIMELINE_WIDTH_PX, rows: ['below', 'above'] as const }));
  const holdTokens = holds
    .filter((h) => h.token !== null)
    .map((h) => {
      const text = `#${String(h.token)}`;
      const startPx = h.startMs * pxPerMs;
      return {
        client: h.client,
        atPx: startPx + 2 + labelWidthPx(text) / 2,
        text,
        fromPx: startPx,
        toPx: h.endMs * pxPerMs,
        rows: ['above', 'below'] as const,
      };
    });
  // Labels placed in one row of one lane do not overlap, so a row holds fewer than the plot is wide
  // in pixels and each check is bounded, however many writes a hostile history holds.
  const rows = new Map<string, { leftPx: number; rightPx: number }[]>();
  const placed: SmallLabel[] = [];
  for (const label of [...wanted, ...holdTokens]) {
    const half = labelWidthPx(label.text) / 2;
    const leftPx = label.atPx - half;
    const rightPx = label.atPx + half;
    if (leftPx < label.fromPx || rightPx > label.toPx) continue;
    const taken = (row: SmallLabel['row']) => {
      const key = JSON.stringify([label.client, row]);
      const spans = rows.get(key) ?? [];
      rows.set(key, spans);
      return spans;
    };
    const row = label.rows.find((r) => !taken(r).some((p) => p.leftPx < rightPx && leftPx < p.rightPx));
    if (row === undefined) continue;
    taken(row).push({ leftPx, rightPx });
    placed.push({ client: label.client, centerMs: label.atPx / pxPerMs, text: label.text, row });
  }
  return placed;
}

function labelWidthPx(text: string): number {
  return text.length * SMALL_FONT_PX * SMALL_CHAR_WIDTH_EM;
}

interface BarsOptions {
  systemAxis: ReturnType<typeof systemAxis>;
  value: {
    field: string;
    aggregate: 'sum' | 'mean';
    title: string;
    format: string;
    tickMinStep?: number;
  };
  color: ReturnType<typeof groupColor>;
}

/** Bars per system, one per group side by side, with each bar's value written above it. */
function groupedBars({ systemAxis, value, color }: BarsOptions): ChartLayer[] {
  const position = {
    x: systemAxis,
    xOffset: { field: color.field, type: 'nominal' as const, sort: color.scale.domain },
    y: {
      field: value.field,
      aggregate: value.aggregate,
      type: 'quantitative' as const,
      title: value.title,
      axis: { tickMinStep: value.tickMinStep },
    },
  };
  return [
    { name: 'bars', mark: { type: 'bar' }, encoding: { ...position, color } },
    {
      // Written out, a zero reads as 0 rather than as a bar that is missing.
      name: 'bar_values',
      mark: { type: 'text', baseline: 'bottom', dy: -2, fontSize: 10 },
      encoding: {
        ...position,
        text: {
          field: value.field,
          aggregate: value.aggregate,
          type: 'quantitative',
          format: value.format,
        },
      },
    },
  ];
}

function systemAxis(rows: { system: string }[]) {
  return { field: 'system', type: 'nominal' as const, title: 'system', sort: systemsIn(rows) };
}

/** A colour encoding for the groups present, so a legend never lists a group without data. */
function groupColor<G extends string>(
  field: string,
  groups: readonly G[],
  colors: Record<G, string>,
  title: string | null = field,
) {
  const domain: string[] = [...groups];
  const range = groups.map((group): string => colors[group]);
  return { field, type: 'nominal' as const, title, scale: { domain, range } };
}

/** The polygon of an X, in the square from -1 to 1 that vega sizes custom symbols in. */
const X_SHAPE_PATH = 'M-1,-0.6L-0.6,-1L0,-0.4L0.6,-1L1,-0.6L0.4,0L1,0.6L0.6,1L0,0.4L-0.6,1L-1,0.6L-0.4,0Z';

type WriteOutcome = 'accepted' | 'rejected' | 'stale, accepted' | 'stale, rejected';

/**
 * How each write outcome is drawn (size is the symbol's area in square pixels); the legend merges
 * shape, colour and size into one entry.
 */
const WRITE_MARKS: Record<WriteOutcome, { shape: string; color: string; size: number }> = {
  accepted: { shape: 'circle', color: '#212121', size: 50 },
  rejected: { shape: 'square', color: '#616161', size: 50 },
  'stale, rejected': { shape: 'square', color: VERDICT_COLORS.safe, size: 90 },
  'stale, accepted': { shape: X_SHAPE_PATH, color: VERDICT_COLORS.unsafe, size: 220 },
};
/** The legend's order, and the drawing order: the damage is drawn last, on top of the rest. */
const WRITE_OUTCOMES = Object.keys(WRITE_MARKS) as WriteOutcome[];

function writeOutcome(write: TimelineWrite): WriteOutcome {
  if (write.stale) return write.accepted ? 'stale, accepted' : 'stale, rejected';
  return write.accepted ? 'accepted' : 'rejected';
}

function writeScale(property: 'shape' | 'color' | 'size') {
  return {
    field: 'outcome',
    type: 'nominal',
    title: 'write',
    legend: { orient: 'bottom' },
    sort: WRITE_OUTCOMES, // vega-lite wants size on a discrete field to have an order
    scale: {
      // ordinal: one value per outcome. By default a size on a nominal field gets a point scale,
      // which spreads sizes evenly between the first and the last in the range.
      type: 'ordinal',
      domain: WRITE_OUTCOMES,
      range: WRITE_OUTCOMES.map((outcome) => WRITE_MARKS[outcome][property]),
    },
  } as const;
}

/** Modes present in the data, sim first. */
function modesIn(rows: { mode: Mode }[]): Mode[] {
  return (['sim', 'live'] as const).filter((mode) => rows.some((row) => row.mode === mode));
}

function systemsIn(rows: { system: string }[]): string[] {
  const rank = (system: string) => {
    const index = SYSTEM_ORDER.indexOf(system);
    return index === -1 ? SYSTEM_ORDER.length : index;
  };
  return naturalSort([...new Set(rows.map((row) => row.system))]).sort((a, b) => rank(a) - rank(b));
}

/** Sorts so that c2 comes before c10. */
function naturalSort(names: string[]): string[] {
  return [...names].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function clipToRun<T extends { startMs: number; endMs: number }>(spans: T[], endMs: number): T[] {
  return spans
    .map((span) => ({
      ...span,
      startMs: Math.max(0, span.startMs),
      endMs: Math.min(endMs, span.endMs),
    }))
    .filter((span) => span.startMs <= span.endMs);
}
