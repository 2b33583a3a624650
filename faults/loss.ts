/** loss: lose each packet on links to or from the nodes a selector names with a probability, until forMs. */
import fc from 'fast-check';
import { z } from 'zod';
import { forMs, selector } from './fields.ts';
import { defineKind } from './kind.ts';
import { touching } from './links.ts';

export const loss = defineKind({
  name: 'loss',
  fields: {
    loss: selector,
    forMs,
    probability: z
      .number()
      .min(0)
      .max(1, { error: 'probability must be in [0, 1]' })
      .optional()
      .describe('loss: chance a packet is lost'),
  },
  color: '#c9c28f', // khaki
  // Optional in the field schema so that a missing probability gets this message rather than a generic one.
  refine(fault, issue) {
    if (fault.probability === undefined) issue('a loss fault needs probability', 'probability');
  },
  selectors: (fault) => [fault.loss],
  arbitrary: ({ who, forMs }) =>
    fc.record({ loss: who, probability: fc.integer({ min: 5, max: 60 }).map((p) => p / 100), forMs }),
  // Lost packets on a server's links affect every run sharing it, but only when it has peers to lose them to.
  touchesShared: (_fault, servers, hitsServers) => hitsServers && servers > 1,
  apply(fault, { target, cast, hit, started, healAfter }) {
    const { probability } = fault;
    if (probability === undefined) throw new Error('loss: a validated loss fault has no probability');
    const nodes = hit(fault.loss);
    const links = touching(nodes, cast.nodes);
    links.forEach(([a, b]) => target.loss(a, b, probability));
    started(`loss ${nodes.join(', ')} ${probability}`);
    healAfter(() => links.forEach(([a, b]) => target.loss(a, b, 0)));
  },
});
