/**
 * The live Sentinel adapter, offline: the single-Redis cases of its conformance suite on
 * ioredis-mock (which has no WAIT and no Sentinel mode), and what the port makes of the replies
 * a failover produces. The real cluster is the live tier's (live/redis-sentinel.live.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { RealClock } from '../../live/clock.ts';
import { runConformanceOutside } from '../conformance.ts';
import { ConnectionLost, WriteRefused } from '../errors.ts';
import { TimeoutError } from '../../sim/errors.ts';
import { redisConformance } from '../redis/conformance.ts';
import { LiveSentinelPort, translateSentinelError } from './live-port.ts';

/** A reply error as ioredis gives it: an Error whose message is the server's reply. */
function reply(message: string): Error {
  const error = new Error(message);
  error.name = 'ReplyError';
  return error;
}

describe('redis-sentinel live port on ioredis-mock', () => {
  runConformanceOutside('redis-sentinel live port (ioredis-mock)', redisConformance, async () => {
    const a = new RedisMock() as unknown as Redis;
    const b = a.duplicate();
    await a.flushall();
    return {
      port: new LiveSentinelPort(a),
      other: new LiveSentinelPort(b),
      clock: new RealClock(),
      close: () => {
        a.disconnect();
        b.disconnect();
        return Promise.resolve();
      },
    };
  });

  it('says WriteRefused for a write a replica or a guarded primary refused, and the outcome-unknown errors as the Redis port does', () => {
    const refused = [
      "READONLY You can't write against a read only replica.",
      'NOREPLICAS Not enough good replicas to write.',
      'UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)',
      'ERR WAIT cannot be used with replica instances.',
    ];
    for (const message of refused)
      assert.throws(
        () => translateSentinelError(reply(message)),
        (e: unknown) => e instanceof WriteRefused && e.message.includes(message),
      );
    assert.throws(() => translateSentinelError(new Error('Command timed out')), TimeoutError);
    assert.throws(() => translateSentinelError(new Error('Connection is closed.')), ConnectionLost);
    const other = reply('ERR unknown command');
    assert.throws(
      () => translateSentinelError(other),
      (e: unknown) => e === other,
    );
  });

  it('turns a READONLY reply to a command into WriteRefused', async () => {
    const redis = new RedisMock() as unknown as Redis;
    const readonly = () => Promise.reject(reply("READONLY You can't write against a read only replica."));
    Object.assign(redis, { set: readonly, incr: readonly });
    const port = new LiveSentinelPort(redis);
    await assert.rejects(port.setNxPx('k', 'v', 1000), WriteRefused);
    await assert.rejects(port.incr('n'), WriteRefused);
    redis.disconnect();
  });
});
