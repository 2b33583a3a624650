/**
 * What the database lock and election recipes need of a session, whatever the dialect. Each
 * system's port extends it with its own statements. The simulated ports and the live ones (a
 * node-postgres or mysql2 connection) both implement it.
 *
 * Calls are hot: a statement goes out when the method is called, so a caller may start one and
 * await it later. In the simulator await them one at a time; only the kernel combines waits.
 */
export interface SessionPort {
  /**
   * Names the session calls go on now. It changes once that session is over: dropped by
   * `disconnect`, or reset under the client (the server crashed, or closed it and said so).
   */
  session(): string;
  /** SELECT 1 on the session: it was alive when the server ran this. */
  ping(): PromiseLike<void>;
  /**
   * End the session from this side; the server lets go of its locks when the close reaches it.
   * The next call opens a new session.
   */
  disconnect(): void;
}

/** An outcome nobody knows (a timeout) or a session that is gone under the caller: retry on a fresh session. */
export function isTransient(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return name === 'TimeoutError' || name === 'ConnectionLost';
}
