/** The shape of a system as the fault selectors see it, from its module and a run's settings. */
import type { SystemConfig, SystemModule } from '../backends/system.ts';
import type { Topology } from '../faults/kind.ts';

export function topologyOf(module: SystemModule, config: SystemConfig): Topology {
  const servers = module.serverCount(config);
  return {
    servers,
    hasLeader: module.leader !== undefined || servers === 1,
    sentinels: module.sentinels?.count(config) ?? 0,
  };
}
