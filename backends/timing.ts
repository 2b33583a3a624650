/**
 * Timings every system derives from a run's settings in the same way, so that no system is given
 * a gentler client than another.
 */
import type { RecipeOptions } from './recipe.ts';
import type { SystemConfig } from './system.ts';

/** A plain request times out well inside the lease: ttl/4, kept between 5 ms and 1 s. */
export function requestTimeoutMs(ttlMs: number): number {
  return Math.max(5, Math.min(1000, ttlMs / 4));
}

/** A client that found the lock taken looks again after ttl/20, kept between 1 and 50 ms. */
export function retryDelayMs(ttlMs: number): number {
  return Math.max(1, Math.min(50, ttlMs / 20));
}

/** The options every recipe shares, straight from the run's settings, with the usual retry pace. */
export function recipeOptions(config: SystemConfig): RecipeOptions & { readonly retryDelayMs: number } {
  return {
    name: config.name,
    ttlMs: config.ttlMs,
    fencing: config.fencing,
    acquireTimeoutMs: config.acquireTimeoutMs,
    retryDelayMs: retryDelayMs(config.ttlMs),
  };
}
