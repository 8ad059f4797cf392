import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EncodeRun } from './encode-child.js';
import { medianRound, type EncodeRound } from './encode.js';

function round(ratio: number | undefined, frames: number): EncodeRound {
  const encodeJpeg = { frames } as EncodeRun;
  return ratio === undefined ? { tj: { missing: 'tjbench not found' }, encodeJpeg, ratio } : { tj: { command: 'tjbench', megapixelsPerSecond: 500, bytes: 1 }, encodeJpeg, ratio };
}

describe('medianRound()', () => {
  test('reports the round with the median ratio and lists every ratio in the order run', () => {
    const { round: r, ratios } = medianRound([round(0.9, 1), round(0.65, 2), round(0.85, 3)]);
    assert.equal(r.encodeJpeg.frames, 3);
    assert.deepEqual(ratios, [0.9, 0.65, 0.85]);
  });

  test('of an even count the lower middle round, so the report never rounds in its own favour', () => {
    assert.equal(medianRound([round(0.9, 1), round(0.7, 2), round(0.8, 3), round(0.95, 4)]).round.encodeJpeg.frames, 3);
  });

  test('without tjbench the first round is reported and no ratio is listed', () => {
    const { round: r, ratios } = medianRound([round(undefined, 1), round(undefined, 2)]);
    assert.equal(r.encodeJpeg.frames, 1);
    assert.deepEqual(ratios, []);
  });

  test('no rounds is an error, not a made-up figure', () => {
    assert.throws(() => medianRound([]), /no encode rounds/);
  });
});
