/**
 * The seam between a run and its environment (DESIGN section 2). The run loop (loop.ts) takes
 * every run through the same steps against a World; the simulator (sim-world.ts) and the live
 * harness (live/world.ts) each implement it, and nothing more.
 */
import type { Sim } from '../sim/sim.ts';
import type { FaultTarget } from '../faults/kind.ts';
import type { History, RegisterWrite } from './history.ts';
import type { RunMetrics } from './run.ts';

/** What a world measured of a run it ran. */
export interface Measured {
  /** How long the run took in true time (sim: simulated; live: real). */
  readonly simulatedMs: number;
  readonly events: number;
  readonly traceHash: string | null;
}

export interface World<Extra extends object = object> {
  readonly mode: 'sim' | 'live';
  readonly servers: readonly string[];
  /** c1 .. cN. */
  readonly clients: readonly string[];
  /** sentinel-1 .. sentinel-n, where the system has Sentinels; empty elsewhere. */
  readonly sentinels: readonly string[];
  /** Every node of the run: servers, Sentinels, the register, clients. */
  readonly nodes: readonly string[];
  /** The operations in true time; the loop records the nemesis here too. */
  readonly history: History;
  /** The protected register, as the checkers read it. */
  readonly register: { readonly writes: readonly RegisterWrite[]; readonly value: number };
  /** What a reader of the result should know; the loop's fault plan writes here too, so the order is the order things happened. */
  readonly notes: string[];
  /** The fault verbs. */
  readonly target: FaultTarget;
  /** The kernel behind a simulated world, for trace comparison; null in a live one. */
  readonly sim: Sim | null;
  /** Whether the scenario's expectations apply: a third-party subject is measured, not held to them. */
  readonly expectationsApply: boolean;

  /** Why this world cannot do what the scenario's faults ask, beyond the system's shape; null if it can. */
  whyNot(): string | null;
  /** Bring up servers, the register and clients, ready to work from true time 0. */
  start(): Promise<void>;
  /** The system's leader now; undefined when the system has no such thing. */
  leader(): string | null | undefined;
  /** Call `fire(process)`, as a harness event, just after the nth grant to a process `who` accepts (1-based). */
  afterGrant(nth: number, who: (process: string) => boolean, fire: (process: string) => void): void;
  /** The same, just after the nth acquire or campaign attempt starts: its request sent, no answer yet. */
  afterAttempt(nth: number, who: (process: string) => boolean, fire: (process: string) => void): void;
  /**
   * The same, just before the nth write a mutex client is about to send: `fire` runs, and what it
   * schedules for now lands, before the write leaves (a pause then holds the write back).
   */
  afterWriting(nth: number, who: (process: string) => boolean, fire: (process: string) => void): void;
  /** Let the clients work from true time 0 until `durationMs`. */
  run(durationMs: number): Promise<void>;
  /** Heal every fault, bring crashed servers back from their disks, and ask clients to stop after their round. */
  healAll(): Promise<void>;
  /** Give the clients `graceMs` more to finish their round; then the history is complete. */
  grace(graceMs: number): Promise<void>;
  /** Why this run has no verdict whatever its history shows (empty: it has one). */
  whyUnknown(metrics: RunMetrics): readonly string[];
  measured(): Measured;
  /** What this world adds to every result it gives, run or not. */
  resultFields(): Extra;
  /** Release what start() took, whether the run finished or not. */
  close(): Promise<void>;
}

/** A listener that calls `fire` with the nth item `accepts` takes (1-based), and never again: how triggers count events. */
export function onNth<T>(nth: number, accepts: (item: T) => boolean, fire: (item: T) => void): (item: T) => void {
  let seen = 0;
  return (item) => {
    if (accepts(item) && ++seen === nth) fire(item);
  };
}
