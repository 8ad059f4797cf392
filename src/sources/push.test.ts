import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { isCamcastError } from '../errors.js';
import type { FrameInput } from '../frame.js';
import { delay, until } from '../testing/fake-source.js';
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
      isCamcastError(e, 'BAD_FRAME') && /width must be a whole number of pixels from 1 to 65500, the JPEG limit \(got 70000\)/.test(e.message),
    );
  });

  test('push() of bad raw pixels throws BAD_FRAME naming the check that failed and the value given', (t) => {
    const source = push();
    t.after(() => source.stop());
    const cases: [unknown, string][] = [
      [{ data: Buffer.alloc(100), width: 320, height: 240, channels: 3 }, 'push(): data is 100 bytes but 320x240 with 3 channels needs 230400'],
      [{ data: Buffer.alloc(16), width: 4, height: 4, channels: 2 }, 'push(): channels must be 1 (grayscale), 3 (RGB) or 4 (RGBA) (got 2)'],
      [{ data: Buffer.alloc(48), width: 4, height: 4, channels: '3' }, "push(): channels must be 1 (grayscale), 3 (RGB) or 4 (RGBA) (got '3')"],
      [{ data: Buffer.alloc(48), width: 4.5, height: 4, channels: 3 }, 'push(): width must be a whole number of pixels from 1 to 65500, the JPEG limit (got 4.5)'],
      [{ data: Buffer.alloc(48), width: 4, height: 0, channels: 3 }, 'push(): height must be a whole number of pixels from 1 to 65500, the JPEG limit (got 0)'],
      [{ data: new Uint16Array(48), width: 4, height: 4, channels: 3 }, 'push(): data must be a Buffer, Uint8Array or Uint8ClampedArray of pixels (got a Uint16Array)'],
      [{ data: [1, 2, 3], width: 1, height: 1, channels: 3 }, 'push(): data must be a Buffer, Uint8Array or Uint8ClampedArray of pixels (got an Array)'],
      [{ data: new ArrayBuffer(3), width: 1, height: 1, channels: 3 }, 'push(): data must be a Buffer, Uint8Array or Uint8ClampedArray of pixels (got an ArrayBuffer: wrap it, new Uint8Array(buffer))'],
      [{ width: 1, height: 1, channels: 3 }, 'push(): data must be a Buffer, Uint8Array or Uint8ClampedArray of pixels (got undefined)'],
    ];
    for (const [bad, message] of cases) {
      assert.throws(() => source.push(bad as never), (e: unknown) => {
        assert.ok(isCamcastError(e, 'BAD_FRAME'), String(e));
        assert.equal(e.message, message);
        return true;
      });
    }
  });

  test('push() of a JPEG as a Uint8Array (as fetch() gives) delivers it as a Buffer over the same memory, not a copy', async (t) => {
    const source = push();
    t.after(() => source.stop());
    const { frames, sink } = collector();
    await source.start(sink);
    const jpeg = await sharp({ create: { width: 24, height: 8, channels: 3, background: '#f80' } }).jpeg().toBuffer();
    const memory = new ArrayBuffer(jpeg.length + 10);
    const bytes = new Uint8Array(memory, 7, jpeg.length);
    bytes.set(jpeg);
    assert.equal(source.push(bytes), true);
    const delivered = frames[0]!.jpeg;
    assert.ok(Buffer.isBuffer(delivered));
    assert.equal(delivered.buffer, memory, 'a view, not a copy');
    assert.equal(delivered.byteOffset, 7);
    assert.deepEqual([delivered.length, frames[0]!.width, frames[0]!.height], [jpeg.length, 24, 8]);
  });

  test('push() encodes raw pixels given as a Uint8Array or a Uint8ClampedArray (a canvas ImageData.data)', async (t) => {
    const source = push();
    t.after(() => source.stop());
    const { frames, sink } = collector();
    await source.start(sink);
    source.push({ data: new Uint8Array(8 * 4 * 3).fill(200), width: 8, height: 4, channels: 3 });
    await until(() => frames.length >= 1, 'the Uint8Array frame');
    source.push({ data: new Uint8ClampedArray(6 * 2 * 4).fill(40), width: 6, height: 2, channels: 4 });
    await until(() => frames.length >= 2, 'the Uint8ClampedArray frame');
    const sizes = await Promise.all(frames.map(async (f) => ((m) => [m.width, m.height])(await sharp(f.jpeg).metadata())));
    assert.deepEqual(sizes, [[8, 4], [6, 2]]);
  });

  test('push() of a JPEG cut short before its picture data, with FF D9 put back, throws BAD_FRAME saying so', async (t) => {
    const source = push();
    t.after(() => source.stop());
    const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: 'teal' } }).jpeg().toBuffer();
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
    const cut = sof + 2 + jpeg.readUInt16BE(sof + 2); // right after the frame header
    const truncated = Buffer.concat([jpeg.subarray(0, cut), Buffer.from([0xff, 0xd9])]);
    assert.throws(() => source.push(truncated), (e: unknown) => {
      assert.ok(isCamcastError(e, 'BAD_FRAME'), String(e));
      assert.equal(e.message, `push(): the ${truncated.length}-byte frame is not a complete JPEG: it ends at byte ${cut}, before its picture data (SOS): it is cut short`);
      return true;
    });
  });

  test('push() of a Buffer of raw pixels without their size says where raw pixels go', (t) => {
    const source = push();
    t.after(() => source.stop());
    assert.throws(() => source.push(Buffer.alloc(100)), (e: unknown) =>
      isCamcastError(e, 'BAD_FRAME') &&
      e.message === 'push(): the 100-byte frame is not a complete JPEG: it starts with 00 00, not FF D8; raw pixels go in { data, width, height, channels }',
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

  test('a raw frame still encoding when a newer JPEG went out is dropped, never published after it', async (t) => {
    const source = push();
    t.after(() => source.stop());
    const { frames, sink } = collector();
    await source.start(sink);
    const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#08f' } }).jpeg().toBuffer();
    source.push(gray(10, 640, 480)); // encodes
    source.push(gray(20, 640, 480)); // waits
    source.push(jpeg); // the newest: out at once
    await delay(300);
    assert.deepEqual(frames.map((f) => f.width), [40], 'only the JPEG: the raw frames are older');
    assert.equal(source.dropped, 2);
    source.push(gray(30, 64, 48));
    await until(() => frames.length === 2, 'a raw frame pushed after the JPEG');
    assert.equal(frames[1]!.width, 64);
  });

  test('a JPEG padded after its end marker is taken up to the marker, and a bare ArrayBuffer is refused with a hint', async (t) => {
    const source = push();
    t.after(() => source.stop());
    const { frames, sink } = collector();
    await source.start(sink);
    const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#08f' } }).jpeg().toBuffer();
    assert.equal(source.push(Buffer.concat([jpeg, Buffer.alloc(16)])), true);
    assert.deepEqual(frames[0]!.jpeg, jpeg);
    // A trailer (a Motion Photo's video, say) holding FF D9 of its own: cut at the picture's end.
    const trailer = Buffer.concat([Buffer.alloc(500, 1), Buffer.from([0xff, 0xd9]), Buffer.alloc(500, 2)]);
    assert.equal(source.push(Buffer.concat([jpeg, trailer])), true);
    assert.deepEqual(frames[1]!.jpeg, jpeg);
    assert.throws(() => source.push(jpeg.subarray(0, jpeg.length - 100)), /not a complete JPEG/);
    assert.throws(() => source.push(new ArrayBuffer(10) as never), /got an ArrayBuffer: wrap it, new Uint8Array\(buffer\)/);
  });

  test('push() refuses a logger without the four levels', () => {
    assert.throws(() => push({ logger: {} as never }), (e: unknown) => isCamcastError(e, 'BAD_OPTION') && /logger must have debug, info, warn and error/.test(e.message));
  });
});
