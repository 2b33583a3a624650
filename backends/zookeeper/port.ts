/**
 * The ZooKeeper client operations the lock and election recipes need, and the session states the
 * client reports. The simulated client and a live one (a real ZooKeeper client library) both
 * implement it; the conformance suite holds them to one contract.
 */

export type CreateMode = 'persistent' | 'ephemeral' | 'ephemeral-sequential';

/**
 * The session as its client sees it (ZooKeeper's KeeperState):
 *   connecting    no session yet, or a new one being opened after the last expired;
 *   connected     a server answers for the session;
 *   disconnected  the client heard nothing for too long and is looking for a server; the session
 *                 may still be alive on the ensemble, or may have expired: the client cannot know;
 *   expired       a server said the session is gone, and every ephemeral of it with it;
 *   closed        the client closed the session itself.
 */
export type SessionState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

/** deleted: the watched node is gone. expired / closed: the session ended first, and the watch with it. */
export type WatchEvent = 'deleted' | 'expired' | 'closed';

export interface Stat {
  /** The zxid of the transaction that created the node: strictly increasing over every write. */
  readonly czxid: number;
}

export interface Created extends Stat {
  /** The node's path, with the 10-digit sequence appended for sequential nodes. */
  readonly path: string;
}

/** What `exists` with a watch returned. */
export interface ExistsWatch {
  /** The node's stat, or null if it does not exist. */
  readonly stat: Stat | null;
  /** Settles once: 'deleted' when the node goes (at once if it was already missing), or how the session ended first. */
  readonly event: PromiseLike<WatchEvent>;
  /** What the watch has reported so far, without waiting. */
  fired(): WatchEvent | null;
}

export type ErrorCode =
  | 'NoNode'
  | 'NodeExists'
  | 'NotEmpty'
  | 'NoChildrenForEphemerals'
  | 'BadArguments'
  | 'SessionExpired'
  | 'SessionMoved'
  | 'ConnectionLoss'
  | 'Closed';

/** A ZooKeeper error, by its KeeperException code. ConnectionLoss: the outcome is unknown. */
export class ZooKeeperError extends Error {
  override name = 'ZooKeeperError';

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export function isZooKeeperError(error: unknown, ...codes: ErrorCode[]): error is ZooKeeperError {
  return error instanceof ZooKeeperError && (codes.length === 0 || codes.includes(error.code));
}

export interface ZooKeeperPort {
  /** The session timeout the client asked for; the ensemble expires a session silent this long. */
  readonly sessionTimeoutMs: number;
  state(): SessionState;
  /** Be told of every state change; returns the function that stops telling. */
  onStateChange(listener: (state: SessionState) => void): () => void;
  create(path: string, mode: CreateMode): Promise<Created>;
  delete(path: string): Promise<void>;
  exists(path: string): Promise<Stat | null>;
  /** exists with a one-shot watch for the node's deletion. */
  existsWatch(path: string): Promise<ExistsWatch>;
  /** The children's names, sorted. */
  getChildren(path: string): Promise<string[]>;
  /** End the session: its ephemerals go at once. */
  close(): Promise<void>;
  /**
   * Have the ensemble end this session from outside, as Curator's KillSession test utility does
   * with a second connection on the same session; resolves once the client sees `expired`.
   */
  expireSession(): Promise<void>;
}
