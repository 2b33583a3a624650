/**
 * The live register is the harness's instrument, not a system under test: a client that was
 * stopped (the scenario's GC pause) must still get its answer when it wakes, or the pause turns
 * into a failed read and the stale write the scenario is about never happens. A process that
 * blocks its own thread stands in for a stopped one: its timers fall due and nothing runs,
 * including, here, the register server, which lives in the same process.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Register } from '../runner/register.ts';
import { registerClient, serveRegister, stallTolerantTimeout } from './register.ts';
import { machineMonotonicMs } from './clock.ts';

/** Stop this thread for `ms`, as a SIGSTOP would stop the process. */
function stall(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe('live register', () => {
  const register = new Register(false);
  let served: Awaited<ReturnType<typeof serveRegister>>;
  before(async () => {
    served = await serveRegister(register, machineMonotonicMs);
  });
  after(async () => {
    await served.close();
  });

  it('answers a request made just before the process stopped for longer than the timeout', async () => {
    const client = registerClient({ host: '127.0.0.1', port: served.port }, 'c1', 100);
    await client.open();
    await client.write(41, null);
    const read = client.read(null);
    // The server cannot answer during the stall (it is stopped too), so the answer arrives only
    // after the overdue timeout has been looked at.
    stall(400);
    assert.deepEqual(await read, { ok: true, value: 41 });
    client.close();
  });

  it('answers a request made in the same turn as the end of a stall', async () => {
    // The stall comes before the request, as when the process is stopped between the grant and the
    // read: the request and its timer are made after it, in the same turn of the loop.
    const client = registerClient({ host: '127.0.0.1', port: served.port }, 'c1', 100);
    await client.open();
    await client.write(42, null);
    stall(400);
    assert.deepEqual(await client.read(null), { ok: true, value: 42 });
    client.close();
  });

  it('still times out a request nobody answers', async () => {
    // A server that accepts the connection and never answers.
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    assert.ok(typeof address === 'object' && address !== null);
    const client = registerClient({ host: '127.0.0.1', port: address.port }, 'c1', 50);
    await client.open();
    await assert.rejects(client.read(null), { name: 'TimeoutError' });
    client.close();
    silent.close();
  });
});

describe('stallTolerantTimeout', () => {
  it('gives the full time again when its timer fires long after it was due', async () => {
    const started = machineMonotonicMs();
    const expired = await new Promise<number>((resolve) => {
      stallTolerantTimeout(50, () => resolve(machineMonotonicMs()));
      stall(200);
    });
    // Re-armed at the end of the stall: expiry comes at least a full timeout after the stall ended.
    assert.ok(expired - started >= 200 + 50, `expired ${expired - started} ms after the start`);
  });

  it('can be cleared', async () => {
    let fired = false;
    const timer = stallTolerantTimeout(10, () => (fired = true));
    timer.clear();
    await new Promise((resolve) => setImmediate(resolve));
    stall(30);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(fired, false);
  });
});
