/**
 * What a live cluster can do to a system's servers, as the fault kinds ask it
 * (faults/kind.ts, LiveCapabilities): each kind's module decides from this whether a live
 * run can perform it, so the live harness keeps no list of fault kinds of its own.
 */
import type { SystemId } from '../backends/recipe.ts';
import type { LiveCapabilities } from '../faults/kind.ts';
import { whyNotLive as faultsWhyNotLive } from '../faults/live.ts';
import type { Fault } from '../scenarios/schema.ts';
import type { Cluster } from './cluster.ts';
import { liveSubject } from './systems/index.ts';

/** What `cluster` can do to the servers of `system`. */
export function capabilitiesOf(cluster: Cluster, system: SystemId): LiveCapabilities {
  const servers = cluster.servers(system);
  const peers = cluster.peers(system);
  return {
    provider: cluster.provider,
    system,
    servers: servers.length,
    controlsServers: servers.every((s) => s.control !== null),
    // A Redis clock jump is applied to the keys the local provider's servers hold; the others
    // time nothing by the wall clock, so a jump there changes nothing anywhere.
    appliesServerClockJump: cluster.provider === 'local' || (system !== 'redis' && system !== 'redlock'),
    // Only the local provider asks its servers which one leads.
    knowsLeader: cluster.provider === 'local' || servers.length <= 1,
    peerLinks: {
      unavailable: cluster.peersUnavailable(system),
      canDelay: peers === null || peers.delay !== undefined,
      ...(peers === null ? {} : { mechanism: peers.mechanism }),
    },
  };
}

/** Why this run cannot be performed on this cluster (the run is then skipped), or null. */
export function whyNotLive(
  faults: readonly Fault[],
  system: SystemId,
  subject: string | null,
  fencing: boolean,
  cluster: Cluster,
): string | null {
  if (subject !== null && fencing && !liveSubject(subject).tokens) return `${subject} offers no fencing token`;
  return faultsWhyNotLive(faults, capabilitiesOf(cluster, system));
}
