/**
 * clock: step a node's wall clock by jumpMs (a step stays; nothing heals it), or make its clocks
 * run fast or slow by driftPpm until forMs.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { forMs, LIMITS, selector } from './fields.ts';
import { defineKind } from './kind.ts';

export const clock = defineKind({
  name: 'clock',
  fields: {
    clock: selector,
    forMs,
    jumpMs: z
      .number()
      .min(-LIMITS.jumpMs, { error: `jumpMs must be >= -${LIMITS.jumpMs} (one day)` })
      .max(LIMITS.jumpMs, { error: `jumpMs must be <= ${LIMITS.jumpMs} (one day)` })
      .optional()
      .describe(`clock: step the wall clock by this much, within one day either way`),
    driftPpm: z
      .number()
      .gt(-LIMITS.driftPpm, { error: `driftPpm must be > -${LIMITS.driftPpm}` })
      .max(LIMITS.driftPpm, { error: `driftPpm must be <= ${LIMITS.driftPpm} (twice as fast)` })
      .optional()
      .describe('clock: run fast (+) or slow (-)'),
  },
  color: '#e0b9a0', // peach
  refine(fault, issue) {
    if ((fault.jumpMs === undefined) === (fault.driftPpm === undefined))
      issue('a clock fault takes exactly one of jumpMs or driftPpm');
  },
  selectors: (fault) => [fault.clock],
  arbitrary: ({ who, forMs, ttlMs }) =>
    fc.oneof(
      fc.record({ clock: who, jumpMs: fc.integer({ min: -2 * ttlMs, max: 5 * ttlMs }) }),
      fc.record({ clock: who, driftPpm: fc.integer({ min: -100_000, max: 100_000 }), forMs }),
    ),
  whyNotLive: (fault, live, hitsServers) => {
    if (!hitsServers) return null;
    if (fault.driftPpm !== undefined)
      return 'a real server clock cannot be made to drift (only a client clock can, or a server clock can jump)';
    return live.appliesServerClockJump
      ? null
      : `the ${live.provider} provider does not apply a clock jump to Redis data it does not own`;
  },
  touchesShared: (_fault, _servers, hitsServers) => hitsServers,
  apply(fault, { target, hit, started, ended, healAfter }) {
    const nodes = hit(fault.clock);
    const { jumpMs, driftPpm } = fault;
    if (jumpMs !== undefined) {
      nodes.forEach((n) => target.jumpClock(n, jumpMs));
      started(`clock ${nodes.join(', ')} jumps ${jumpMs}ms`);
      ended();
    } else {
      if (driftPpm === undefined) throw new Error('clock: a validated clock fault has neither jumpMs nor driftPpm');
      nodes.forEach((n) => target.setDrift(n, driftPpm));
      started(`clock ${nodes.join(', ')} drifts ${driftPpm}ppm`);
      healAfter(() => nodes.forEach((n) => target.setDrift(n, 0)));
    }
  },
});
