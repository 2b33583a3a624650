/** delay: add delayMs of latency to every link to or from the nodes a selector names, until forMs. */
import fc from 'fast-check';
import { forMs, LIMITS, positiveMs, selector } from './fields.ts';
import { defineKind } from './kind.ts';
import { touching } from './links.ts';

export const delay = defineKind({
  name: 'delay',
  fields: {
    delay: selector,
    forMs,
    delayMs: positiveMs('delayMs', LIMITS.latencyMs)
      .optional()
      .describe(`delay: extra latency each way, at most ${LIMITS.latencyMs}`),
  },
  color: '#9fc5c9', // grey teal
  // Optional in the field schema so that a missing delayMs gets this message rather than a generic one.
  refine(fault, issue) {
    if (fault.delayMs === undefined) issue('a delay fault needs delayMs', 'delayMs');
  },
  selectors: (fault) => [fault.delay],
  arbitrary: ({ who, forMs, ttlMs }) => fc.record({ delay: who, delayMs: fc.integer({ min: 1, max: ttlMs }), forMs }),
  whyNotLive: (_fault, live) => {
    // Every link to or from a server's neighbour is slowed, peer links among them.
    if (live.servers < 2) return null;
    if (live.peerLinks.unavailable !== null) return live.peerLinks.unavailable;
    return live.peerLinks.canDelay
      ? null
      : `links between ${live.system} servers can be cut here (${live.peerLinks.mechanism}) but not slowed down`;
  },
  touchesShared: (_fault, servers) => servers >= 2,
  apply(fault, { target, cast, hit, started, healAfter }) {
    const { delayMs } = fault;
    if (delayMs === undefined) throw new Error('delay: a validated delay fault has no delayMs');
    const nodes = hit(fault.delay);
    const links = touching(nodes, cast.nodes);
    links.forEach(([a, b]) => target.delay(a, b, delayMs));
    started(`delay ${nodes.join(', ')} +${delayMs}ms`);
    healAfter(() => links.forEach(([a, b]) => target.delay(a, b, 0)));
  },
});
