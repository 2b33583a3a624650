/**
 * What a live cluster can do to a system's servers, as the fault kinds ask it
 * (faults/kind.ts, LiveCapabilities): each kind's module decides from this whether a live
 * run can perform it, so the live harness keeps no list of fault kinds of its own.
 */
import type { SystemId } from '../backends/recipe.ts';
import { SENTINEL_DEFAULTS, type SentinelOptions } from '../backends/system.ts';
import { kindOf, selectorsOf } from '../faults/index.ts';
import type { LiveCapabilities } from '../faults/kind.ts';
import { whyNotLive as faultsWhyNotLive } from '../faults/live.ts';
import type { SubjectDefinition } from '../subjects/define.ts';
import { whyNotSubject } from '../subjects/recipe.ts';
import { sameServerSettings } from './servers/redis-sentinel.ts';
import type { Fault } from '../scenarios/schema.ts';
import type { Cluster } from './cluster.ts';

/** What `cluster` can do to the servers of `system`. */
export function capabilitiesOf(cluster: Cluster, system: SystemId): LiveCapabilities {
  const servers = cluster.servers(system);
  const peers = cluster.peers(system);
  return {
    provider: cluster.provider,
    system,
    servers: servers.length,
    // A system's Sentinels are server processes too.
    controlsServers: [...servers, ...cluster.sentinels(system)].every((s) => s.control !== null),
    // A Redis clock jump is applied to the keys the local provider's servers hold; the others
    // time nothing by the wall clock, so a jump there changes nothing anywhere.
    appliesServerClockJump: cluster.provider === 'local' || !REDIS_SYSTEMS.includes(system),
    // Only the local provider asks its servers which one leads.
    knowsLeader: cluster.provider === 'local' || servers.length <= 1,
    peerLinks: {
      unavailable: cluster.peersUnavailable(system),
      canDelay: peers === null || peers.delay !== undefined,
      // Peer links are cut by routes, which drop every packet or none.
      canLose: peers === null,
      ...(peers === null ? {} : { mechanism: peers.mechanism }),
    },
  };
}

const REDIS_SYSTEMS: readonly SystemId[] = ['redis', 'redlock', 'redis-sentinel'];

/**
 * Why this run cannot be performed on this cluster (the run is then skipped), or null.
 * `sentinel` is the run's redis-sentinel settings (scenario lock.sentinel); a subject's run is also
 * skipped fenced when it gives no token, and in an election when it has none.
 */
export function whyNotLive(
  faults: readonly Fault[],
  system: SystemId,
  subject: SubjectDefinition | null,
  fencing: boolean,
  cluster: Cluster,
  sentinel?: SentinelOptions,
  workload: 'mutex' | 'election' = 'mutex',
): string | null {
  const subjectWhyNot = subject === null ? null : whyNotSubject(subject, fencing, workload);
  if (subjectWhyNot !== null) return subjectWhyNot;
  return (
    faultsWhyNotLive(faults, capabilitiesOf(cluster, system)) ??
    (cluster.sentinels(system).length > 0 ? whyNotSentinels(faults, cluster, system, sentinel) : null)
  );
}

/** Whether a selector names a Sentinel. */
function namesSentinel(selector: string): boolean {
  return selector === 'sentinels' || /^sentinel-\d+$/.test(selector);
}

/**
 * What only a system with Sentinels cannot have done live: a Sentinel's clock stepped, or, on a
 * cluster the harness does not own, settings other than the ones it runs with. (Loss between its
 * instances is refused by the loss kind, as for every system whose peer links are routes.)
 */
function whyNotSentinels(
  faults: readonly Fault[],
  cluster: Cluster,
  system: SystemId,
  sentinel: SentinelOptions | undefined,
): string | null {
  for (const fault of faults) {
    const named = selectorsOf(fault);
    const kind = kindOf(fault).name;
    if (kind === 'clock' && named.some(namesSentinel))
      return "a Sentinel's clock cannot be stepped live: Sentinel reads the wall clock itself (a jump sends it into TILT mode), and libfaketime crashes redis-server";
  }
  if (cluster.provider !== 'local' && sentinel !== undefined && !sameServerSettings(sentinel, SENTINEL_DEFAULTS))
    return `the ${cluster.provider} provider does not reconfigure servers it does not own: its Sentinels and data nodes run with the default settings (downAfterMs ${SENTINEL_DEFAULTS.downAfterMs}, failoverTimeoutMs ${SENTINEL_DEFAULTS.failoverTimeoutMs}, minReplicasToWrite ${SENTINEL_DEFAULTS.minReplicasToWrite}, minReplicasMaxLagS ${SENTINEL_DEFAULTS.minReplicasMaxLagS})`;
  return null;
}
