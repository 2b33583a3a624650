/**
 * The live Redis adapter, offline: the same conformance cases the simulated port passes, run on
 * ioredis-mock. Beside the real-server tier, never instead of it.
 */
import { describe } from 'node:test';
import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { RealClock } from '../../live/clock.ts';
import { runConformanceOutside } from '../conformance.ts';
import { redisConformance } from './conformance.ts';
import { LiveRedisPort } from './live-port.ts';

describe('redis live port on ioredis-mock', () =>
  runConformanceOutside('redis live port (ioredis-mock)', redisConformance, async () => {
    const a = new RedisMock() as unknown as Redis;
    const b = a.duplicate();
    await a.flushall();
    return {
      port: new LiveRedisPort(a),
      other: new LiveRedisPort(b),
      clock: new RealClock(),
      close: () => {
        a.disconnect();
        b.disconnect();
        return Promise.resolve();
      },
    };
  }));
