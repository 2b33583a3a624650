/**
 * The `compose` provider: docker-compose.yml started through testcontainers' compose support, then
 * used like an external cluster with the endpoints below (the names are the compose services; the
 * ports are those the images listen on). It needs a Docker engine, which CI does not have, so CI
 * checks only that the file and these endpoints agree (live/compose.test.ts).
 */
import { dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SystemId } from '../backends/recipe.ts';
import type { Cluster } from './cluster.ts';
import { clusterFromConfig, ExternalConfig } from './external.ts';
import { EnvironmentError } from './process.ts';

export const COMPOSE_FILE = fileURLToPath(new URL('../docker-compose.yml', import.meta.url));

export const COMPOSE_ENDPOINTS: ExternalConfig = ExternalConfig.parse({
  toxiproxy: 'http://127.0.0.1:8474',
  proxyListenHost: '0.0.0.0',
  clientHost: '127.0.0.1',
  proxyPorts: { from: 21000, to: 21099 },
  redis: ['redis-1:6379', 'redis-2:6379', 'redis-3:6379', 'redis-4:6379', 'redis-5:6379'],
  zookeeper: ['zookeeper-1:2181', 'zookeeper-2:2181', 'zookeeper-3:2181'],
  etcd: ['etcd-1:2379', 'etcd-2:2379', 'etcd-3:2379'],
  postgres: 'postgres://postgres:lockstep@postgres:5432/lockstep',
  mysql: 'mysql://root:lockstep@mariadb:3306/lockstep',
  redisSentinel: {
    servers: ['sentinel-redis-1:6379', 'sentinel-redis-2:6379', 'sentinel-redis-3:6379'],
    sentinels: ['sentinel-1:26379', 'sentinel-2:26379', 'sentinel-3:26379'],
  },
});

export async function startComposeCluster(systems: readonly SystemId[], file = COMPOSE_FILE): Promise<Cluster> {
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  let environment;
  try {
    environment = await new DockerComposeEnvironment(dirname(file), basename(file))
      .withWaitStrategy('toxiproxy-1', Wait.forListeningPorts())
      .up();
  } catch (error) {
    throw new EnvironmentError(
      `compose: could not start ${file} (${(error as Error).message.split('\n')[0]}); the compose provider needs a running Docker engine`,
    );
  }
  const cluster = await clusterFromConfig(COMPOSE_ENDPOINTS, systems, 'compose', file);
  return {
    ...cluster,
    stop: async () => {
      await environment.down();
    },
  };
}
