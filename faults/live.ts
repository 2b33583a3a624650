/**
 * What the live world asks of faults, as pure functions of the faults and what the world can do
 * (kind.ts, LiveCapabilities): whether it can perform them, and whether runs may share its servers.
 */
import { kindOf, selectorsOf, type Fault } from './index.ts';
import type { LiveCapabilities } from './kind.ts';
import { namesServer } from './selectors.ts';

/** Whether a fault names a server of a system of `servers` servers, directly or by a server selector. */
export function hitsServers(fault: Fault, servers: number): boolean {
  return selectorsOf(fault).some((s) => namesServer(s, servers));
}

/** Why a live world cannot perform these faults (the run is then skipped), or null. */
export function whyNotLive(faults: readonly Fault[], live: LiveCapabilities): string | null {
  for (const fault of faults) {
    const reason = kindOf(fault).whyNotLive?.(fault, live, hitsServers(fault, live.servers)) ?? null;
    if (reason !== null) return reason;
    if (!live.knowsLeader && selectorsOf(fault).includes('leader'))
      return `the ${live.provider} provider does not ask the cluster which server leads`;
  }
  return null;
}

/**
 * Whether runs of this scenario can share the cluster with other runs at the same time: its faults
 * touch only its own clients and their own proxies (a pause of the holder, a partition between the
 * holder and the servers), never a server process, a server's clock or a link between servers.
 */
export function touchesOnlyClients(faults: readonly Fault[], servers: number): boolean {
  return faults.every((fault) => !kindOf(fault).touchesShared(fault, servers, hitsServers(fault, servers)));
}
