/**
 * The few Redis operations the lock and election recipes need. The simulated port and the live
 * (ioredis) port both implement it; the conformance suite checks that they agree.
 */
export interface RedisPort {
  /** SET key value NX PX ttlMs: true if the key was set. */
  setNxPx(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Delete the key only if it holds `value` (the compare-and-delete script). */
  deleteIfEqual(key: string, value: string): Promise<boolean>;
  /** Reset the key's TTL only if it holds `value` (the compare-and-extend script). */
  extendIfEqual(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** INCR key. */
  incr(key: string): Promise<number>;
  get(key: string): Promise<string | null>;
  /** PTTL key: ms left, -1 without expiry, -2 when absent. */
  pttl(key: string): Promise<number>;
}
