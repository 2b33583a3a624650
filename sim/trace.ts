/**
 * The trace: every fired event folded into a rolling 64-bit hash (two 32-bit lanes), and, when
 * asked, kept as entries so that two runs can be compared event by event.
 *
 * The hash covers what an observer could see of an event: its true time, the node it ran on,
 * its label and one auxiliary number. Two runs of one seed must agree on all of it.
 */

export interface TraceEntry {
  readonly index: number;
  readonly timeMs: number;
  readonly node: string;
  readonly label: string;
  readonly aux: number;
}

export interface TraceOptions {
  /** Keep up to this many entries (0: keep none, only the hash). */
  readonly recordLimit?: number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

const PRIME_A = 0x9e3779b1;
const PRIME_B = 0x85ebca77;

export class Trace {
  private h1 = 0xdeadbeef;
  private h2 = 0x41c6ce57;
  private count = 0;
  private readonly limit: number;
  readonly entries: TraceEntry[] = [];

  constructor(options: TraceOptions = {}) {
    this.limit = options.recordLimit ?? 0;
  }

  get length(): number {
    return this.count;
  }

  record(timeMs: number, nodeIndex: number, node: string, label: string, aux: number): void {
    f64[0] = timeMs;
    let h1 = this.h1;
    let h2 = this.h2;
    // u32 views the 8 bytes of f64, so it always has indexes 0 and 1.
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- see above
    h1 = Math.imul(h1 ^ u32[0]!, PRIME_A);
    // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- see above
    h2 = Math.imul(h2 ^ u32[1]!, PRIME_B);
    h1 = Math.imul(h1 ^ nodeIndex, PRIME_B);
    h2 = Math.imul(h2 ^ aux, PRIME_A);
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, PRIME_A);
      h2 = Math.imul(h2 ^ c, PRIME_B);
    }
    this.h1 = (h1 << 13) | (h1 >>> 19);
    this.h2 = (h2 << 17) | (h2 >>> 15);
    if (this.count < this.limit) {
      this.entries.push({ index: this.count, timeMs, node, label, aux });
    }
    this.count++;
  }

  /** The rolling hash so far, as 16 hex digits. */
  hash(): string {
    let h1 = this.h1 ^ this.count;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0');
  }
}

export function describeEntry(entry: TraceEntry | undefined): string {
  if (entry === undefined) return '(run ended)';
  return `#${entry.index} t=${entry.timeMs}ms node=${entry.node} ${entry.label} aux=${entry.aux}`;
}
