/**
 * The event queue: a binary min-heap ordered by (time, lane, seq).
 *
 * `seq` is a global counter assigned at scheduling time, so events at the same instant fire in
 * the order they were scheduled. `lane` lets the kernel put work that logically happened earlier
 * (events deferred while a node was paused, packets held by a partition) ahead of ordinary events
 * that share its instant, which keeps per-link FIFO intact across pause and heal.
 */

/** What an event may belong to: a node incarnation, which can pause (defer) or die (discard). */
export interface EventOwner {
  readonly index: number;
  readonly id: string;
  readonly incarnation: number;
  readonly paused: boolean;
  defer(event: SimEvent): void;
}

export const LANE_URGENT = 0;
export const LANE_NORMAL = 1;

export interface SimEvent {
  timeMs: number;
  lane: number;
  seq: number;
  readonly owner: EventOwner | null;
  /** The owner's incarnation when scheduled; an event of a dead incarnation never fires. */
  readonly incarnation: number;
  /** When false the event runs even while its owner is paused (the node's OS, not its process). */
  readonly deferOnPause: boolean;
  readonly label: string;
  /** A number folded into the trace hash beside the label, e.g. the sending node's index. */
  readonly aux: number;
  /** Called with `arg` when the event fires; hot paths pass a shared function and data, not a closure. */
  readonly fire: (arg: never) => void;
  readonly arg: unknown;
  cancelled: boolean;
}

function before(a: SimEvent, b: SimEvent): boolean {
  if (a.timeMs !== b.timeMs) return a.timeMs < b.timeMs;
  if (a.lane !== b.lane) return a.lane < b.lane;
  return a.seq < b.seq;
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): SimEvent | undefined {
    return this.heap[0];
  }

  push(event: SimEvent): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- parent < i <= heap.length - 1, so in bounds
      const p = heap[parent]!;
      if (!before(event, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = event;
  }

  pop(): SimEvent | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    const n = heap.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      // left < n checked above; right < n checked in the condition: both in bounds.
      // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- see above
      if (right < n && before(heap[right]!, heap[left]!)) child = right;
      // eslint-disable-next-line @typescript-eslint/no-non-null-assertion -- child is left or right, both < n
      const next = heap[child]!;
      if (!before(next, last)) break;
      heap[i] = next;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}
