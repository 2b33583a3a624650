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
  whyNotLive: (_fault, live, hitsServers) => {
    // Every link to or from a server's neighbour loses packets, peer links among them.
    if (!hitsServers || live.servers < 2) return null;
    if (live.peerLinks.unavailable !== null) return live.peerLinks.unavailable;
    return live.peerLinks.canLose
      ? null
      : `links between ${live.system} servers can be cut here (${live.peerLinks.mechanism ?? 'by routes'}) but cannot lose a share of their packets`;
  },
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
