/**
 * Starting several servers at once: when one fails, the failure waits for the others to finish
 * starting, so the cleanup that follows stops every one of them instead of missing those still
 * on their way up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settleAll } from './process.ts';

describe('settleAll', () => {
  it('throws the first failure only once everything has settled', async () => {
    let slowDone = false;
    const slow = new Promise<void>((resolve) =>
      setTimeout(() => {
        slowDone = true;
        resolve();
      }, 30),
    );
    const fast = Promise.reject(new Error('port taken'));
    await assert.rejects(settleAll([fast, slow]), /port taken/);
    assert.equal(slowDone, true);
  });

  it('resolves when everything succeeded', async () => {
    await settleAll([Promise.resolve(1), new Promise((resolve) => setImmediate(resolve))]);
  });

  it('throws the failure that comes first in the list when several fail', async () => {
    await assert.rejects(
      settleAll([Promise.resolve(), Promise.reject(new Error('first')), Promise.reject(new Error('second'))]),
      /first/,
    );
  });
});
