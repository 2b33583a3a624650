/** Misuse of the kernel API: a negative delay, an unknown node, a self link. Never clamped. */
export class SimUsageError extends Error {
  override name = 'SimUsageError';
}

/** A run fired more events than its budget allows: a runaway run, stopped instead of hanging. */
export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
}

/**
 * The kernel could not tell when woken code had settled: a process awaited something that is not
 * a kernel primitive (a bare Promise, Promise.all over kernel futures), so virtual time cannot
 * safely advance.
 */
export class SchedulingError extends Error {
  override name = 'SchedulingError';
}

/** A spawned process threw; the run stops with it. */
export class ProcessError extends Error {
  override name = 'ProcessError';
}

/**
 * Thrown into code of a node incarnation that has crashed, when it touches the kernel again.
 * The kernel swallows it: a crashed process simply stops.
 */
export class ProcessKilled extends Error {
  override name = 'ProcessKilled';
}

/** A kernel deadline (host.deadline) passed before the guarded work finished. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

export function requireDuration(what: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new SimUsageError(`${what} must be a finite number of milliseconds >= 0, got ${String(value)}`);
  }
}

export function requireProbability(what: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new SimUsageError(`${what} must be a probability in [0, 1], got ${String(value)}`);
  }
}
