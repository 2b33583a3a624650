/**
 * partition: cut links, dropping their packets or holding them until the heal delivers them late.
 * One of four shapes: `isolate` cuts a selector off from every other node, `groups` cuts every
 * link between groups, `halves` splits the servers into a majority and a minority, and `bridge`
 * splits them likewise but leaves one server of the majority talking to both sides.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { forMs, LIMITS, selector } from './fields.ts';
import { defineKind, type Cast, type FieldsOf } from './kind.ts';
import { LinkSet, pairsBetween } from './links.ts';
import { majorityOf, namesOnlyClients } from './selectors.ts';

const shape = z
  .strictObject({
    isolate: selector.optional().describe('cut these nodes off from every other node'),
    groups: z
      .array(z.array(selector).min(1, { error: 'a group needs at least one selector' }))
      .min(2, { error: 'groups needs at least two groups' })
      .max(LIMITS.partitionGroups, { error: `groups takes at most ${LIMITS.partitionGroups} groups` })
      .refine((groups) => groups.flat().length <= LIMITS.partitionSelectors, {
        error: `groups takes at most ${LIMITS.partitionSelectors} selectors in all (64 clients and the servers, each by name)`,
      })
      .optional()
      .describe(
        `cut every link between groups; at most ${LIMITS.partitionGroups} groups, ${LIMITS.partitionSelectors} selectors in all`,
      ),
    halves: z.literal(true).optional().describe('split the servers into a majority and a minority'),
    bridge: z
      .literal(true)
      .optional()
      .describe('split the servers in two, with one server still talking to both sides'),
  })
  .refine((p) => [p.isolate, p.groups, p.halves, p.bridge].filter((x) => x !== undefined).length === 1, {
    error: 'a partition takes exactly one of isolate, groups, halves or bridge',
  });

const fields = {
  partition: shape,
  forMs,
  mode: z
    .enum(['drop', 'hold'], { error: "expected 'drop' or 'hold'" })
    .optional()
    .describe('partition: lose packets, or hold them until heal'),
};
type Shape = FieldsOf<typeof fields>['partition'];

export const partition = defineKind({
  name: 'partition',
  fields,
  color: '#a9b8d6', // periwinkle
  selectors: ({ partition }) => [
    ...(partition.isolate === undefined ? [] : [partition.isolate]),
    ...(partition.groups ?? []).flat(),
  ],
  arbitrary: ({ who, forMs, servers }) => {
    const shapes: fc.Arbitrary<Record<string, unknown>>[] = [who.map((isolate) => ({ isolate }))];
    if (servers >= 2) shapes.push(fc.constant({ halves: true }));
    if (servers >= 3) shapes.push(fc.constant({ bridge: true }));
    return fc.record({ partition: fc.oneof(...shapes), mode: fc.constantFrom('drop', 'hold'), forMs });
  },
  cannotApply: ({ partition }, topology) => {
    if (partition.halves !== true && partition.bridge !== true) return null;
    const needs = partition.bridge === true ? 3 : 2;
    return topology.servers < needs
      ? `a ${partition.bridge === true ? 'bridge' : 'halves'} partition needs more servers than this system's ${topology.servers}`
      : null;
  },
  whyNotLive: ({ partition }, live) =>
    live.peerLinks.unavailable !== null && cutsPeerLinks(partition, live.servers) ? live.peerLinks.unavailable : null,
  touchesShared: ({ partition }, servers) => cutsPeerLinks(partition, servers),
  apply(fault, { target, cast, hit, started, healAfter }) {
    const { links, isolated } = cutLinks(fault.partition, cast, hit);
    const mode = fault.mode ?? 'drop';
    links.forEach(([a, b]) => target.partition(a, b, mode));
    started(`partition ${label(fault.partition, isolated)} (${mode})`);
    healAfter(() => links.forEach(([a, b]) => target.heal(a, b)));
  },
});

/**
 * The label the history keeps. An isolation names the nodes it cut off ('isolate c2'), as a pause
 * does, so that a reader of the history (checkers/performance.ts) knows who was cut off from everything.
 */
function label(partition: Shape, isolated: readonly string[]): string {
  if (partition.isolate !== undefined)
    return `isolate ${isolated.length > 0 ? isolated.join(', ') : partition.isolate}`;
  if (partition.groups !== undefined) return partition.groups.map((g) => g.join('+')).join(' | ');
  return partition.halves === true ? 'halves' : 'bridge';
}

/** Every directed link between the sides a partition separates, and the nodes an isolation cuts off. */
function cutLinks(
  partition: Shape,
  cast: Cast,
  hit: (selector: string) => string[],
): { links: [string, string][]; isolated: string[] } {
  let sides: string[][];
  let isolated: string[] = [];
  if (partition.isolate !== undefined) {
    isolated = hit(partition.isolate);
    sides = [isolated, cast.nodes.filter((n) => !isolated.includes(n))];
  } else if (partition.groups !== undefined) {
    sides = partition.groups.map((group) => [...new Set(group.flatMap(hit))]);
  } else {
    const majority = majorityOf(cast.servers);
    const minority = cast.servers.slice(majority.length);
    if (partition.bridge === true) {
      // The last server of the majority is the bridge: it keeps talking to both sides.
      return { links: pairsBetween(majority.slice(0, -1), minority), isolated };
    }
    sides = [majority, minority];
  }
  const links = new LinkSet(cast.nodes);
  for (const [i, a] of sides.entries()) for (const b of sides.slice(i + 1)) links.addBetween(a, b);
  return { links: links.list, isolated };
}

/** Whether a partition can cut a link between two servers of a system of `servers` servers. */
function cutsPeerLinks(partition: Shape, servers: number): boolean {
  if (servers < 2) return false;
  if (partition.halves === true || partition.bridge === true) return true;
  if (partition.isolate !== undefined) return !namesOnlyClients(partition.isolate);
  const withServers = (partition.groups ?? []).filter((g) => g.some((s) => !namesOnlyClients(s)));
  return withServers.length >= 2;
}
