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
const SYSTEM_ORDER = ['redis', 'redlock', 'zookeeper', 'etcd', 'postgres', 'mysql'];

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
}

/** A write as the protected register judged it. */
export interface TimelineWrite {
  client: string;
  atMs: number;
  accepted: boolean;
  stale: boolean;
}

export interface TimelineInput {
  title: string;
  endMs: number;
  holds: HoldInterval[];
  faults: FaultWindow[];
  writes: TimelineWrite[];
}

/** An entry of a layered spec's `layer` array (derived from the one spec type vega-lite exports). */
export type ChartLayer = Extract<TopLevelSpec, { layer: unknown }>['layer'][number];

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
 * The diagram from Kleppmann's "How to do distributed locking", drawn from a run: one lane per
 * client with a bar wherever it believed it held the lock, fault windows shaded behind every
 * lane, and each write marked on its client's lane. A stale write the register accepted is the
 * damage, so it gets a large red cross; one that fencing refused, a green square.
 */
export function timelineChart(input: TimelineInput): TopLevelSpec {
  const clients = naturalSort([...new Set([...input.holds, ...input.writes].map((event) => event.client))]);
  const time = {
    type: 'quantitative' as const,
    title: 'true time (ms)',
    scale: { domain: [0, Math.max(input.endMs, 1)], nice: false }, // an empty run still gets an axis
  };
  const lane = { field: 'client', type: 'nominal', title: null, sort: clients } as const;
  return {
    $schema: SCHEMA,
    title: {
      text: input.title,
      subtitle: 'bars: when each client believed it held the lock; shaded: faults in force',
    },
    width: TIMELINE_WIDTH_PX,
    height: { step: LANE_HEIGHT_PX },
    layer: [
      faultBands(input.faults, input.endMs),
      {
        name: 'holds',
        data: { values: clipToRun(input.holds, input.endMs) },
        // Square corners: a rounded bar's SVG path is seven times as long, and runs have hundreds.
        mark: { type: 'bar', color: HOLD_COLOR, opacity: 0.8 },
        encoding: { x: { field: 'startMs', ...time }, x2: { field: 'endMs' }, y: lane },
      },
      {
        name: 'writes',
        data: { values: inDrawingOrder(input.writes) },
        mark: { type: 'point', filled: true, opacity: 1 },
        encoding: {
          x: { field: 'atMs', ...time },
          y: lane,
          shape: writeScale('shape'),
          color: writeScale('color'),
          size: writeScale('size'),
        },
      },
    ],
    config: CONFIG,
  };
}

/**
 * A layer of shaded fault windows with their labels, for any chart whose x axis is true time in
 * ms: put it first in the chart's `layer` so the bands sit behind the data. Windows are clipped to
 * [0, endMs], the chart's time domain; a fault still in force at the end runs to the edge.
 */
export function faultBands(faults: FaultWindow[], endMs: number): ChartLayer {
  // No axis title here: when the layers' axes merge, the host chart's explicit title wins.
  const x = { field: 'startMs', type: 'quantitative' } as const;
  return {
    data: { values: clipToRun(faults, endMs).map((w) => ({ ...w, color: w.color ?? FAULT_COLOR })) },
    layer: [
      {
        name: 'fault_bands',
        // A rect with x and x2 but no y spans the full height of the plot: every lane. The colour
        // is the data's own (no scale), so no legend: each band's label names its kind already.
        mark: { type: 'rect', opacity: 0.45 },
        encoding: { x, x2: { field: 'endMs' }, color: { field: 'color', type: 'nominal', scale: null } },
      },
      {
        name: 'fault_labels',
        // Labels sit just above the plot (y = 0 is its top edge), so they never cover the data.
        mark: { type: 'text', align: 'left', baseline: 'bottom', dx: 2, dy: -3, fontSize: 10 },
        encoding: { x, y: { value: 0 }, text: { field: 'label' } },
      },
    ],
  };
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

function inDrawingOrder(writes: TimelineWrite[]) {
  const rank = (outcome: WriteOutcome) => WRITE_OUTCOMES.indexOf(outcome);
  return writes
    .map((write) => ({ ...write, outcome: writeOutcome(write) }))
    .sort((a, b) => rank(a.outcome) - rank(b.outcome));
}

function writeOutcome(write: TimelineWrite): WriteOutcome {
  if (write.stale) return write.accepted ? 'stale, accepted' : 'stale, rejected';
  return write.accepted ? 'accepted' : 'rejected';
}

function writeScale(property: 'shape' | 'color' | 'size') {
  return {
    field: 'outcome',
    type: 'nominal',
    title: 'write',
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
