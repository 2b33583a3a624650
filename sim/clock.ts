/**
 * Per-node clocks, with the two readings a real machine has.
 *
 * Monotonic time runs at rate (1 + driftPpm/1e6) from zero at true time zero; it never jumps.
 * Wall time is monotonic time plus the configured offset plus every injected jump. So drift moves
 * both readings, a jump moves only wall time, exactly as NTP stepping a clock does on Linux
 * (CLOCK_REALTIME steps, CLOCK_MONOTONIC does not).
 *
 * Drift can change mid-run; the clock re-anchors so that readings stay continuous.
 */
import { SimUsageError } from './errors.ts';

/** How simulated and live code read time on its own node. */
export interface Clock {
  /** Wall-clock milliseconds: what gettimeofday would say. Skewed, drifting, can jump. */
  now(): number;
  /** Monotonic milliseconds: drifts, never jumps. For measuring elapsed time. */
  monotonic(): number;
  /** Sleep for `ms` of this node's monotonic time. */
  sleep(ms: number): PromiseLike<void>;
}

export interface ClockConfig {
  readonly offsetMs?: number;
  readonly driftPpm?: number;
}

export class NodeClock {
  private anchorTrueMs = 0;
  private anchorMonotonicMs = 0;
  private rate: number;
  private wallOffsetMs: number;
  private driftPpmValue: number;

  constructor(config: ClockConfig = {}) {
    const offsetMs = config.offsetMs ?? 0;
    if (!Number.isFinite(offsetMs)) throw new SimUsageError(`clock offsetMs must be finite, got ${String(offsetMs)}`);
    this.driftPpmValue = checkDrift(config.driftPpm ?? 0);
    this.rate = 1 + this.driftPpmValue / 1e6;
    this.wallOffsetMs = offsetMs;
  }

  get driftPpm(): number {
    return this.driftPpmValue;
  }

  monotonicAt(trueMs: number): number {
    return this.anchorMonotonicMs + this.rate * (trueMs - this.anchorTrueMs);
  }

  wallAt(trueMs: number): number {
    return this.monotonicAt(trueMs) + this.wallOffsetMs;
  }

  /** True milliseconds that pass while this clock counts `localMs` (at the current rate). */
  trueDuration(localMs: number): number {
    return localMs / this.rate;
  }

  /** Step wall time by `deltaMs` (positive: forward). Monotonic time is untouched. */
  jump(deltaMs: number): void {
    if (!Number.isFinite(deltaMs)) throw new SimUsageError(`clock jumpMs must be finite, got ${String(deltaMs)}`);
    this.wallOffsetMs += deltaMs;
  }

  /** Change the drift from true time `atTrueMs` on, keeping both readings continuous. */
  setDrift(driftPpm: number, atTrueMs: number): void {
    const ppm = checkDrift(driftPpm);
    this.anchorMonotonicMs = this.monotonicAt(atTrueMs);
    this.anchorTrueMs = atTrueMs;
    this.driftPpmValue = ppm;
    this.rate = 1 + ppm / 1e6;
  }
}

function checkDrift(driftPpm: number): number {
  if (!Number.isFinite(driftPpm) || driftPpm <= -1e6) {
    throw new SimUsageError(
      `clock driftPpm must be finite and > -1000000 (a clock that runs), got ${String(driftPpm)}`,
    );
  }
  return driftPpm;
}
