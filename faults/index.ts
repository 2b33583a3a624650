/**
 * The registry of fault kinds: the one list of them. The scenario schema, `check`'s search space,
 * the planner, the live world's checks and the report all read it, so adding a kind is one module
 * (see kind.ts) and one entry here.
 */
import type { Trigger } from './fields.ts';
import { clock } from './clock.ts';
import { crash } from './crash.ts';
import type { FaultKind } from './kind.ts';
import { delay } from './delay.ts';
import { loss } from './loss.ts';
import { partition } from './partition.ts';
import { pause } from './pause.ts';

/**
 * Every kind, in the order the format lists them. The order is part of `check`'s answers: swarm
 * testing draws a subset of this list, so reordering it changes which schedules a seed tries.
 */
export const FAULT_KINDS = [pause, crash, partition, delay, loss, clock] as const;

export type FaultKindName = (typeof FAULT_KINDS)[number]['name'];

/** The kinds' names, in registry order. */
export const FAULT_KIND_NAMES: readonly string[] = FAULT_KINDS.map((kind) => kind.name);

type FieldsOfKind<K> = K extends FaultKind<infer F> ? F : never;
type KindFields = FieldsOfKind<(typeof FAULT_KINDS)[number]>;
type AnyKey<F> = F extends unknown ? keyof F : never;
/** A kind's fields, every other kind's fields absent: that is what makes the union discriminated. */
type Only<F> = F extends unknown ? F & { readonly [K in Exclude<AnyKey<KindFields>, keyof F>]?: undefined } : never;

/**
 * A parsed fault: its trigger and the fields of exactly one kind. The kind's own key (`pause`,
 * `crash`, ...) is the discriminant, as in the file: `fault.crash !== undefined` narrows to a crash.
 */
export type Fault = Trigger & Only<KindFields>;

/** The kind of a parsed fault. */
export function kindOf(fault: Fault): FaultKind<Fault> {
  const kind = FAULT_KINDS.find((k) => (fault as Record<string, unknown>)[k.name] !== undefined);
  if (kind === undefined) throw new Error(`a fault of no known kind: ${JSON.stringify(fault)}`);
  // The schema admits exactly one kind's fields per fault, so this kind's methods accept it.
  return kind as unknown as FaultKind<Fault>;
}

/** The kind a fault's label (the history's detail, 'pause c1', 'partition halves (drop)') names, if any. */
export function kindOfLabel(label: string): FaultKind | undefined {
  const first = label.split(' ', 1)[0];
  return FAULT_KINDS.find((k) => k.name === first);
}

/**
 * Every selector a fault names, its trigger's included. The scenario schema also asks this of a
 * fault that failed its own checks (to report every mistake at once), so it takes every kind present.
 */
export function selectorsOf(fault: Fault): string[] {
  const kinds = FAULT_KINDS.filter((k) => (fault as Record<string, unknown>)[k.name] !== undefined);
  const out = kinds.flatMap((kind) => (kind as unknown as FaultKind<Fault>).selectors(fault));
  if (fault.after?.client !== undefined) out.push(fault.after.client);
  return out;
}
