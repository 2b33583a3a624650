/**
 * The fault kinds and the planner live in runner/faults/ (one module per kind, a registry, the
 * planner); this re-export keeps `runner/faults.ts` importable for the Worlds that use it.
 */
export type { Cast, FaultTarget, Topology } from './faults/kind.ts';
export { planFaults, whyNot, type FaultLog } from './faults/plan.ts';
export { majorityOf, resolve } from './faults/selectors.ts';
