import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { isCamcastError } from '../errors.js';
import type { FrameInput } from '../frame.js';
import { until } from '../testing/fake-source.js';
import { testPattern } from './test-pattern.js';

describe('testPattern()', () => {
  test('frames are JPEGs of the asked size, and every one differs', async (t) => {
    const source = testPattern({ width: 128, height: 96, fps: 30 });
    t.after(() => source.stop());
    const frames: FrameInput[] = [];
    await source.start({ frame: (f) => frames.push(f), failed() {}, ended() {} });
    await until(() => frames.length >= 6, 'six frames');
    await source.stop();
    const meta = await sharp(frames[0]!.jpeg).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 128, 96]);
    assert.equal(new Set(frames.map((f) => f.jpeg.toString('base64'))).size, frames.length);
    const count = frames.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(frames.length, count, 'no frame after stop()');
  });

  for (const bad of [{ fps: 0 }, { fps: -1 }, { width: 0 }, { width: 100.5 }, { quality: 0 }, { quality: 101 }]) {
    test(`testPattern(${JSON.stringify(bad)}) throws BAD_OPTION at once`, () => {
      assert.throws(() => testPattern(bad), (e: unknown) => isCamcastError(e, 'BAD_OPTION'));
    });
  }

  test('at a slow rate the first frame comes at once, and the interval is told for stall detection', async (t) => {
    const source = testPattern({ width: 64, height: 48, fps: 0.1 });
    t.after(() => source.stop());
    assert.equal(source.frameIntervalMs, 10_000);
    const frames: FrameInput[] = [];
    await source.start({ frame: (f) => frames.push(f), failed() {}, ended() {} });
    await until(() => frames.length === 1, 'the first frame, long before 10 s', 3000);
  });

  test('testPattern() refuses a logger without the four levels', () => {
    assert.throws(() => testPattern({ logger: {} as never }), (e: unknown) => isCamcastError(e, 'BAD_OPTION') && /logger must have/.test(e.message));
  });
});
