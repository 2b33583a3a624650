/**
 * The live tests the database systems (PostgreSQL, MySQL) share: a live port and the system's own
 * recipe against a private server behind Toxiproxy, one proxy per client. Each system's
 * <system>.live.test.ts calls databaseLiveSuite with what differs (the port, the server) and
 * registers its own tests, those whose behaviour differs between the systems, in the same suite.
 * Runs when LIVE is set (LIVE=required fails if a server cannot be had); otherwise skipped quietly
 * (redis.live.test.ts prints the loud line).
 *
 * Not a .test.ts file: the test runner runs it only through the files that call it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFORMANCE_CONFIG, runConformanceOutside, type ConformanceCase } from '../backends/conformance.ts';
import type { SystemConfig, SystemModule } from '../backends/system.ts';
import { ConnectionLost } from '../backends/errors.ts';
import { TimeoutError } from '../sim/errors.ts';
import { RealClock } from './clock.ts';
import type { ManagedServer } from './process.ts';
import { LiveRuntime } from './runtime.ts';
import { withAddress } from './servers/database.ts';
import type { LiveSystem } from './system.ts';
import { Toxiproxy } from './toxiproxy.ts';
import { liveEnabled } from './gate.ts';

const enabled = liveEnabled();

const CLIENTS = ['c1', 'c2'] as const;
export type ClientId = (typeof CLIENTS)[number];

/** What the suite needs of a live port: a session it can name, a ping, and a way to hang up. */
interface SessionPort {
  session(): string;
  ping(): Promise<void>;
  disconnect(): void;
}

/** A private database server of live/servers (PostgresServer, MariaDbServer). */
type PrivateServer = ManagedServer & {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  destroy(): Promise<void>;
};

export interface DatabaseLiveSpec<Ports, Port extends Ports & SessionPort, Server extends PrivateServer> {
  /** The system; its id names the suite (`<id> live port on a private <product> behind Toxiproxy`), the server (<id>-1) and the proxies. */
  readonly system: SystemModule<Ports>;
  /** The server product, for the suite's name: PostgreSQL, MariaDB. */
  readonly product: string;
  readonly conformance: readonly ConformanceCase<Ports>[];
  readonly live: LiveSystem<Ports>;
  /** The live port on a database URL. */
  newPort(url: string, config: SystemConfig): Port;
  /** A fresh private server named `name`, started; and what starting it does, for the timing line. */
  startServer(name: string): Promise<Server>;
  readonly startedBy: string;
  /** Anything to set on the server before the clients' proxies are made. */
  setup?(server: Server): Promise<void>;
}

/** What a system's own tests in the suite use: the clock, fresh ports per client, and a server crash. */
export interface DatabaseLiveContext<Port> {
  readonly clock: RealClock;
  /** A fresh port for `client`, through its proxy, disconnected when the suite ends. */
  readonly portOf: (client: ClientId, config?: SystemConfig) => Port;
  /** SIGKILL the server, check that `port` learns its session is over, and start the server again with the same data. */
  readonly crashAndRestart: (port: Port) => Promise<void>;
}

/**
 * Register the suite: the shared tests, then the system's own (`ownTests`, called inside the
 * suite's describe, after the shared tests).
 */
export function databaseLiveSuite<Ports, Port extends Ports & SessionPort, Server extends PrivateServer>(
  spec: DatabaseLiveSpec<Ports, Port, Server>,
  ownTests: (context: DatabaseLiveContext<Port>) => void,
): void {
  const id = spec.system.id;
  const serverName = `${id}-1`;

  describe(
    `${id} live port on a private ${spec.product} behind Toxiproxy`,
    { skip: !enabled && 'LIVE is not set' },
    () => {
      const clock = new RealClock();
      let dir = '';
      let toxiproxy: Toxiproxy;
      let server: Server;
      const urls = new Map<ClientId, string>();
      const ports: Port[] = [];
      const portOf = (client: ClientId, config: SystemConfig = CONFORMANCE_CONFIG) => {
        const port = spec.newPort(urls.get(client)!, config);
        ports.push(port);
        return port;
      };
      const proxyOf = (client: ClientId) => `${client}-${serverName}`;

      before(async () => {
        dir = mkdtempSync(join(tmpdir(), `lockstep-live-${id}-`));
        toxiproxy = await Toxiproxy.start(dir);
        const startedMs = clock.monotonic();
        server = await spec.startServer(serverName);
        process.stdout.write(
          `# ${serverName}: ${spec.startedBy} took ${Math.round(clock.monotonic() - startedMs)}ms\n`,
        );
        await spec.setup?.(server);
        for (const client of CLIENTS)
          urls.set(
            client,
            withAddress(server.url, '127.0.0.1', await toxiproxy.proxy(proxyOf(client), `127.0.0.1:${server.port}`)),
          );
      });

      after(async () => {
        for (const port of ports) port.disconnect();
        // before() may have failed before it started these.
        const startedServer = server as Server | undefined;
        const startedProxy = toxiproxy as Toxiproxy | undefined;
        const pids = [startedServer?.pid ?? undefined, startedProxy?.process?.pid];
        await startedServer?.destroy();
        await startedProxy?.stop();
        for (const pid of pids) {
          if (pid === undefined) continue;
          assert.throws(() => process.kill(pid, 0), 'a server outlived the test');
        }
        rmSync(dir, { recursive: true, force: true });
        assert.ok(!existsSync(dir) && !existsSync(server.dir));
      });

      runConformanceOutside<Ports>(`${id} live port (${spec.product} via Toxiproxy)`, spec.conformance, () => {
        // portOf is synchronous; runConformanceOutside awaits the context and its close in an async test.
        const port = portOf('c1');
        const other = portOf('c2');
        return Promise.resolve({
          port,
          other,
          clock,
          close: () => {
            port.disconnect();
            other.disconnect();
            return Promise.resolve();
          },
        });
      });

      it('a statement that gets no answer (a timeout toxic that never closes) fails with TimeoutError, and the port keeps the session', async () => {
        const port = portOf('c1');
        await port.ping();
        const session = port.session();
        await toxiproxy.addToxic(proxyOf('c1'), {
          name: 'silence',
          type: 'timeout',
          stream: 'upstream',
          attributes: { timeout: 0 },
        });
        try {
          await assert.rejects(port.ping(), (error: unknown) => error instanceof TimeoutError);
          await assert.rejects(port.ping(), (error: unknown) => error instanceof TimeoutError);
          assert.equal(port.session(), session, 'a timeout ended the session');
        } finally {
          await toxiproxy.removeToxic(proxyOf('c1'), 'silence');
        }
        // Toxiproxy drops what the toxic held and closes the connection when the toxic goes.
        for (let i = 0; i < 100 && port.session() === session; i++) await clock.sleep(10);
        assert.notEqual(port.session(), session, 'the port did not notice the proxy closing the connection');
        await port.ping();
      });

      it('a disabled proxy closes the connection: ConnectionLost, the session is over, and the next call opens a new one', async () => {
        const port = portOf('c1');
        await port.ping();
        const session = port.session();
        await toxiproxy.setEnabled(proxyOf('c1'), false);
        try {
          await assert.rejects(port.ping(), (error: unknown) => error instanceof ConnectionLost);
          assert.notEqual(port.session(), session, 'the port still names the closed session');
        } finally {
          await toxiproxy.setEnabled(proxyOf('c1'), true);
        }
        const next = port.session();
        await port.ping();
        assert.equal(port.session(), next);
      });

      it('runs the same recipe as the simulator: one holder at a time, and tokens grow', async () => {
        const config: SystemConfig = { ttlMs: 1000, fencing: true, acquireTimeoutMs: 2000, name: 'live-lock-turns' };
        let holder: string | null = null;
        const tokens: number[] = [];
        const turns = async (client: ClientId) => {
          const runtime = new LiveRuntime(client);
          const lock = spec.system.lock(
            runtime,
            (await spec.live.connect([{ host: '', port: 0, url: urls.get(client)! }], config, runtime)).ports,
            config,
          );
          for (let turn = 0; turn < 10; turn++) {
            const grant = await lock.acquire();
            assert.ok(
              grant !== null && grant.token !== null,
              `${client} could not get the lock within ${config.acquireTimeoutMs}ms`,
            );
            assert.equal(holder, null, `${client} got the lock while ${holder} held it`);
            holder = client;
            tokens.push(grant.token);
            await clock.sleep(5);
            holder = null;
            await lock.release(grant);
          }
        };
        await Promise.all(CLIENTS.map(turns));
        assert.equal(tokens.length, 20);
        for (let i = 1; i < tokens.length; i++)
          assert.ok(tokens[i]! > tokens[i - 1]!, `token ${tokens[i]} after ${tokens[i - 1]}`);
      });

      it('runs the same election as the simulator: the leader keeps leading while its pings are answered; when it resigns the candidate leads, with a greater token', async () => {
        const config: SystemConfig = { ttlMs: 600, fencing: true, acquireTimeoutMs: 3000, name: 'live-election' };
        const leaderRuntime = new LiveRuntime('c1');
        const leadership = await spec.system.election(leaderRuntime, portOf('c1', config), config).campaign();
        assert.ok(leadership !== null && leadership.isLeader() && leadership.token !== null);
        const candidateRuntime = new LiveRuntime('c2');
        const candidate = spec.system.election(candidateRuntime, portOf('c2', config), config).campaign();
        for (let i = 0; i < 10; i++) {
          await clock.sleep(config.ttlMs / 6);
          assert.ok(leadership.isLeader(), `the leader stepped down at check ${i} without a fault`);
        }
        await leadership.resign();
        const next = await candidate;
        assert.ok(next !== null && next.isLeader(), 'the candidate did not lead once the leader resigned');
        assert.ok(next.token! > leadership.token, 'tokens grow');
        await next.resign();
        assert.deepEqual([...leaderRuntime.failures, ...candidateRuntime.failures], []);
      });

      it("a timeout toxic on the holder's proxy (silence, then the proxy closes after 1 s) ends its session: the other client gets the lock within seconds", async () => {
        const config: SystemConfig = { ttlMs: 1000, fencing: true, acquireTimeoutMs: 8000, name: 'live-lock-cut' };
        const holderPort = portOf('c1', config);
        const held = await spec.system.lock(new LiveRuntime('c1'), holderPort, config).acquire();
        assert.ok(held !== null && held.token !== null);
        const session = holderPort.session();
        const proxy = proxyOf('c1');
        const cutAtMs = clock.monotonic();
        for (const stream of ['upstream', 'downstream'] as const)
          await toxiproxy.addToxic(proxy, {
            name: `cut-${stream}`,
            type: 'timeout',
            stream,
            attributes: { timeout: 1000 },
          });
        try {
          const grant = await spec.system.lock(new LiveRuntime('c2'), portOf('c2', config), config).acquire();
          const movedAfterMs = clock.monotonic() - cutAtMs;
          assert.ok(grant !== null, `the lock never moved within ${config.acquireTimeoutMs}ms`);
          assert.ok(grant.token! > held.token, 'tokens grow');
          assert.ok(
            movedAfterMs >= 900 && movedAfterMs < 4000,
            `the lock moved ${Math.round(movedAfterMs)}ms after the cut`,
          );
          assert.notEqual(holderPort.session(), session, 'the holder was not told its connection closed');
        } finally {
          for (const stream of ['upstream', 'downstream'] as const) await toxiproxy.removeToxic(proxy, `cut-${stream}`);
        }
      });

      ownTests({
        clock,
        portOf,
        async crashAndRestart(port) {
          const session = port.session();
          await server.kill();
          for (let i = 0; i < 100 && port.session() === session; i++) await clock.sleep(10);
          assert.notEqual(port.session(), session, 'the holder did not learn of the crash');
          const restartedMs = clock.monotonic();
          await server.start();
          process.stdout.write(
            `# ${serverName}: restart after SIGKILL took ${Math.round(clock.monotonic() - restartedMs)}ms\n`,
          );
        },
      });
    },
  );
}
