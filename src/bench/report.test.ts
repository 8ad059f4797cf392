import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FanoutPoint } from './fanout.js';
import { targets, type BenchResults } from './report.js';

const point = (server: 'camcast' | 'reference', viewers: number, fpsMedian: number, fpsMin: number, fpsMean: number, starved = 0) =>
  ({ server, viewers, fpsMedian, fpsMin, fpsMean, starved, partBuffersPerFrame: 1, arrayBuffersMb: 2 }) as unknown as FanoutPoint;

const results = (fanout: FanoutPoint[]) => ({ fanout, stalled: [], encode: [] }) as unknown as BenchResults;

const row = (r: BenchResults, start: string) => targets(r).find((cells) => cells[0]!.startsWith(start))!;

describe('targets()', () => {
  test('1792 viewers: judged on camcast alone, with the reference of the same run beside it', () => {
    const missed = row(results([point('camcast', 1792, 28.61, 27.86, 28.66), point('reference', 1792, 27.59, 27.59, 27.61)]), '1792 viewers');
    assert.deepEqual(missed.slice(1), ['28.61 / 27.86 (reference in this run: 27.59 / 27.59)', '**not met**']);
    const met = row(results([point('camcast', 1792, 29.5, 28.1, 29.4)]), '1792 viewers');
    assert.deepEqual(met.slice(1), ['29.50 / 28.10', 'met']);
    assert.equal(row(results([point('camcast', 1792, 29.5, 26.9, 29.4)]), '1792 viewers')[2], '**not met**');
  });

  test('within 5 % of the reference: median and mean, or the mean alone where the reference starves viewers', () => {
    const close = row(results([point('camcast', 1024, 29.0, 28, 29), point('reference', 1024, 30, 30, 30)]), 'every N');
    assert.equal(close[2], 'met');
    const slow = row(results([point('camcast', 1024, 28.0, 28, 29), point('reference', 1024, 30, 30, 30)]), 'every N');
    assert.equal(slow[2], '**not met**');
    const starving = row(results([point('camcast', 3072, 17, 16, 17.4), point('reference', 3072, 26, 0, 18.2, 811)]), 'every N');
    assert.deepEqual(starving.slice(1), ['3072: 0.65; 0.96 (reference starved 811)', 'met']);
  });
});
