/**
 * A client's exists-watches, by path, as both ZooKeeper ports keep them: one-shot, fired together
 * when their node is deleted, and all ended at once when the session expires or closes.
 */
import type { WatchEvent } from '../port.ts';

/** A bound on the paths one client watches at once; a recipe that leaks watches stops the run here. */
export const MAX_WATCHED_PATHS = 10_000;

export class ClientWatches<W extends { fire(what: WatchEvent): void }> {
  private readonly byPath = new Map<string, W[]>();

  get size(): number {
    return this.byPath.size;
  }

  /** The watched paths, in the order they were first watched. */
  paths(): string[] {
    return [...this.byPath.keys()];
  }

  add(path: string, watch: W): void {
    if (!this.byPath.has(path) && this.byPath.size >= MAX_WATCHED_PATHS)
      throw new Error(`more than ${MAX_WATCHED_PATHS} watched paths`);
    this.byPath.set(path, [...(this.byPath.get(path) ?? []), watch]);
  }

  /** Fire and forget every watch on `path`. */
  fire(path: string, what: WatchEvent): void {
    const watches = this.byPath.get(path);
    this.byPath.delete(path);
    for (const watch of watches ?? []) watch.fire(what);
  }

  /** Fire every watch on every path. */
  end(what: WatchEvent): void {
    for (const path of this.paths()) this.fire(path, what);
  }
}
