// Renders a Vega-Lite spec to SVG and PNG on the server: vega-lite compiles it, vega lays it out
// headless (no browser, no canvas), and resvg rasterises the SVG with the one bundled font, so the
// same spec gives the same picture on every machine. Charts carry their data inline; the loader
// below refuses every URL, so rendering never touches the network or the file system.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';
import { FONT_FAMILY } from './charts.ts';

const FONT_FILE = fileURLToPath(new URL('./fonts/DejaVuSans.ttf', import.meta.url));

/** The PNG is drawn at twice the SVG's size, so it stays crisp on high-density screens. */
const PNG_ZOOM = 2;

export interface RenderedImages {
  svg: string;
  png: Uint8Array;
  /**
   * What vega-lite (compiling the spec) and vega (drawing it) warned about, each prefixed with
   * its source, for the caller to print or not. vega warns of an infinite extent whenever a layer
   * has no data, as in an empty chart: that one is harmless.
   */
  warnings: string[];
}

/**
 * Renders a chart to a standalone SVG and a PNG. The spec's text is forced to FONT_FAMILY, the
 * only font the PNG can draw (in its regular face: bold text comes out regular), so SVG and PNG
 * agree. Rendering the same spec twice gives the same bytes, and vega's clip and gradient ids are
 * renamed after a hash of the spec, so several SVGs inlined in one HTML page keep distinct ids.
 * Throws when the chart asks for data by URL or vega reports an error while drawing it.
 * `compactMarks` is for charts of thousands of marks (the timelines): see compactMarks.
 */
export async function renderChart(
  spec: TopLevelSpec,
  options: { readonly compactMarks?: boolean } = {},
): Promise<RenderedImages> {
  measureTextWithBundledFont();
  const withFont: TopLevelSpec = { ...spec, config: { ...spec.config, font: FONT_FAMILY } };
  // vega logs a failure inside its dataflow (a refused load, a bad expression) and carries on
  // drawing; a chart that silently lost its data is worse than none, so errors fail the render.
  const errors: string[] = [];
  const warnings: string[] = [];
  const recorder = (source: string) =>
    vega.logger(vega.Warn, undefined, (method, _level, args) => {
      (method === 'error' ? errors : warnings).push(`${source}: ${args.map(String).join(' ')}`);
    });
  const vegaSpec = compile(withFont, { logger: recorder('vega-lite') }).spec;
  const view = new vega.View(vega.parse(vegaSpec), {
    renderer: 'none',
    loader: refusingLoader(errors),
    logger: recorder('vega'),
  });
  let svg: string;
  try {
    svg = shortenNumbers(scopeDefIds(await view.toSVG(), specHash(withFont)));
    if (options.compactMarks === true) svg = compactMarks(svg);
  } finally {
    view.finalize();
  }
  if (errors.length > 0) throw new Error(`cannot render chart: ${errors.join('; ')}`);
  const png = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: [FONT_FILE], defaultFontFamily: FONT_FAMILY },
    fitTo: { mode: 'zoom', value: PNG_ZOOM },
  })
    .render()
    .asPng();
  return { svg, png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), warnings };
}

/** A vega loader that refuses every request, and records it: charts carry their data inline. */
function refusingLoader(errors: string[]): vega.Loader {
  const refusing = vega.loader();
  refusing.sanitize = (uri: string) => {
    const message = `chart tried to load ${JSON.stringify(uri)}; chart data must be inline`;
    errors.push(message);
    return Promise.reject(new Error(message));
  };
  return refusing;
}

function specHash(spec: TopLevelSpec): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 8);
}

/**
 * vega writes coordinates and data values into its tags with every digit a double has
 * (translate(245.19355246508442,162)); a tenth of a pixel, or of a millisecond, is all a reader can
 * see, and a timeline of a few hundred marks is much smaller without the rest. Only numbers with
 * three or more decimals inside tags are rounded: the text a chart shows is left as drawn.
 */
function shortenNumbers(svg: string): string {
  return svg.replace(/<[^>]*>/g, (tag) =>
    tag.replace(/-?\d+\.\d{3,}/g, (n) => String(Math.round(Number(n) * 10) / 10)),
  );
}

/**
 * For charts of thousands of marks. vega tells a screen reader, on every data mark, what kind of mark it is (aria-roledescription
 * "point", "bar", "tick") beside the mark's own description (aria-label), which says what it
 * shows. On a timeline of a few thousand marks that word costs a tenth of the page; the
 * description stays, and so do the role descriptions of groups, axes and legends. So does every
 * opacity but the default one.
 */
function compactMarks(svg: string): string {
  return svg
    .replace(/ role="graphics-symbol" aria-roledescription="[^"]*"/g, ' role="graphics-symbol"')
    .replace(/(<[^>]*) opacity="1"/g, '$1'); // SVG's default: said on every mark, it only adds weight
}

/**
 * vega numbers clip paths and gradients with counters global to the process, so the same chart
 * would get other ids depending on what was rendered before it. Renumbered in order of first
 * appearance under the spec's hash, they are the same on every render and distinct between charts.
 */
function scopeDefIds(svg: string, scope: string): string {
  const renamed = new Map<string, string>();
  const vegaId = /(id="|url\(#)(clip\d+|gradient_\d+)/g;
  return svg.replace(vegaId, (_match, context: string, id: string) => {
    let scoped = renamed.get(id);
    if (scoped === undefined) {
      scoped = `chart-${scope}-${renamed.size + 1}`;
      renamed.set(id, scoped);
    }
    return context + scoped;
  });
}

// Without a canvas, vega guesses a text's width as 0.8 em per character, about 40% wider than
// DejaVu Sans sets most text, which pads titles and legends with empty space. vega lets a
// server-side renderer supply the measurement instead (vl-convert does the same); this one reads
// the advance widths from the font file resvg draws with. Kerning is left out: it moves a label
// by a fraction of a pixel.
interface TextItem {
  fontSize?: number;
  limit?: number;
}
const { textMetrics } = vega as unknown as {
  // A mark's text: a value, or an array of them for a multi-line label.
  textMetrics: {
    width: (
      item: TextItem,
      text: string | number | boolean | readonly (string | number)[] | null | undefined,
    ) => number;
  };
};
const DEFAULT_FONT_SIZE_PX = 11; // vega's, for text that does not set one

let measuring = false;

function measureTextWithBundledFont(): void {
  if (measuring) return;
  const emWidth = advanceWidths(readFileSync(FONT_FILE));
  textMetrics.width = (item, text) => {
    const line = text == null ? '' : String(text).trim();
    let ems = 0;
    for (const char of line) ems += emWidth(char.codePointAt(0) ?? 0);
    const width = ems * (item.fontSize ?? DEFAULT_FONT_SIZE_PX);
    // vega truncates text longer than its limit to fit it; capped, the measure agrees with that.
    return item.limit !== undefined && item.limit > 0 ? Math.min(width, item.limit) : width;
  };
  measuring = true;
}

/**
 * Reads a TrueType font's horizontal advances: a function from a code point to its width in em.
 * Only the Unicode BMP cmap (format 4) is read; other characters get the missing glyph's width.
 */
function advanceWidths(font: Buffer): (codePoint: number) => number {
  const table = (tag: string): number => {
    const tableCount = font.readUInt16BE(4);
    for (let i = 0; i < tableCount; i++) {
      const entry = 12 + 16 * i; // the table directory follows the 12-byte header
      if (font.toString('latin1', entry, entry + 4) === tag) return font.readUInt32BE(entry + 8);
    }
    throw new Error(`${FONT_FILE}: no '${tag}' table; expected a TrueType font`);
  };
  const unitsPerEm = font.readUInt16BE(table('head') + 18);
  const metricCount = font.readUInt16BE(table('hhea') + 34);
  const hmtx = table('hmtx');
  const glyphOf = bmpGlyphLookup(font, table('cmap'));
  const cache = new Map<number, number>();
  return (codePoint) => {
    let em = cache.get(codePoint);
    if (em === undefined) {
      // Glyphs past the last full metric share its advance (the hmtx table's run-length rule).
      const glyph = Math.min(glyphOf(codePoint), metricCount - 1);
      em = font.readUInt16BE(hmtx + 4 * glyph) / unitsPerEm;
      cache.set(codePoint, em);
    }
    return em;
  };
}

/** The glyph lookup of the cmap's Windows Unicode BMP subtable (platform 3, encoding 1, format 4). */
function bmpGlyphLookup(font: Buffer, cmap: number): (codePoint: number) => number {
  let subtable = -1;
  for (let i = 0; i < font.readUInt16BE(cmap + 2); i++) {
    const record = cmap + 4 + 8 * i;
    const isWindowsBmp = font.readUInt16BE(record) === 3 && font.readUInt16BE(record + 2) === 1;
    if (isWindowsBmp) subtable = cmap + font.readUInt32BE(record + 4);
  }
  if (subtable === -1 || font.readUInt16BE(subtable) !== 4) {
    throw new Error(`${FONT_FILE}: no Unicode BMP cmap (format 4)`);
  }
  const segmentCount = font.readUInt16BE(subtable + 6) / 2;
  const endCodes = subtable + 14;
  const startCodes = endCodes + 2 * segmentCount + 2; // a reserved uint16 sits between the arrays
  const idDeltas = startCodes + 2 * segmentCount;
  const idRangeOffsets = idDeltas + 2 * segmentCount;
  return (codePoint) => {
    for (let segment = 0; segment < segmentCount; segment++) {
      if (font.readUInt16BE(endCodes + 2 * segment) < codePoint) continue;
      const start = font.readUInt16BE(startCodes + 2 * segment);
      if (start > codePoint) return 0;
      const delta = font.readUInt16BE(idDeltas + 2 * segment);
      const rangeOffsetAt = idRangeOffsets + 2 * segment;
      const rangeOffset = font.readUInt16BE(rangeOffsetAt);
      if (rangeOffset === 0) return (codePoint + delta) & 0xffff;
      const glyph = font.readUInt16BE(rangeOffsetAt + rangeOffset + 2 * (codePoint - start));
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}
