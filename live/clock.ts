/**
 * Real time, for live runs: the one place outside the command line where the machine's clocks
 * are read. Monotonic time is process.hrtime, shared by every process on the machine; wall time
 * is Date.now; an injected offset lets a live client's wall clock be skewed or jumped, as the
 * simulator's can be.
 */
import type { Clock } from '../sim/clock.ts';

export class RealClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  monotonic(): number {
    return Number(process.hrtime.bigint()) / 1e6;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  /** Step this clock's wall time, as an NTP step would. */
  jump(deltaMs: number): void {
    this.offsetMs += deltaMs;
  }
}
