/**
 * One server's exists-watches: for each watched path, the client connections to tell when the node
 * is deleted. Watches are one-shot, as in ZooKeeper: taking them for a deletion removes them, and
 * a connection that closes takes its watches with it (its client sets them again elsewhere).
 * A connection watches a path at most once, however often it asks.
 */

export interface Watcher {
  readonly client: string;
  readonly conn: string;
}

/** A bound, not a budget: a run that sets this many watches on one server is broken. */
export const MAX_WATCHES = 100_000;

export class WatchTable {
  private readonly byPath = new Map<string, Map<string, Watcher>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(path: string, watcher: Watcher): void {
    let watchers = this.byPath.get(path);
    if (watchers === undefined) {
      watchers = new Map();
      this.byPath.set(path, watchers);
    }
    const key = keyOf(watcher);
    if (watchers.has(key)) return;
    if (this.count >= MAX_WATCHES) throw new Error(`more than ${MAX_WATCHES} watches on one server`);
    watchers.set(key, watcher);
    this.count++;
  }

  /** The watchers of a path that was just deleted; they are gone from the table. */
  take(path: string): Watcher[] {
    const watchers = this.byPath.get(path);
    if (watchers === undefined) return [];
    this.byPath.delete(path);
    this.count -= watchers.size;
    return [...watchers.values()];
  }

  dropConnection(connection: Watcher): void {
    const key = keyOf(connection);
    for (const [path, watchers] of this.byPath) {
      if (watchers.delete(key)) {
        this.count--;
        if (watchers.size === 0) this.byPath.delete(path);
      }
    }
  }
}

function keyOf(watcher: Watcher): string {
  return `${watcher.client}\u0000${watcher.conn}`;
}
