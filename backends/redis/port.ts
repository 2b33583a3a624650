/**
 * The few Redis operations the lock and election recipes need. The simulated port and the live
 * (ioredis) port both implement it; the conformance suite checks that they agree. A port times
 * out its own requests (the timeout it is built with): a call that does not answer in time
 * rejects with a TimeoutError.
 */
export interface RedisPort {
  /** SET key value NX PX ttlMs: true if the key was set. */
  setNxPx(key: string, value: string, ttlMs: number): PromiseLike<boolean>;
  /** Delete the key only if it holds `value` (the compare-and-delete script). */
  deleteIfEqual(key: string, value: string): PromiseLike<boolean>;
  /** Reset the key's TTL only if it holds `value` (the compare-and-extend script). */
  extendIfEqual(key: string, value: string, ttlMs: number): PromiseLike<boolean>;
  /** INCR key. */
  incr(key: string): PromiseLike<number>;
  get(key: string): PromiseLike<string | null>;
  /** PTTL key: ms left, -1 without expiry, -2 when absent. */
  pttl(key: string): PromiseLike<number>;
}
