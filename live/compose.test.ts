/**
 * The compose provider cannot run here (no Docker engine in CI), so this checks what can be
 * checked offline: docker-compose.yml parses, it has the topology the harness expects, and every
 * endpoint the provider will use names a service and a port that service listens on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SENTINEL_DEFAULTS } from '../backends/system.ts';
import { SENTINEL_MASTER_NAME } from '../backends/redis-sentinel/port.ts';
import { COMPOSE_ENDPOINTS, COMPOSE_FILE } from './compose.ts';

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
}

const compose = parse(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;

/** The port a service's server listens on for clients, read from its own configuration. */
function clientPort(name: string): number {
  const service = services[name]!;
  if (service.image!.startsWith('redis:') && service.environment?.SENTINEL_CONF !== undefined)
    return Number(/^port (\d+)$/m.exec(service.environment.SENTINEL_CONF)?.[1] ?? 26379);
  if (service.image!.startsWith('redis:')) return 6379;
  if (service.image!.startsWith('zookeeper:')) {
    const self = (service.environment!.ZOO_SERVERS ?? '')
      .split(' ')
      .find((s) => s.startsWith(`server.${service.environment!.ZOO_MY_ID}=`));
    return Number(self!.split(';')[1]);
  }
  if (service.image!.includes('etcd')) return Number(new URL(service.environment!.ETCD_ADVERTISE_CLIENT_URLS!).port);
  if (service.image!.startsWith('postgres:')) return 5432;
  if (service.image!.startsWith('mariadb:')) return 3306;
  throw new Error(`no client port known for ${name}`);
}

describe('docker-compose.yml and the compose provider agree', () => {
  it('runs the same topology as the local provider, each image pinned', () => {
    const names = Object.keys(services).sort();
    assert.deepEqual(names, [
      'etcd-1',
      'etcd-2',
      'etcd-3',
      'mariadb',
      'postgres',
      'redis-1',
      'redis-2',
      'redis-3',
      'redis-4',
      'redis-5',
      'sentinel-1',
      'sentinel-2',
      'sentinel-3',
      'sentinel-redis-1',
      'sentinel-redis-2',
      'sentinel-redis-3',
      'toxiproxy',
      'zookeeper-1',
      'zookeeper-2',
      'zookeeper-3',
    ]);
    for (const [name, service] of Object.entries(services)) {
      assert.match(service.image ?? '', /:[0-9v][\w.-]*$/, `${name}: the image must be pinned to a version`);
    }
  });

  it('publishes only Toxiproxy: its API and the proxy port range the provider allocates from', () => {
    for (const [name, service] of Object.entries(services))
      if (name !== 'toxiproxy')
        assert.equal(service.ports, undefined, `${name} must be reached only through Toxiproxy`);
    const ports = services.toxiproxy!.ports!;
    assert.ok(ports.includes(`127.0.0.1:${new URL(COMPOSE_ENDPOINTS.toxiproxy).port}:8474`));
    const range = COMPOSE_ENDPOINTS.proxyPorts!;
    assert.ok(
      ports.includes(`127.0.0.1:${range.from}-${range.to}:${range.from}-${range.to}`),
      'the proxy range is published one to one',
    );
    assert.equal(
      COMPOSE_ENDPOINTS.proxyListenHost,
      '0.0.0.0',
      'proxies listen on every interface of the Toxiproxy container',
    );
  });

  it('every endpoint names a service and the port it listens on', () => {
    const addresses = [
      ...COMPOSE_ENDPOINTS.redis!,
      ...COMPOSE_ENDPOINTS.zookeeper!,
      ...COMPOSE_ENDPOINTS.etcd!,
      ...COMPOSE_ENDPOINTS.redisSentinel!.servers,
      ...COMPOSE_ENDPOINTS.redisSentinel!.sentinels,
    ];
    for (const url of [COMPOSE_ENDPOINTS.postgres!, COMPOSE_ENDPOINTS.mysql!])
      addresses.push(`${new URL(url).hostname}:${new URL(url).port}`);
    assert.equal(addresses.length, 19);
    for (const address of addresses) {
      const [host, port] = address.split(':');
      assert.ok(services[host!] !== undefined, `${address}: no service ${host}`);
      assert.equal(Number(port), clientPort(host!), `${address}: ${host} listens on ${clientPort(host!)}`);
    }
  });

  it('the database URLs carry the credentials and database the images are given', () => {
    const pg = new URL(COMPOSE_ENDPOINTS.postgres!);
    assert.equal(pg.password, services.postgres!.environment!.POSTGRES_PASSWORD);
    assert.equal(pg.pathname.slice(1), services.postgres!.environment!.POSTGRES_DB);
    const my = new URL(COMPOSE_ENDPOINTS.mysql!);
    assert.equal(my.password, services.mariadb!.environment!.MARIADB_ROOT_PASSWORD);
    assert.equal(my.pathname.slice(1), services.mariadb!.environment!.MARIADB_DATABASE);
  });

  it('the ZooKeeper ensemble and the etcd cluster list all three members, each with its own id', () => {
    const ids = ['zookeeper-1', 'zookeeper-2', 'zookeeper-3'].map((n) => services[n]!.environment!.ZOO_MY_ID);
    assert.deepEqual(ids, ['1', '2', '3']);
    for (const n of ['zookeeper-1', 'zookeeper-2', 'zookeeper-3'])
      assert.equal(services[n]!.environment!.ZOO_SERVERS!.split(' ').length, 3);
    const names = ['etcd-1', 'etcd-2', 'etcd-3'].map((n) => services[n]!.environment!.ETCD_NAME);
    assert.deepEqual(names, ['etcd-1', 'etcd-2', 'etcd-3']);
    for (const n of names) assert.ok(services[n]!.environment!.ETCD_INITIAL_CLUSTER!.includes(`${n}=http://${n}:2380`));
  });

  it('testcontainers, pinned to the 11 line that loads on Node 20, offers compose support', async () => {
    const { DockerComposeEnvironment } = await import('testcontainers');
    assert.equal(typeof DockerComposeEnvironment, 'function');
  });

  it('redis-sentinel: a primary and two replicas that announce their endpoints, three Sentinels with the default settings naming them', () => {
    const [primary, ...replicas] = COMPOSE_ENDPOINTS.redisSentinel!.servers.map((a) => a.split(':')[0]!);
    for (const name of [primary!, ...replicas]) {
      const command = services[name]!.command!;
      // What a Sentinel names a data node is what the endpoints say, so a client's natMap finds its proxy.
      assert.equal(command[command.indexOf('--replica-announce-ip') + 1], name);
      assert.deepEqual(command.slice(1, 5), ['--save', '', '--appendonly', 'no'], `${name}: no persistence`);
    }
    assert.ok(!services[primary!]!.command!.includes('--replicaof'), 'server-1 starts as the primary');
    for (const name of replicas)
      assert.deepEqual(
        services[name]!.command!.slice(services[name]!.command!.indexOf('--replicaof') + 1).slice(0, 2),
        [primary, '6379'],
      );
    for (const address of COMPOSE_ENDPOINTS.redisSentinel!.sentinels) {
      const name = address.split(':')[0]!;
      const conf = services[name]!.environment!.SENTINEL_CONF!;
      assert.equal(services[name]!.environment!.ANNOUNCE, name);
      assert.match(conf, new RegExp(`^sentinel monitor ${SENTINEL_MASTER_NAME} ${primary} 6379 2$`, 'm'));
      assert.match(conf, /^sentinel announce-hostnames yes$/m, 'Sentinels name the data nodes by their service names');
      assert.match(
        conf,
        new RegExp(`^sentinel down-after-milliseconds lockstep ${SENTINEL_DEFAULTS.downAfterMs}$`, 'm'),
      );
      assert.match(
        conf,
        new RegExp(`^sentinel failover-timeout lockstep ${SENTINEL_DEFAULTS.failoverTimeoutMs}$`, 'm'),
      );
    }
    // Redis's own defaults are lockstep's: no min-replicas guard.
    assert.equal(SENTINEL_DEFAULTS.minReplicasToWrite, 0);
  });
});
