/**
 * crash: kill a node; restart it after restartAfterMs (or never), keeping its disk only with
 * persist. It has no forMs: the restart is its heal.
 */
import fc from 'fast-check';
import { z } from 'zod';
import { LIMITS, ms, selector } from './fields.ts';
import { defineKind } from './kind.ts';

export const crash = defineKind({
  name: 'crash',
  fields: {
    crash: selector,
    restartAfterMs: ms('restartAfterMs', LIMITS.durationMs)
      .optional()
      .describe(`crash: restart after this long (at most ${LIMITS.durationMs}); default: stay down`),
    persist: z
      .boolean({ error: 'persist must be true or false' })
      .optional()
      .describe('crash: keep the disk across the restart'),
  },
  color: '#bfa3c9', // mauve
  selectors: (fault) => [fault.crash],
  arbitrary: ({ who, ttlMs, diskless, span, restarts }) =>
    fc.record(
      {
        crash: who,
        restartAfterMs: span === undefined ? fc.integer({ min: 0, max: 3 * ttlMs }) : span(0, 3 * ttlMs),
        persist: diskless ? fc.boolean() : fc.constant(true),
      },
      { requiredKeys: restarts === true ? ['crash', 'restartAfterMs'] : ['crash'] },
    ),
  whyNotLive: (_fault, live, hitsServers) =>
    hitsServers && !live.controlsServers
      ? `the ${live.provider} provider does not control its servers' processes, so it cannot crash one`
      : null,
  touchesShared: (_fault, _servers, hitsServers) => hitsServers,
  apply(fault, { target, hit, started, ended }) {
    const nodes = hit(fault.crash).filter((n) => !target.isCrashed(n));
    nodes.forEach((n) => target.crash(n));
    started(`crash ${nodes.join(', ')}`);
    const restartAfterMs = fault.restartAfterMs;
    if (restartAfterMs === undefined) return;
    target.at(target.nowMs + restartAfterMs, () => {
      nodes.forEach((n) => target.isCrashed(n) && target.restart(n, fault.persist ?? false));
      ended();
    });
  },
});
