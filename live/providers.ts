/**
 * Choosing a live cluster: `local` (the default) starts private servers; `external` reads a
 * cluster that already runs from a config file; `compose` starts docker-compose.yml through
 * testcontainers and then reads it like an external one.
 */
import type { SystemId } from '../backends/recipe.ts';
import type { Cluster } from './cluster.ts';
import { startLocalCluster } from './local.ts';
import { LOCAL_STARTERS } from './starters.ts';

export type ProviderOptions =
  | { readonly provider: 'local'; readonly postgresUrl?: string; readonly mysqlUrl?: string }
  | { readonly provider: 'external'; readonly config: string }
  | { readonly provider: 'compose'; readonly composeFile?: string };

/** `ttlMs`: the shortest lease the runs use, which etcd's Raft timing follows. */
export async function openCluster(
  options: ProviderOptions,
  systems: readonly SystemId[],
  ttlMs?: number,
): Promise<Cluster> {
  switch (options.provider) {
    case 'local':
      return startLocalCluster({
        systems,
        starters: LOCAL_STARTERS({ postgresUrl: options.postgresUrl, mysqlUrl: options.mysqlUrl, ttlMs }),
      });
    case 'external': {
      const { openExternalCluster } = await import('./external.ts');
      return openExternalCluster(options.config, systems);
    }
    case 'compose': {
      const { startComposeCluster } = await import('./compose.ts');
      return startComposeCluster(systems, options.composeFile);
    }
  }
}
