/**
 * The MySQL live port and recipe against a private MariaDB behind Toxiproxy, one proxy per
 * client: the suite the database systems share (database-live-suite.ts), then MySQL's own tests.
 * Runs when LIVE is set (LIVE=required fails if a server cannot be had); otherwise skipped
 * quietly (redis.live.test.ts prints the loud line).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CONFORMANCE_CONFIG } from '../backends/conformance.ts';
import { mysqlConformance } from '../backends/mysql/conformance.ts';
import { mysql } from '../backends/mysql/index.ts';
import { LiveMySqlPort } from '../backends/mysql/live-port.ts';
import type { SystemConfig } from '../backends/system.ts';
import { databaseLiveSuite } from './database-live-suite.ts';
import { LiveRuntime } from './runtime.ts';
import { startMariaDb } from './servers/mariadb.ts';
import { mysqlLive } from './systems/mysql.ts';

databaseLiveSuite(
  {
    system: mysql,
    product: 'MariaDB',
    conformance: mysqlConformance,
    live: mysqlLive,
    newPort: (url, config) => new LiveMySqlPort(url, config),
    startServer: startMariaDb,
    startedBy: 'mariadb-install-db and start',
    setup: (server) => server.setKeepalive(CONFORMANCE_CONFIG.ttlMs),
  },
  ({ clock, portOf, crashAndRestart }) => {
    it("an acquire that times out against a held lock keeps its session (GET_LOCK's own timeout ran out) and leaves no place in the queue", async () => {
      const config: SystemConfig = { ttlMs: 1000, fencing: false, acquireTimeoutMs: 1500, name: 'live-lock-timeout' };
      const holder = mysql.lock(new LiveRuntime('c1'), portOf('c1', config), config);
      const held = await holder.acquire();
      assert.ok(held !== null);
      const waiterPort = portOf('c2', config);
      await waiterPort.ping();
      const session = waiterPort.session();
      const startedMs = clock.monotonic();
      assert.equal(await mysql.lock(new LiveRuntime('c2'), waiterPort, config).acquire(), null);
      const waitedMs = clock.monotonic() - startedMs;
      assert.ok(waitedMs >= 1500 && waitedMs < 1700, `gave up after ${Math.round(waitedMs)}ms`);
      assert.equal(waiterPort.session(), session, 'the recipe ended a session whose GET_LOCK had answered 0');
      await holder.release(held);
      const again = await holder.acquire();
      assert.ok(again !== null, 'the GET_LOCK that timed out still held a place in the queue');
      await holder.release(again);
    });

    it('a server crash ends every session at once; after the restart the lock is free and the counter continues where it stopped', async () => {
      const config: SystemConfig = { ttlMs: 1000, fencing: true, acquireTimeoutMs: 2000, name: 'live-lock-crash' };
      const holderPort = portOf('c1', config);
      const held = await mysql.lock(new LiveRuntime('c1'), holderPort, config).acquire();
      assert.ok(held !== null && held.token !== null);
      await crashAndRestart(holderPort);
      const grant = await mysql.lock(new LiveRuntime('c2'), portOf('c2', config), config).acquire();
      assert.ok(grant !== null, 'the lock was not free after the restart');
      assert.equal(grant.token, held.token + 1, 'the committed counter did not survive the crash exactly');
    });
  },
);
