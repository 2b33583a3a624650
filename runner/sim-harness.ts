/**
 * Run one system's lock (or election) in the simulator with faults written by hand rather than
 * by a scenario: the system suites use it. The same World and the same steps as a scenario run.
 */
import type { Sim } from '../sim/sim.ts';
import type { History } from './history.ts';
import { drive, eventBudget, graceMs } from './loop.ts';
import type { Register } from './register.ts';
import { SimWorld, type SimWorldOptions } from './sim-world.ts';

export interface SimMutexOptions extends Omit<SimWorldOptions, 'eventBudget'> {
  readonly durationMs: number;
  /** Schedule faults; called once everything is set up, before the run starts. */
  readonly faults?: (sim: Sim, world: SimWorld) => void;
}

export interface SimMutexResult {
  readonly history: History;
  readonly register: Register;
  readonly sim: Sim;
  readonly servers: readonly string[];
}

export async function runSimMutex(options: SimMutexOptions): Promise<SimMutexResult> {
  const grace = graceMs(options.ttlMs, options.holdMs);
  const world = new SimWorld({ ...options, eventBudget: eventBudget(options.durationMs + grace) });
  await drive(world, () => options.faults?.(world.sim, world), options.durationMs, grace);
  return { history: world.history, register: world.register, sim: world.sim, servers: world.servers };
}
