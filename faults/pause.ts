/**
 * pause: stop a node's processes (a GC pause, SIGSTOP) and resume them after forMs. The node's OS
 * keeps answering keepalives, so only what the process itself does stops.
 */
import fc from 'fast-check';
import { forMs, selector } from './fields.ts';
import { defineKind } from './kind.ts';

export const pause = defineKind({
  name: 'pause',
  fields: { pause: selector, forMs },
  color: '#cdb99c', // sand
  selectors: (fault) => [fault.pause],
  arbitrary: ({ who, forMs }) => fc.record({ pause: who, forMs }),
  whyNotLive: (_fault, live, hitsServers) =>
    hitsServers && !live.controlsServers
      ? `the ${live.provider} provider does not control its servers' processes, so it cannot pause one`
      : null,
  touchesShared: (_fault, _servers, hitsServers) => hitsServers,
  apply(fault, { target, hit, started, healAfter }) {
    // A node already paused or down is left alone: another fault holds it, and heals it.
    const nodes = hit(fault.pause).filter((n) => !target.isPaused(n) && !target.isCrashed(n));
    nodes.forEach((n) => target.pause(n));
    started(`pause ${nodes.join(', ')}`);
    healAfter(() => nodes.forEach((n) => target.isPaused(n) && target.resume(n)));
  },
});
