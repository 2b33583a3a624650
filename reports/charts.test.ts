import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { TopLevelSpec } from 'vega-lite';
import {
  type FailoverRow,
  type LatencySample,
  type SafetyRow,
  type ThroughputRow,
  type TimelineInput,
  FONT_FAMILY,
  SMALL_CHAR_WIDTH_EM,
  failoverChart,
  latencyChart,
  safetyChart,
  throughputChart,
  timelineChart,
} from './charts.ts';
import { type RenderedImages, renderChart } from './render.ts';

const SYSTEMS = ['redis', 'redlock', 'etcd'];
const SCRIPT = '<script>alert(1)</script>';
const ESCAPED_SCRIPT = '&lt;script&gt;alert(1)&lt;/script&gt;';
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Ten latencies per system and mode, spread over two decades like a real run's. */
function latencySamples(modes: ('sim' | 'live')[]): LatencySample[] {
  return SYSTEMS.flatMap((system, s) =>
    modes.flatMap((mode) =>
      Array.from({ length: 10 }, (_, i) => ({
        system,
        mode,
        latencyMs: (1 + i * i) * (s + 1) * (mode === 'live' ? 3 : 1),
      })),
    ),
  );
}

const safetyRows: SafetyRow[] = [
  { system: 'redis', fencing: 'off', lostUpdates: 2, staleWritesAccepted: 1 },
  { system: 'redis', fencing: 'on', lostUpdates: 0, staleWritesAccepted: 0 },
  { system: 'redlock', fencing: 'off', lostUpdates: 1, staleWritesAccepted: 2 },
  { system: 'redlock', fencing: 'on', lostUpdates: 1, staleWritesAccepted: 1 },
  { system: 'redlock', fencing: 'on', lostUpdates: 2, staleWritesAccepted: 0 }, // a second scenario
  { system: 'etcd', fencing: 'off', lostUpdates: 3, staleWritesAccepted: 0 },
  { system: 'etcd', fencing: 'on', lostUpdates: 0, staleWritesAccepted: 0 },
];

const throughputRows: ThroughputRow[] = SYSTEMS.flatMap((system, s) => [
  { system, mode: 'sim' as const, acquisitionsPerSec: 120 * (s + 1) },
  { system, mode: 'live' as const, acquisitionsPerSec: 45.5 * (s + 1) },
]);

const failoverRows: FailoverRow[] = SYSTEMS.flatMap((system, s) => [
  { system, scenario: 'leader-isolated', failoverMs: 2100 + 300 * s, leaderlessMs: 1900 + 250 * s },
  { system, scenario: `leader-${SCRIPT}`, failoverMs: 800, leaderlessMs: 0 },
]);

/**
 * Kleppmann's GC pause: c1 is paused past its lease, c2 takes over, c1's late write lands. Around
 * it, what made the old timeline unreadable: a partition for the whole run, an instant clock jump,
 * three faults struck within a few milliseconds with long labels, and two stale writes at once.
 */
const timeline: TimelineInput = {
  title: 'gc-pause-beyond-ttl, redis, unfenced, seed 1',
  endMs: 10_000,
  ttlMs: 2_000,
  holds: [
    { client: 'c1', startMs: 100, endMs: 4_300, token: 7 },
    { client: 'c2', startMs: 2_150, endMs: 2_400, token: 8 },
    { client: 'c3', startMs: 2_500, endMs: 2_800, token: 9 },
    { client: 'c2', startMs: 9_000, endMs: 12_000, token: 10 }, // still held at the end: drawn to the edge
  ],
  expiries: [
    { client: 'c1', grantedMs: 100, expiresMs: 2_100, token: 7 },
    { client: 'c2', grantedMs: 2_150, expiresMs: 4_150, token: 8 },
    { client: 'c3', grantedMs: 2_500, expiresMs: 4_500, token: 9 },
    { client: 'c2', grantedMs: 9_000, expiresMs: 11_000, token: 10 }, // after the run: not drawn
  ],
  faults: [
    { label: 'partition c1 | server-4+server-5 (drop) for the whole run', startMs: 0, endMs: 10_000 },
    { label: 'pause c1', startMs: 150, endMs: 4_150 },
    { label: 'clock server-3 jumps 6000ms', startMs: 152, endMs: 152 },
    { label: 'crash server-2 and restart it without its data', startMs: 155, endMs: 155 },
    { label: 'partition server-1', startMs: 6_000, endMs: 7_500 },
  ],
  writes: [
    { client: 'c2', atMs: 2_390, accepted: true, stale: false, token: 8 },
    { client: 'c3', atMs: 2_790, accepted: true, stale: false, token: 9 },
    { client: 'c1', atMs: 4_290, accepted: true, stale: true, token: 7 },
    { client: 'c1', atMs: 4_290, accepted: true, stale: true, token: 7 },
    { client: SCRIPT, atMs: 5_000, accepted: false, stale: true },
  ],
};

const charts: Record<string, () => TopLevelSpec> = {
  latency: () => latencyChart(latencySamples(['sim', 'live'])),
  safety: () => safetyChart(safetyRows),
  throughput: () => throughputChart(throughputRows),
  failover: () => failoverChart(failoverRows),
  timeline: () => timelineChart(timeline),
};

const rendered = new Map<string, RenderedImages>();
before(async () => {
  for (const [name, chart] of Object.entries(charts)) rendered.set(name, await renderChart(chart()));
});

function output(name: string): RenderedImages {
  const chart = rendered.get(name);
  assert.ok(chart, `${name} was rendered`);
  return chart;
}

/** Items drawn by the mark layer named `markName`, over every panel of a faceted chart. */
function markItems(svg: string, markName: string): number {
  const group = new RegExp(`<g class="mark-\\w+ role-mark ${markName}_marks"[^>]*>(.*?)</g>`, 'gs');
  const groups = svg.matchAll(group);
  let items = 0;
  for (const [, content = ''] of groups) items += (content.match(/<(path|text)\b/g) ?? []).length;
  return items;
}

/** A one-point chart whose title decides its width. */
function tiny(title: string): TopLevelSpec {
  return {
    title,
    width: 20,
    height: 20,
    data: { values: [{ x: 1 }] },
    mark: 'point',
    encoding: { x: { field: 'x', type: 'quantitative' } },
  };
}

/** Half the width of a symbol drawn around its origin: the largest coordinate in its path. */
function halfWidth(pathElement: string): number {
  const d = / d="([^"]*)"/.exec(pathElement)?.[1] ?? '';
  return Math.max(0, ...(d.match(/-?\d+(\.\d+)?/g) ?? []).map((n) => Math.abs(Number(n))));
}

/** The parts of a timeline spec the tests read: its panels (fault lanes, client lanes) and their layers. */
interface SpecLayer {
  name?: string;
  mark?: string | { type: string; align?: string; dx?: number; dy?: number; fontSize?: number; limit?: number };
  data?: { values?: Record<string, unknown>[] };
  encoding?: {
    x?: { scale?: { domain?: number[] } };
    y?: { sort?: string[] };
    tooltip?: { field: string }[];
  };
}

interface SpecPanel {
  width: number;
  height: { step: number };
  layer: SpecLayer[];
}

function panels(spec: TopLevelSpec): SpecPanel[] {
  return (spec as unknown as { vconcat: SpecPanel[] }).vconcat;
}

function panelLayers(spec: TopLevelSpec, panel: number): SpecLayer[] {
  return panels(spec)[panel]?.layer ?? [];
}

function layerNamed(spec: TopLevelSpec, name: string): { panel: number; layer: SpecLayer } {
  for (const [panel, view] of panels(spec).entries()) {
    const layer = view.layer.find((l) => l.name === name);
    if (layer) return { panel, layer };
  }
  assert.fail(`no layer named ${name}`);
}

function dataOf(layer: SpecLayer): Record<string, unknown>[] {
  return layer.data?.values ?? [];
}

function tooltipFields(layer: SpecLayer): string[] {
  return (layer.encoding?.tooltip ?? []).map((t) => t.field);
}

interface LabelBox {
  text: string;
  panel: number;
  plotWidth: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * Every text label's box, estimated from the spec's data: its anchor on the time scale and lane,
 * the mark's alignment, offsets and font size, and SMALL_CHAR_WIDTH_EM a character (at most the
 * mark's limit, past which vega cuts the text short).
 */
function labelBoxes(spec: TopLevelSpec): LabelBox[] {
  return panels(spec).flatMap((view, panel) =>
    view.layer.flatMap((layer) => {
      if (typeof layer.mark !== 'object' || layer.mark.type !== 'text') return [];
      const mark = layer.mark;
      const fontSize = mark.fontSize ?? 11;
      const domainMs = layer.encoding?.x?.scale?.domain?.[1] ?? 1;
      const lanes = layer.encoding?.y?.sort;
      return dataOf(layer).map((row): LabelBox => {
        const text = String(row.label ?? row.text);
        const atMs = Number(row.centerMs ?? row.startMs);
        const lane = lanes === undefined ? Number(row.lane) - 1 : lanes.indexOf(String(row.client));
        const width = Math.min(text.length * fontSize * SMALL_CHAR_WIDTH_EM, mark.limit ?? Infinity);
        const x = (atMs / domainMs) * view.width + (mark.dx ?? 0);
        const left = mark.align === 'left' ? x : mark.align === 'right' ? x - width : x - width / 2;
        const middle = lane * view.height.step + view.height.step / 2 + (mark.dy ?? 0);
        return {
          text,
          panel,
          plotWidth: view.width,
          left,
          right: left + width,
          top: middle - fontSize / 2,
          bottom: middle + fontSize / 2,
        };
      });
    }),
  );
}

function count(text: string, pattern: RegExp): number {
  return (text.match(pattern) ?? []).length;
}

function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) }; // IHDR, right after the signature
}

function svgSize(svg: string): { width: number; height: number } {
  const match = /<svg [^>]*width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  assert.ok(match, 'the SVG states its size');
  return { width: Number(match[1]), height: Number(match[2]) };
}

describe('charts', () => {
  test('the latency chart draws one box per system and mode', () => {
    assert.equal(count(output('latency').svg, /aria-roledescription="box"/g), SYSTEMS.length * 2);
  });

  test('the latency chart works with sim samples only, and names no live mode', async () => {
    const { svg } = await renderChart(latencyChart(latencySamples(['sim'])));
    assert.equal(count(svg, /aria-roledescription="box"/g), SYSTEMS.length);
    assert.doesNotMatch(svg, />live</);
  });

  test('the latency chart leaves out zero latencies, which a log axis cannot show, and says so', () => {
    const zero: LatencySample = { system: 'redis', mode: 'sim', latencyMs: 0 };
    const spec = latencyChart([...latencySamples(['sim']), zero]);
    assert.match(JSON.stringify(spec.title), /1 sample\(s\) of 0 ms/);
    assert.ok(!JSON.stringify(spec).includes('"latencyMs":0'));
  });

  test('the safety chart draws a bar per system, fencing and measure, and totals the scenarios', () => {
    const { svg } = output('safety');
    assert.equal(markItems(svg, 'bars'), SYSTEMS.length * 2 * 2);
    // redlock fenced: lost updates 1 + 2 over its two scenarios.
    assert.match(svg, /aria-label="[^"]*system: redlock; [^"]*fencing: on[^"]*: 3"/);
    const values = [...svg.matchAll(/role-mark bar_values_marks"[^>]*>(.*?)<\/g>/gs)].map((m) => m[1]);
    assert.ok(count(values.join(''), />0<\/text>/g) > 0, 'zero damage is written out, not left blank');
  });

  test('the throughput chart draws a bar per system and mode', () => {
    assert.equal(markItems(output('throughput').svg, 'bars'), SYSTEMS.length * 2);
  });

  test('the failover chart draws failover and leaderless bars per system in each scenario', () => {
    assert.equal(markItems(output('failover').svg, 'bars'), SYSTEMS.length * 2 * 2);
  });

  test('the timeline draws a bar per hold, a lane per fault, a tick per lease in the run, and a mark per write', () => {
    const { svg } = output('timeline');
    assert.equal(markItems(svg, 'holds'), timeline.holds.length);
    assert.equal(markItems(svg, 'fault_bands'), 3, 'the lasting faults');
    assert.equal(markItems(svg, 'fault_onsets') + markItems(svg, 'fault_instants'), timeline.faults.length);
    assert.equal(markItems(svg, 'fault_labels') + markItems(svg, 'fault_labels_before'), timeline.faults.length);
    assert.equal(markItems(svg, 'lease_expiries') + markItems(svg, 'lease_expiries_after_release'), 3);
    assert.equal(markItems(svg, 'writes'), timeline.writes.length - 1, 'the two coincident writes are one mark');
    assert.match(svg, />pause c1<\/text>/);
    assert.match(svg, />#7<\/text>/);
  });

  test('the timeline marks the accepted stale write with a red cross', () => {
    const { svg } = output('timeline');
    const writeMark = (outcome: string) => {
      const mark = new RegExp(`<path [^>]*aria-label="c\\d+: (?:\\d+ )?writes? ${outcome} at [^"]*"[^>]*>`, 'g');
      const marks = svg.match(mark) ?? [];
      return { count: marks.length, path: marks[0] ?? '' };
    };
    const cross = writeMark('stale, accepted');
    assert.equal(cross.count, 1);
    assert.match(cross.path, /fill="#c62828"/);
    const accepted = writeMark('accepted');
    assert.ok(halfWidth(cross.path) > 1.5 * halfWidth(accepted.path), 'the cross stands out');
    const writeMarks = /<g class="mark-symbol role-mark writes_marks"[^>]*>(.*?)<\/g>/s.exec(svg);
    const lastDrawn = writeMarks?.[1]?.split('<path ').at(-1) ?? '';
    assert.match(lastDrawn, /writes? stale, accepted at/, 'the cross is drawn on top of the other writes');
  });

  test('no two labels of the timeline overlap, by their estimated boxes, and each stays in the plot', () => {
    const spec = timelineChart(timeline);
    const boxes = labelBoxes(spec);
    assert.ok(boxes.length >= timeline.faults.length + 4, `${boxes.length} labels`);
    for (const [i, a] of boxes.entries()) {
      assert.ok(a.left >= 0 && a.right <= a.plotWidth, `${a.text} stays in the plot`);
      for (const b of boxes.slice(i + 1)) {
        const apart =
          a.panel !== b.panel || a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
        assert.ok(apart, `${a.text} and ${b.text} overlap`);
      }
    }
  });

  test('a fault that lasts the whole run is a band in its own lane, and shades no client lane', () => {
    const spec = timelineChart(timeline);
    const bands = layerNamed(spec, 'fault_bands');
    assert.equal(bands.panel, 0, 'fault bands are drawn in the fault panel, above the clients');
    assert.ok(bands.layer.encoding?.y !== undefined, 'each band has a lane (y), so it does not span the chart');
    const whole = dataOf(bands.layer).find((row) => String(row.label).includes('whole run'));
    assert.ok(whole, 'the whole-run partition is a band');
    const lanes = dataOf(bands.layer).map((row) => row.lane);
    assert.equal(new Set(lanes).size, lanes.length, 'one lane per fault');
    const clientMarks = panelLayers(spec, 1).map((layer) =>
      typeof layer.mark === 'string' ? layer.mark : layer.mark?.type,
    );
    assert.ok(!clientMarks.includes('rect'), 'no rect shades the client lanes');
    assert.equal(
      dataOf(layerNamed(spec, 'fault_rules').layer).length,
      timeline.faults.length,
      'a rule where each struck',
    );
  });

  test('an instant fault (a clock jump, a crash-restart) is a marker with its label, not a band', () => {
    const spec = timelineChart(timeline);
    const instants = dataOf(layerNamed(spec, 'fault_instants').layer).map((row) => row.label);
    assert.deepEqual(instants, ['clock server-3 jumps 6000ms', 'crash server-2 and restart it without its data']);
    const bands = dataOf(layerNamed(spec, 'fault_bands').layer).map((row) => row.label);
    assert.ok(!bands.includes('clock server-3 jumps 6000ms'));
    const labels = ['fault_labels', 'fault_labels_before'].flatMap((name) =>
      dataOf(layerNamed(spec, name).layer).map((row) => row.label),
    );
    assert.ok(labels.includes('clock server-3 jumps 6000ms'));
  });

  test('the timeline marks where each lease lapses, darker where its client still held the lock', () => {
    const spec = timelineChart(timeline);
    const held = dataOf(layerNamed(spec, 'lease_expiries').layer);
    const released = dataOf(layerNamed(spec, 'lease_expiries_after_release').layer);
    // c1 was paused past its lease: granted at 100, lapsed at 2,100, still believed it held until 4,300.
    assert.deepEqual(
      held.map((row) => [row.client, row.expiresMs, row.token]),
      [['c1', 2_100, 7]],
    );
    assert.deepEqual(released.map((row) => [row.client, row.expiresMs]).sort(), [
      ['c2', 4_150],
      ['c3', 4_500],
    ]);
    assert.match(JSON.stringify(spec.title), /TTL \(2000 ms\)/);
  });

  test('a run without its TTL says it has no lease marks rather than drawing none silently', () => {
    const older: TimelineInput = { ...timeline };
    delete older.ttlMs;
    delete older.expiries;
    const spec = timelineChart(older);
    assert.equal(dataOf(layerNamed(spec, 'lease_expiries').layer).length, 0);
    assert.match(JSON.stringify(spec.title), /did not record its TTL/);
  });

  test('grants and writes carry their fencing tokens in tooltips, and as text where there is room', () => {
    const spec = timelineChart(timeline);
    const holds = layerNamed(spec, 'holds').layer;
    assert.ok(tooltipFields(holds).includes('token'));
    assert.deepEqual(
      dataOf(holds).map((row) => row.token),
      [7, 8, 9, 10],
    );
    const writes = layerNamed(spec, 'writes').layer;
    assert.ok(tooltipFields(writes).includes('tokens'));
    const texts = ['labels_above', 'labels_below'].flatMap((name) =>
      dataOf(layerNamed(spec, name).layer).map((row) => String(row.text)),
    );
    for (const token of ['#7', '#8', '#9', '#10']) assert.ok(texts.includes(token), `${token} in ${texts.join(' ')}`);
  });

  test('coincident writes are one mark with their count, shown and in the tooltip', () => {
    const spec = timelineChart(timeline);
    const writes = layerNamed(spec, 'writes').layer;
    const late = dataOf(writes).filter((row) => row.client === 'c1' && row.atMs === 4_290);
    assert.deepEqual(
      late.map((row) => [row.outcome, row.count, row.tokens]),
      [['stale, accepted', 2, '#7']],
    );
    assert.ok(tooltipFields(writes).includes('count'));
    const texts = ['labels_above', 'labels_below'].flatMap((name) =>
      dataOf(layerNamed(spec, name).layer).map((row) => String(row.text)),
    );
    assert.ok(texts.includes('×2 #7'), texts.join(' '));
  });

  test('the timeline clips holds and faults to the run', () => {
    const json = JSON.stringify(timelineChart(timeline));
    assert.match(json, /"client":"c2","startMs":9000,"endMs":10000/);
  });

  test('vega-lite compiles every chart without a warning', () => {
    for (const name of Object.keys(charts)) {
      const fromVegaLite = output(name).warnings.filter((warning) => warning.startsWith('vega-lite:'));
      assert.deepEqual(fromVegaLite, [], name);
    }
  });

  test('every chart writes its text in the bundled font', () => {
    for (const name of Object.keys(charts)) {
      const families = new Set(output(name).svg.match(/font-family="[^"]*"/g));
      assert.deepEqual([...families], [`font-family="${FONT_FAMILY}"`], name);
    }
  });

  test('rendering draws any spec in the bundled font, whatever font it names', async () => {
    const { svg } = await renderChart({ ...tiny('Comic'), config: { font: 'Comic Sans MS' } });
    assert.doesNotMatch(svg, /Comic Sans/);
    assert.match(svg, new RegExp(`font-family="${FONT_FAMILY}"`));
  });

  test('layout measures text in the bundled font, so a narrow title takes less room', async () => {
    const narrow = svgSize((await renderChart(tiny('i'.repeat(80)))).svg);
    const wide = svgSize((await renderChart(tiny('W'.repeat(80)))).svg);
    // DejaVu Sans sets W about three and a half times as wide as i; vega's guess makes them equal.
    assert.ok(wide.width > 2 * narrow.width, `${wide.width} against ${narrow.width}`);
  });

  test('no SVG refers to anything outside itself or carries a script', () => {
    for (const name of Object.keys(charts)) {
      const { svg } = output(name);
      // The namespace names in xmlns attributes are identifiers, never fetched.
      const urls = svg.replace(/ xmlns(:\w+)?="http:\/\/www\.w3\.org\/[^"]*"/g, '');
      assert.doesNotMatch(urls, /https?:/, name);
      assert.doesNotMatch(urls, /(href|src)=/, name);
      assert.doesNotMatch(svg, /<script/i, name);
    }
  });

  test('a label holding markup comes out escaped', () => {
    for (const name of ['failover', 'timeline']) {
      const { svg } = output(name);
      assert.ok(svg.includes(ESCAPED_SCRIPT), `${name} shows the label as text`);
      assert.ok(!svg.includes(SCRIPT), name);
    }
  });

  test('every chart rasterises to a PNG twice the SVG size', () => {
    for (const name of Object.keys(charts)) {
      const { svg, png } = output(name);
      assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE, name);
      assert.ok(png.byteLength > 10_000, `${name}: ${png.byteLength} bytes is too small for a chart`);
      const size = svgSize(svg);
      const drawn = pngSize(png);
      assert.ok(Math.abs(drawn.width - 2 * size.width) <= 1, `${name}: ${drawn.width} px wide`);
      assert.ok(Math.abs(drawn.height - 2 * size.height) <= 1, `${name}: ${drawn.height} px high`);
    }
  });

  test('rendering the same chart again gives the same SVG and PNG bytes', async () => {
    const again = await renderChart(charts.timeline!());
    assert.equal(again.svg, output('timeline').svg);
    assert.deepEqual(again.png, output('timeline').png);
  });

  test('clip ids do not depend on what was rendered before, and differ between charts', async () => {
    const clipped = (title: string): TopLevelSpec => ({
      title,
      data: {
        values: [
          { x: 1, y: 5 },
          { x: 9, y: 50 },
        ],
      },
      mark: { type: 'bar', clip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', scale: { domain: [0, 5] } },
        y: { field: 'y', type: 'quantitative' },
      },
    });
    const first = await renderChart(clipped('one'));
    await renderChart(clipped('two'));
    const again = await renderChart(clipped('one'));
    const other = await renderChart(clipped('two'));
    assert.equal(again.svg, first.svg);
    const ids = (svg: string) => svg.match(/<clipPath id="[^"]+"/g) ?? [];
    assert.equal(ids(first.svg).length, 1);
    assert.notDeepEqual(ids(first.svg), ids(other.svg));
  });

  test('every chart renders empty data as an empty chart', async () => {
    const empty: TopLevelSpec[] = [
      latencyChart([]),
      safetyChart([]),
      throughputChart([]),
      failoverChart([]),
      timelineChart({ title: 'no events', endMs: 0, holds: [], faults: [], writes: [] }),
    ];
    for (const spec of empty) {
      const { svg, png } = await renderChart(spec);
      const drawnMarks = /role="graphics-symbol" aria-roledescription="(bar|box|point|rect)"/g;
      assert.equal(count(svg, drawnMarks), 0);
      assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    }
  });

  test('rendering refuses a chart that loads its data from a URL', async () => {
    const remote: TopLevelSpec = {
      data: { url: 'https://example.com/data.json' },
      mark: 'bar',
      encoding: { x: { field: 'a', type: 'nominal' } },
    };
    await assert.rejects(renderChart(remote), /chart data must be inline/);
  });
});
