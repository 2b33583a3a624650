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
  failoverChart,
  faultBands,
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

/** Kleppmann's GC pause: c1 is paused past its lease, c2 takes over, c1's late write lands. */
const timeline: TimelineInput = {
  title: 'gc-pause-beyond-ttl, redis, unfenced, seed 1',
  endMs: 10_000,
  holds: [
    { client: 'c1', startMs: 100, endMs: 4_300 },
    { client: 'c2', startMs: 2_150, endMs: 2_400 },
    { client: 'c3', startMs: 2_500, endMs: 2_800 },
    { client: 'c2', startMs: 9_000, endMs: 12_000 }, // still held at the end: drawn to the edge
  ],
  faults: [
    { label: 'pause c1', startMs: 150, endMs: 4_150 },
    { label: 'partition server-1', startMs: 6_000, endMs: 7_500 },
  ],
  writes: [
    { client: 'c2', atMs: 2_390, accepted: true, stale: false },
    { client: 'c3', atMs: 2_790, accepted: true, stale: false },
    { client: 'c1', atMs: 4_290, accepted: true, stale: true },
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

  test('the timeline draws a bar per hold, a band per fault, and a mark per write', () => {
    const { svg } = output('timeline');
    assert.equal(markItems(svg, 'holds'), timeline.holds.length);
    assert.equal(markItems(svg, 'fault_bands'), timeline.faults.length);
    assert.equal(markItems(svg, 'fault_labels'), timeline.faults.length);
    assert.equal(markItems(svg, 'writes'), timeline.writes.length);
    assert.match(svg, />pause c1<\/text>/);
  });

  test('the timeline marks the accepted stale write with a red cross', () => {
    const { svg } = output('timeline');
    const writeMark = (outcome: string) => {
      const mark = new RegExp(`<path [^>]*aria-label="[^"]*write: ${outcome}"[^>]*>`, 'g');
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
    assert.match(lastDrawn, /write: stale, accepted/, 'the cross is drawn on top of the other writes');
  });

  test('fault bands layer onto any chart whose x axis is true time', async () => {
    const latencyOverTime: TopLevelSpec = {
      layer: [
        faultBands(timeline.faults, timeline.endMs),
        {
          name: 'latency',
          data: {
            values: [
              { atMs: 1_000, latencyMs: 4 },
              { atMs: 6_500, latencyMs: 900 },
            ],
          },
          mark: 'point',
          encoding: {
            x: { field: 'atMs', type: 'quantitative', title: 'true time (ms)' },
            y: { field: 'latencyMs', type: 'quantitative' },
          },
        },
      ],
    };
    const { svg } = await renderChart(latencyOverTime);
    assert.equal(markItems(svg, 'fault_bands'), timeline.faults.length);
    assert.equal(markItems(svg, 'latency'), 2);
    assert.match(svg, />true time \(ms\)<\/text>/, "the host chart's axis title stands");
  });

  test("each fault band is drawn in its kind's colour, sand when its kind is not known", async () => {
    const { svg } = await renderChart({
      layer: [
        faultBands(
          [
            { label: 'crash server-1', startMs: 0, endMs: 500, color: '#bfa3c9' },
            { label: 'fault 2', startMs: 600, endMs: 900 },
          ],
          1000,
        ),
      ],
    });
    assert.match(svg, /fill="#bfa3c9"/);
    assert.match(svg, /fill="#cdb99c"/);
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
