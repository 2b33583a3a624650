/**
 * How the database systems turn the per-run settings into their own: the server's keepalive, the
 * client's statement deadlines and the recipe options. Shared, so both databases are judged alike.
 */
import type { KeepaliveConfig } from '../endpoint/endpoint.ts';
import type { SystemConfig } from '../../system.ts';
import { recipeOptions, requestTimeoutMs } from '../../timing.ts';
import type { SessionLockOptions } from './lock.ts';
import type { SessionTimeouts } from './sim-port.ts';

/**
 * For these systems ttlMs is how long the server takes to notice a dead client connection. TCP
 * keepalive after ttl/2 of silence, then 3 probes ttl/6 apart: a client that stops answering loses
 * its connection, and its locks, ttl after the server last heard from it (ttl/2 + 3 * ttl/6).
 */
export function sessionKeepalive(ttlMs: number): KeepaliveConfig {
  return { idleMs: ttlMs / 2, intervalMs: ttlMs / 6, count: 3 };
}

/**
 * Plain statements time out at ttl/4, within 5..1000 ms: a leader's ping (every ttl/3) is answered
 * or given up before the next one is due. A statement that waits for a lock may wait the whole
 * acquire timeout, plus one plain timeout for its answer to come back.
 */
export function sessionTimeouts(config: SystemConfig): SessionTimeouts {
  const queryTimeoutMs = requestTimeoutMs(config.ttlMs);
  return { queryTimeoutMs, blockingTimeoutMs: config.acquireTimeoutMs + queryTimeoutMs };
}

export function sessionLockOptions(config: SystemConfig): SessionLockOptions {
  return recipeOptions(config);
}
