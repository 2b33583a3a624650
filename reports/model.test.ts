import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boxPoints } from './model.ts';

describe('the latency box plot data', () => {
  it('reduces samples to min, quartiles interpolated as Vega does (R-7), and max', () => {
    assert.deepEqual(boxPoints([4, 1, 3, 2]), [1, 1.75, 2.5, 3.25, 4]);
    assert.deepEqual(boxPoints([7]), [7, 7, 7, 7, 7]);
    assert.deepEqual(boxPoints([]), []);
  });

  it('gives the box of five points back unchanged, so Vega draws from them the box of every sample', () => {
    const samples = Array.from({ length: 1001 }, (_, i) => (i * 7919) % 1001);
    const points = boxPoints(samples);
    assert.deepEqual(boxPoints(points), points);
  });
});
