/**
 * From scenario faults to actions on a world: fire each at a time or just after an event, let its
 * kind hit the world, and heal after `forMs`.
 *
 * A fault that cannot apply to a system (server-4 of a one-server system, the leader of RedLock's
 * independent nodes) skips the whole run, with the reason; it is never silently dropped. A dynamic
 * selector that finds nobody when it fires (no holder at that instant) does nothing, and the run's
 * notes say so.
 */
import { kindOf, selectorsOf, type Fault } from './index.ts';
import type { Cast, FaultTarget, Strike, Topology } from './kind.ts';
import { resolve } from './selectors.ts';

/** Why these faults cannot apply to a system of this shape (the run is then skipped), or null. */
export function whyNot(faults: readonly Fault[], topology: Topology): string | null {
  for (const fault of faults) {
    const reason = kindOf(fault).cannotApply?.(fault, topology) ?? unknownSelector(fault, topology);
    if (reason !== null) return reason;
  }
  return null;
}

function unknownSelector(fault: Fault, topology: Topology): string | null {
  for (const s of selectorsOf(fault)) {
    const server = /^server-(\d+)$/.exec(s);
    if (server !== null && Number(server[1]) > topology.servers)
      return `selector ${s}: this system has ${topology.servers} server(s)`;
    if (s === 'leader' && !topology.hasLeader) return 'selector leader: this system has no leader among its servers';
    const sentinel = /^sentinel-(\d+)$/.exec(s);
    if (
      (sentinel !== null && Number(sentinel[1]) > topology.sentinels) ||
      (s === 'sentinels' && topology.sentinels === 0)
    )
      return topology.sentinels === 0
        ? `selector ${s}: this system has no Sentinels`
        : `selector ${s}: this system has ${topology.sentinels} Sentinel(s)`;
    if (s === 'minority' && topology.servers < 2) return 'selector minority: a single server has no minority';
  }
  return null;
}

/** Told when fault `index` (0-based, in scenario order) starts hitting and when it heals. */
export type FaultLog = (phase: 'start' | 'end', index: number, what: string) => void;

/**
 * Schedule the faults on `target`. Check them with whyNot first. `notes` collects what a reader
 * should know: faults that found nobody to hit when they fired. `log` hears every start and heal,
 * so that reports can draw fault windows.
 */
export function planFaults(
  faults: readonly Fault[],
  target: FaultTarget,
  cast: Cast,
  notes: string[],
  log: FaultLog = () => {},
): void {
  faults.forEach((fault, i) => {
    const fire = () => kindOf(fault).apply(fault, strike(fault, i, target, cast, notes, log));
    if (fault.at !== undefined) {
      target.at(fault.at, fire);
    } else if (fault.after !== undefined) {
      const { client: who, nth, waitMs, event } = fault.after;
      // A grant, an attempt just started (its request sent, no answer yet), or a write about to leave.
      const after = (n: number, accepts: (process: string) => boolean, then: () => void) => {
        if (event === 'acquiring') cast.afterAttempt(n, accepts, then);
        else if (event === 'writing') cast.afterWriting(n, accepts, then);
        else cast.afterGrant(n, accepts, then);
      };
      after(
        nth,
        (process) => who === undefined || resolve(who, cast).includes(process),
        () => target.at(target.nowMs + waitMs, fire),
      );
    }
  });
}

/** One firing of fault `index`: its label, once started, is what its end is logged with. */
function strike(fault: Fault, index: number, target: FaultTarget, cast: Cast, notes: string[], log: FaultLog): Strike {
  let what = '';
  const ended = () => log('end', index, what);
  return {
    target,
    cast,
    hit(selector) {
      const nodes = resolve(selector, cast);
      if (nodes.length === 0) notes.push(`fault ${index + 1} (${selector}) at ${target.nowMs}ms found no node to hit`);
      return nodes;
    },
    started(label) {
      what = label;
      log('start', index, what);
    },
    ended,
    healAfter(undo) {
      const forMs = fault.forMs;
      if (forMs === undefined) return;
      target.at(target.nowMs + forMs, () => {
        undo();
        ended();
      });
    },
  };
}
