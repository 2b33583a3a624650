/**
 * One live run: a scenario, against one system (or a third-party subject on its servers), fenced
 * or not, on a live cluster: the live World (world.ts) through the run loop. And what a cluster
 * cannot run, or run beside other runs.
 */
import type { SystemId } from '../backends/recipe.ts';
import { runWorld } from '../runner/loop.ts';
import type { RunOutput, RunResult } from '../runner/run.ts';
import type { Fault, Scenario } from '../scenarios/schema.ts';
import { selectorsOf } from '../scenarios/schema.ts';
import type { Cluster } from './cluster.ts';
import { liveSubject } from './systems/index.ts';
import { LiveWorld, type LiveFields } from './world.ts';

export interface LiveRunSpec {
  readonly scenario: Scenario;
  readonly system: SystemId;
  /** A third-party subject instead of the system's own recipe. */
  readonly subject: string | null;
  readonly fencing: boolean;
  readonly seed: number;
  readonly cluster: Cluster;
  /** Numbers proxies and lock names, so that runs never share state. */
  readonly runIndex: number;
  /** Where client logs go. */
  readonly logDir: string;
}

export type LiveRunResult = RunResult & LiveFields;

export interface LiveRunOutput extends Omit<RunOutput, 'result'> {
  readonly result: LiveRunResult;
}

/** Why this run cannot be performed by this cluster, or null. */
export function whyNotLive(faults: readonly Fault[], system: SystemId, subject: string | null, fencing: boolean, cluster: Cluster): string | null {
  if (subject !== null && fencing && !liveSubject(subject).tokens) return `${subject} offers no fencing token`;
  const servers = cluster.servers(system);
  const hitsServers = (fault: Fault) => hitsServersOf(fault, servers.length);
  for (const fault of faults) {
    if ((fault.pause !== undefined || fault.crash !== undefined) && hitsServers(fault) && servers.some((s) => s.control === null)) {
      return `the ${cluster.provider} provider does not control its servers' processes, so it cannot ${fault.pause !== undefined ? 'pause' : 'crash'} one`;
    }
    if (fault.clock !== undefined && fault.driftPpm !== undefined && hitsServers(fault)) {
      return 'a real server clock cannot be made to drift (only a client clock can, or a server clock can jump)';
    }
    if (fault.clock !== undefined && hitsServers(fault) && cluster.provider !== 'local' && (system === 'redis' || system === 'redlock')) {
      return `the ${cluster.provider} provider does not apply a clock jump to Redis data it does not own`;
    }
    if (cluster.provider !== 'local' && servers.length > 1 && selectorsOf(fault).includes('leader')) {
      return `the ${cluster.provider} provider does not ask the cluster which server leads`;
    }
    if (fault.partition !== undefined || fault.delay !== undefined) {
      const reason = cluster.peersUnavailable(system);
      if (reason !== null && touchesPeerLinks(fault, servers.length)) return reason;
      const peers = cluster.peers(system);
      if (fault.delay !== undefined && peers !== null && peers.delay === undefined && touchesPeerLinks(fault, servers.length)) {
        return `links between ${system} servers can be cut here (${peers.mechanism}) but not slowed down`;
      }
    }
  }
  return null;
}

/**
 * Whether runs of this scenario can share the cluster with other runs at the same time: its faults
 * touch only its own clients and their own proxies (a pause of the holder, a partition between the
 * holder and the servers), never a server process, a server's clock or a link between servers.
 */
export function touchesOnlyClients(faults: readonly Fault[], servers: number): boolean {
  return faults.every((fault) => {
    const hitsServers = hitsServersOf(fault, servers);
    if ((fault.pause !== undefined || fault.crash !== undefined || fault.clock !== undefined) && hitsServers) return false;
    if ((fault.partition !== undefined || fault.delay !== undefined || fault.loss !== undefined) && (fault.loss !== undefined ? hitsServers && servers > 1 : touchesPeerLinks(fault, servers))) return false;
    return true;
  });
}

/** Whether a fault names a server of a system of `servers` servers, directly or by a server selector. */
function hitsServersOf(fault: Fault, servers: number): boolean {
  return selectorsOf(fault).some((s) => ['servers', 'leader', 'majority', 'minority', 'one'].includes(s) || (/^server-(\d+)$/.test(s) && Number(s.slice(7)) <= servers));
}

/** Whether a fault can cut or slow a link between two servers. */
function touchesPeerLinks(fault: Fault, servers: number): boolean {
  if (servers < 2) return false;
  if (fault.delay !== undefined) return true;
  const partition = fault.partition!;
  if (partition.halves === true || partition.bridge === true) return true;
  if (partition.isolate !== undefined) return !['holder', 'clients'].includes(partition.isolate) && !/^c\d+$/.test(partition.isolate);
  const groups = partition.groups ?? [];
  const withServers = groups.filter((g) => g.some((s) => !['holder', 'clients'].includes(s) && !/^c\d+$/.test(s)));
  return withServers.length >= 2;
}

export async function runLive(spec: LiveRunSpec): Promise<LiveRunOutput> {
  const { scenario, system, subject, fencing, cluster } = spec;
  return runWorld(spec, new LiveWorld(spec, () => whyNotLive(scenario.faults, system, subject, fencing, cluster)));
}
