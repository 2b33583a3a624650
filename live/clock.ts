/**
 * Real time, for live runs: the one place outside the command line where the machine's clocks
 * are read. Monotonic time is process.hrtime (CLOCK_MONOTONIC, shared by every process on the
 * machine); wall time is Date.now. A live client's clock can be skewed, jumped and made to drift
 * the way the simulator's can, because recipes read time only through this Clock: a jump steps
 * wall time alone; drift changes the rate of both readings and of sleeps, re-anchored so that
 * readings stay continuous.
 */
import type { Clock } from '../sim/clock.ts';

/** The machine's monotonic clock in ms: true time for live histories. */
export function machineMonotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export class RealClock implements Clock {
  private wallOffsetMs = 0;
  private rate = 1;
  private anchorRealMs = machineMonotonicMs();
  private anchorLocalMs = this.anchorRealMs;

  now(): number {
    return Date.now() + this.wallOffsetMs + (this.monotonic() - machineMonotonicMs());
  }

  monotonic(): number {
    return this.anchorLocalMs + this.rate * (machineMonotonicMs() - this.anchorRealMs);
  }

  /** Sleep for `ms` of this clock's time: shorter in real time when it runs fast. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms / this.rate)));
  }

  /** Step this clock's wall time, as an NTP step would; monotonic time is untouched. */
  jump(deltaMs: number): void {
    this.wallOffsetMs += deltaMs;
  }

  /** Run fast (positive) or slow by `driftPpm` parts per million from now on. */
  setDrift(driftPpm: number): void {
    const now = machineMonotonicMs();
    this.anchorLocalMs = this.anchorLocalMs + this.rate * (now - this.anchorRealMs);
    this.anchorRealMs = now;
    this.rate = 1 + driftPpm / 1e6;
  }
}
