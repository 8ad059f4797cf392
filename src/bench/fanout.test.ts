import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { medianRun, type FanoutPoint } from './fanout.js';

const point = (fpsMean: number, failure?: string) => ({ viewers: 1792, server: 'camcast', fpsMedian: fpsMean + 0.1, fpsMin: fpsMean - 1, fpsMean, ...(failure ? { failure } : {}) }) as unknown as FanoutPoint;

describe('medianRun()', () => {
  test('reports the run with the median fps mean and lists every run in the order they ran', () => {
    const chosen = medianRun([point(29.6), point(19.6), point(28.9)]);
    assert.equal(chosen.fpsMean, 28.9);
    assert.deepEqual(chosen.runs?.map((r) => r.fpsMean), [29.6, 19.6, 28.9]);
  });

  test('a failed run ranks lowest and is listed as failed', () => {
    const chosen = medianRun([point(0, 'server exited'), point(25), point(29)]);
    assert.equal(chosen.fpsMean, 25);
    assert.equal(chosen.runs?.[0]?.failure, 'server exited');
  });

  test('a single run is reported as it is, without a list', () => {
    const only = point(29.9);
    assert.equal(medianRun([only]), only);
  });
});
