/**
 * Generated fault lists applied to a simulation, for property tests that throw random faults at a
 * cluster: each fault fires at its time and heals after `forMs` (a clock jump stays).
 *
 * A vocabulary of its own, not the fault kinds of faults/: these act on raw kernel nodes by
 * name, below selectors, holders and leaders, for the Raft and ZooKeeper models' property tests;
 * and sim/ may not import runner/ (the kernel knows nothing about locks).
 */
import type { NodeRuntime } from './node.ts';
import type { Sim } from './sim.ts';

export interface RandomFault {
  readonly at: number;
  readonly forMs: number;
  readonly kind: 'crash' | 'pause' | 'partition' | 'hold' | 'jump';
  readonly target: string;
  readonly peer: string;
}

/**
 * Schedule `faults` on `sim`. A crash restarts with its disk after `forMs`, and hits only nodes
 * `canCrash` allows (by default any node not already down); a pause hits only running nodes; a
 * partition cuts target and peer both ways (`hold` delays instead of dropping); a jump steps the
 * target's wall clock by 100 x forMs.
 */
export function scheduleRandomFaults(
  sim: Sim,
  faults: readonly RandomFault[],
  canCrash: (node: NodeRuntime) => boolean = (node) => !node.crashed,
): void {
  for (const f of faults) {
    sim.at(f.at, 'fault', () => {
      const node = sim.node(f.target);
      if (f.kind === 'crash' && canCrash(node)) {
        sim.crash(f.target);
        sim.after(f.forMs, 'heal', () => sim.restart(f.target, { persist: true }));
      } else if (f.kind === 'pause' && node.state === 'up') {
        sim.pause(f.target);
        sim.after(f.forMs, 'heal', () => node.paused && sim.resume(f.target));
      } else if ((f.kind === 'partition' || f.kind === 'hold') && f.target !== f.peer) {
        sim.partition(f.target, f.peer, { mode: f.kind === 'hold' ? 'hold' : 'drop' });
        sim.after(f.forMs, 'heal', () => sim.heal(f.target, f.peer));
      } else if (f.kind === 'jump') {
        sim.jumpClock(f.target, 100 * f.forMs);
      }
    });
  }
}
