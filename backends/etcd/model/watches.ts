/**
 * Delete watches, as one etcd server serves them: from its own applied store, pushed down the
 * client's connection. A watch names the revision it starts from; a delete this server already
 * applied at or after it is answered at once, so a watch set late misses nothing. A watch dies
 * with its connection, fires once, and can be cancelled.
 */
import { COMPACTED, type EtcdStore } from './store.ts';

/** Most open watches one connection may hold; etcd bounds them per gRPC stream. */
export const MAX_WATCHES_PER_CONNECTION = 1000;

export interface WatchEvent {
  readonly watchId: number;
  readonly key: string;
  readonly revision: number;
}

interface Watcher {
  readonly client: string;
  readonly conn: string;
  readonly watchId: number;
  readonly key: string;
  readonly fromRevision: number;
}

/** The answer to setting a watch: the delete already seen, or null when the watch now waits. */
export type WatchReply =
  | { readonly ok: true; readonly deletedAt: number | null }
  | { readonly ok: false; readonly error: string };

export class Watches {
  /** Connection -> watch id -> watcher. */
  private readonly byConnection = new Map<string, Map<number, Watcher>>();
  /** Key -> the watchers waiting for its delete. */
  private readonly byKey = new Map<string, Set<Watcher>>();

  constructor(
    private readonly store: EtcdStore,
    private readonly push: (client: string, conn: string, event: WatchEvent) => void,
  ) {}

  watch(client: string, conn: string, watchId: number, key: string, fromRevision: number): WatchReply {
    const past = this.store.deletedSince(key, fromRevision);
    if (past === 'compacted') return { ok: false, error: COMPACTED };
    if (past !== null) return { ok: true, deletedAt: past };
    this.cancel(client, conn, watchId);
    const mine = this.connection(client, conn);
    if (mine.size >= MAX_WATCHES_PER_CONNECTION)
      return { ok: false, error: `more than ${MAX_WATCHES_PER_CONNECTION} watches on one connection` };
    const watcher: Watcher = { client, conn, watchId, key, fromRevision };
    mine.set(watchId, watcher);
    let waiting = this.byKey.get(key);
    if (waiting === undefined) this.byKey.set(key, (waiting = new Set()));
    waiting.add(watcher);
    return { ok: true, deletedAt: null };
  }

  cancel(client: string, conn: string, watchId: number): void {
    const watcher = this.byConnection.get(connectionKey(client, conn))?.get(watchId);
    if (watcher !== undefined) this.forget(watcher);
  }

  /** The connection closed: its watches go with it. */
  closed(client: string, conn: string): void {
    for (const watcher of this.byConnection.get(connectionKey(client, conn))?.values() ?? []) this.forget(watcher);
  }

  /** The store applied a delete of `key` at `revision`. */
  deleted(key: string, revision: number): void {
    for (const watcher of [...(this.byKey.get(key) ?? [])]) {
      if (watcher.fromRevision > revision) continue;
      this.forget(watcher);
      this.push(watcher.client, watcher.conn, { watchId: watcher.watchId, key, revision });
    }
  }

  private connection(client: string, conn: string): Map<number, Watcher> {
    const id = connectionKey(client, conn);
    let watchers = this.byConnection.get(id);
    if (watchers === undefined) this.byConnection.set(id, (watchers = new Map<number, Watcher>()));
    return watchers;
  }

  private forget(watcher: Watcher): void {
    const id = connectionKey(watcher.client, watcher.conn);
    const mine = this.byConnection.get(id);
    mine?.delete(watcher.watchId);
    if (mine?.size === 0) this.byConnection.delete(id);
    const waiting = this.byKey.get(watcher.key);
    waiting?.delete(watcher);
    if (waiting?.size === 0) this.byKey.delete(watcher.key);
  }
}

function connectionKey(client: string, conn: string): string {
  return `${client}\u0000${conn}`;
}
