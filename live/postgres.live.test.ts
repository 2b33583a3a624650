/**
 * The PostgreSQL live port and recipe against a private PostgreSQL behind Toxiproxy, one proxy
 * per client: the suite the database systems share (database-live-suite.ts), then PostgreSQL's
 * own tests. Runs when LIVE is set (LIVE=required fails if a server cannot be had); otherwise
 * skipped quietly (redis.live.test.ts prints the loud line).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { postgresConformance } from '../backends/postgres/conformance.ts';
import { postgres } from '../backends/postgres/index.ts';
import { LivePostgresPort } from '../backends/postgres/live-port.ts';
import type { SystemConfig } from '../backends/system.ts';
import { databaseLiveSuite } from './database-live-suite.ts';
import { LiveRuntime } from './runtime.ts';
import { startPostgres } from './servers/postgres.ts';
import { postgresLive } from './systems/postgres.ts';

databaseLiveSuite(
  {
    system: postgres,
    product: 'PostgreSQL',
    conformance: postgresConformance,
    live: postgresLive,
    newPort: (url, config) => new LivePostgresPort(url, config),
    startServer: startPostgres,
    startedBy: 'initdb and start',
  },
  ({ clock, portOf, crashAndRestart }) => {
    it('an acquire that times out against a held lock ends its session, leaving no place in the queue', async () => {
      const config: SystemConfig = { ttlMs: 1000, fencing: false, acquireTimeoutMs: 600, name: 'live-lock-timeout' };
      const holderPort = portOf('c1', config);
      const holder = postgres.lock(new LiveRuntime('c1'), holderPort, config);
      const held = await holder.acquire();
      assert.ok(held !== null);
      const waiterPort = portOf('c2', config);
      const session = waiterPort.session();
      assert.equal(await postgres.lock(new LiveRuntime('c2'), waiterPort, config).acquire(), null);
      assert.notEqual(
        waiterPort.session(),
        session,
        'the recipe kept a session whose pg_advisory_lock may have been granted',
      );
      // The server notices the hang-up within client_connection_check_interval (50 ms here).
      await clock.sleep(200);
      await holder.release(held);
      const again = await holder.acquire();
      assert.ok(again !== null, 'the abandoned pg_advisory_lock still held a place in the queue');
      await holder.release(again);
    });

    it('a server crash ends every session at once; after the restart the lock is free and nextval resumes past every value it returned', async () => {
      const config: SystemConfig = { ttlMs: 1000, fencing: true, acquireTimeoutMs: 2000, name: 'live-lock-crash' };
      const holderPort = portOf('c1', config);
      const held = await postgres.lock(new LiveRuntime('c1'), holderPort, config).acquire();
      assert.ok(held !== null && held.token !== null);
      await crashAndRestart(holderPort);
      const grant = await postgres.lock(new LiveRuntime('c2'), portOf('c2', config), config).acquire();
      assert.ok(grant !== null, 'the lock was not free after the restart');
      assert.ok(grant.token! > held.token, `token ${grant.token} after the restart, ${held.token} before`);
    });
  },
);
