/** Directed links, as the kinds that act on the network (partition, delay, loss) pick them. */

/** Every directed link between a node of `a` and a node of `b`, both ways. */
export function pairsBetween(a: readonly string[], b: readonly string[]): [string, string][] {
  const links: [string, string][] = [];
  for (const x of a) for (const y of b) if (x !== y) links.push([x, y], [y, x]);
  return links;
}

/**
 * Directed links, each kept once, in the order first added. Groups may overlap (`clients` and
 * `c1`), and without this every pair of groups would add its links again: the list stays within
 * nodes x nodes however many groups name the same nodes. The order is kept because healing a
 * held link delivers its packets, and the order of heals is part of the run.
 */
export class LinkSet {
  readonly list: [string, string][] = [];
  private readonly index: Map<string, number>;
  private readonly seen: Uint8Array;

  constructor(private readonly nodes: readonly string[]) {
    this.index = new Map(nodes.map((node, i) => [node, i]));
    this.seen = new Uint8Array(nodes.length * nodes.length);
  }

  addBetween(a: readonly string[], b: readonly string[]): void {
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        this.add(x, y);
        this.add(y, x);
      }
    }
  }

  private add(from: string, to: string): void {
    const fromIndex = this.index.get(from);
    const toIndex = this.index.get(to);
    if (fromIndex === undefined || toIndex === undefined)
      throw new Error(`links: link ${from} -> ${to} names a node outside the cast`);
    const slot = fromIndex * this.nodes.length + toIndex;
    if (this.seen[slot] === 1) return;
    this.seen[slot] = 1;
    this.list.push([from, to]);
  }
}

/** Every directed link to or from one of `nodes`, each once. */
export function touching(nodes: readonly string[], all: readonly string[]): [string, string][] {
  const links: [string, string][] = [];
  for (const x of all) {
    for (const y of all) if (x !== y && (nodes.includes(x) || nodes.includes(y))) links.push([x, y]);
  }
  return links;
}
