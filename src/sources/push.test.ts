import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { isCamcastError } from '../errors.js';
import type { FrameInput } from '../frame.js';
import { until } from '../testing/fake-source.js';
import { push } from './push.js';

function collector() {
  const frames: FrameInput[] = [];
  return { frames, sink: { frame: (f: FrameInput) => frames.push(f), failed() {}, ended() {} } };
}

const gray = (value: number, width = 32, height = 16) => ({ data: Buffer.alloc(width * height, value), width, height, channels: 1 as const });

describe('push()', () => {
  test('push(jpeg) is refused (false) until started, then delivered with its size', async (t) => {
    const source = push();
    t.after(() => source.stop());
    const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#08f' } }).jpeg().toBuffer();
    assert.equal(source.push(jpeg), false);
    const { frames, sink } = collector();
    await source.start(sink);
    assert.equal(source.push(jpeg), true);
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.jpeg, jpeg, 'the same buffer, not a copy');
    assert.equal(frames[0]!.width, 40);
    assert.equal(frames[0]!.height, 30);
  });

  test('push() of something that is not a JPEG or a raw frame throws BAD_FRAME', async (t) => {
    const source = push();
    t.after(() => source.stop());
    for (const bad of [Buffer.from('hello'), Buffer.from([0xff, 0xd8, 0xff, 0xd9]), { data: Buffer.alloc(10), width: 4, height: 4, channels: 3 }, { data: Buffer.alloc(16), width: 4, height: 4, channels: 2 }]) {
      assert.throws(() => source.push(bad as never), (e: unknown) => isCamcastError(e, 'BAD_FRAME'));
    }
  });

  test('push(null), push(undefined), push(123) and push(\'text\') throw BAD_FRAME saying what push() takes', (t) => {
    const source = push();
    t.after(() => source.stop());
    for (const [bad, got] of [[null, 'null'], [undefined, 'undefined'], [123, '123'], ['text', 'a string']] as const) {
      assert.throws(() => source.push(bad as never), (e: unknown) => {
        assert.ok(isCamcastError(e, 'BAD_FRAME'), String(e));
        assert.equal(e.message, `push() needs a complete JPEG Buffer (FF D8 ... FF D9) or raw pixels { data, width, height, channels }, got ${got}`);
        return true;
      });
    }
  });

  test('push() of raw pixels wider than a JPEG can be throws BAD_FRAME at once, not later in the encoder', (t) => {
    const source = push();
    t.after(() => source.stop());
    assert.throws(() => source.push({ data: Buffer.alloc(70_000), width: 70_000, height: 1, channels: 1 }), (e: unknown) =>
      isCamcastError(e, 'BAD_FRAME') && /at most 65500 pixels/.test(e.message),
    );
  });

  test('raw frames pushed faster than they encode: the newest wins and the rest count as dropped', async (t) => {
    const source = push();
    t.after(() => source.stop());
    const { frames, sink } = collector();
    await source.start(sink);
    const pixels = gray(10);
    source.push(pixels); // encodes
    pixels.data.fill(50);
    source.push(pixels); // waits
    pixels.data.fill(90);
    source.push(pixels); // replaces the waiting one
    pixels.data.fill(255); // the caller reuses its buffer at once: camcast copied it
    await until(() => frames.length >= 2, 'two encoded frames');
    assert.equal(source.dropped, 1);
    const values = [];
    for (const f of frames) {
      assert.equal((await sharp(f.jpeg).metadata()).channels, 1, 'grayscale stays a one-channel JPEG');
      const { data } = await sharp(f.jpeg).raw().toBuffer({ resolveWithObject: true });
      values.push(data[0]);
    }
    assert.ok(Math.abs(values[0]! - 10) <= 2, `first frame ${values[0]}`);
    assert.ok(Math.abs(values[1]! - 90) <= 2, `newest frame ${values[1]}, not the replaced 50 nor the later 255`);
  });

  test('after stop() pushes are refused again', async () => {
    const source = push();
    await source.start(collector().sink);
    await source.stop();
    assert.equal(source.push(gray(1)), false);
  });
});
