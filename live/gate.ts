/**
 * Whether the live tier runs: LIVE=1 (or any value but 0) runs it; LIVE=required also fails at
 * once when the servers are not installed, so CI cannot pass by skipping it. Without LIVE the
 * live tests are skipped: one loud line says so as they are, and the last lines of `npm test`
 * (scripts/test.ts) name each one skipped and say how to run them.
 */
import { existsSync } from 'node:fs';
import { TOXIPROXY_BINARY } from './toxiproxy.ts';

/** How to run the live tier, said wherever it was skipped. */
export const LIVE_HOW_TO = 'run scripts/install-servers.sh, then LIVE=1 npm test (CI sets LIVE=required)';

export function liveEnabled(): boolean {
  const live = process.env.LIVE;
  return live !== undefined && live !== '' && live !== '0';
}

/** Call once, from one test file: prints the skip line, or checks that LIVE=required can be met. */
export function announceLiveTier(): void {
  if (!liveEnabled()) {
    process.stdout.write(`\n*** live tier SKIPPED: ${LIVE_HOW_TO} ***\n\n`);
    return;
  }
  if (process.env.LIVE === 'required' && !existsSync(TOXIPROXY_BINARY)) {
    throw new Error(`LIVE=required but ${TOXIPROXY_BINARY} is missing: run scripts/install-servers.sh`);
  }
}
