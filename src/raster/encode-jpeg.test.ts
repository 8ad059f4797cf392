import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { encodeJpeg, jpegEncoder, jpegEncoders, type RawImage } from './encode-jpeg.js';

/** A smooth picture (JPEG keeps it well) that differs with `seed`. */
function picture(width: number, height: number, channels: 1 | 3 | 4, seed = 0): RawImage {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = (x * 2 + y + c * 60 + seed * 40) % 256 < 128 ? 60 + c * 20 : 180 - c * 10;
    }
  }
  return { data, width, height, channels };
}

/** Mean absolute difference between a JPEG, decoded, and the raw picture it came from (colour channels only). */
async function error(jpeg: Buffer, raw: RawImage): Promise<number> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.width, raw.width);
  assert.equal(info.height, raw.height);
  const colour = Math.min(raw.channels, 3);
  let sum = 0;
  for (let p = 0; p < raw.width * raw.height; p++) {
    for (let c = 0; c < colour; c++) sum += Math.abs(data[p * info.channels + c]! - raw.data[p * raw.channels + c]!);
  }
  return sum / (raw.width * raw.height * colour);
}

describe('encodeJpeg()', () => {
  for (const [name, encode] of jpegEncoders) {
    for (const channels of [1, 3, 4] as const) {
      test(`${name}: ${channels}-channel pixels become a faithful JPEG of the same size`, async () => {
        const raw = picture(96, 64, channels);
        const jpeg = await encode(raw, 90);
        const meta = await sharp(jpeg).metadata();
        assert.equal(meta.format, 'jpeg');
        assert.equal(meta.channels, channels === 1 ? 1 : 3, 'grayscale stays one component; alpha is ignored');
        assert.ok((await error(jpeg, raw)) < 6, 'decodes back to the picture');
      });
    }

    test(`${name}: concurrent encodes each get their own picture, and a JPEG survives later encodes`, async () => {
      const raws = [0, 1, 2, 3].map((seed) => picture(160, 120, 3, seed));
      const jpegs = await Promise.all(raws.map((raw) => encode(raw, 85)));
      await Promise.all(raws.map((raw) => encode(raw, 85)));
      for (const [i, jpeg] of jpegs.entries()) assert.ok((await error(jpeg, raws[i]!)) < 8, `picture ${i}`);
    });

    test(`${name}: quality changes the size`, async () => {
      const raw = picture(160, 120, 3);
      assert.ok((await encode(raw, 30)).length < (await encode(raw, 95)).length);
    });
  }

  test('libjpeg-turbo reuses its output buffers: small encodes at once do not make every large one allocate', { skip: !jpegEncoders.has('libjpeg-turbo') && 'libjpeg-turbo is not installed' }, async (t) => {
    const encode = jpegEncoders.get('libjpeg-turbo')!;
    const large: number[] = [];
    const allocUnsafe = Buffer.allocUnsafe;
    t.mock.method(Buffer, 'allocUnsafe', (size: number) => {
      if (size > 1_000_000) large.push(size);
      return allocUnsafe(size);
    });
    await Promise.all([encode(picture(320, 240, 3), 80), encode(picture(320, 240, 3, 1), 80), encode(picture(64, 48, 1), 80)]);
    const frame = picture(1280, 720, 3);
    for (let i = 0; i < 10; i++) await encode(frame, 80);
    assert.ok(large.length <= 1, `${large.length} large output buffers allocated for 10 frames`);
  });

  test('the wrong number of bytes, an empty or fractional size and a bad quality are RangeErrors that say what is wrong', async () => {
    await assert.rejects(encodeJpeg({ data: Buffer.alloc(10), width: 4, height: 4, channels: 3 }), /10 bytes but 4x4x3 needs 48/);
    await assert.rejects(encodeJpeg({ data: Buffer.alloc(0), width: 0, height: 4, channels: 3 }), /width must be a whole number of pixels, at least 1 \(got 0\)/);
    await assert.rejects(encodeJpeg({ data: Buffer.alloc(12), width: 2, height: 1.5, channels: 4 }), /height must be a whole number/);
    await assert.rejects(encodeJpeg({ data: Buffer.alloc(3), width: 1, height: 1, channels: 3 }, 0), /quality must be a whole number from 1 to 100 \(got 0\)/);
  });

  test('odd sizes and a Uint8Array view at an offset encode', async () => {
    for (const [width, height] of [[1, 1], [3, 3], [17, 9], [1, 200]] as const) {
      const meta = await sharp(await encodeJpeg(picture(width, height, 3))).metadata();
      assert.deepEqual([meta.width, meta.height], [width, height]);
    }
    const raw = picture(24, 16, 3);
    const backing = new Uint8Array(raw.data.length + 7);
    backing.set(raw.data, 7);
    const view = new Uint8Array(backing.buffer, 7, raw.data.length);
    assert.ok((await error(await encodeJpeg({ ...raw, data: view }, 90), raw)) < 6);
  });

  test('libjpeg-turbo is used when its package is installed, and CAMCAST_JPEG_ENCODER=sharp forces sharp', () => {
    let installed = true;
    try {
      createRequire(import.meta.url).resolve('@julusian/jpeg-turbo');
    } catch {
      installed = false;
    }
    if (process.env.CAMCAST_JPEG_ENCODER !== 'sharp') assert.equal(jpegEncoder, installed ? 'libjpeg-turbo' : 'sharp');
    const forced = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `import(${JSON.stringify(new URL('./encode-jpeg.js', import.meta.url).href)}).then((m) => process.stdout.write(m.jpegEncoder))`],
      { env: { ...process.env, CAMCAST_JPEG_ENCODER: 'sharp' }, encoding: 'utf8' },
    );
    assert.equal(forced, 'sharp');
  });
});
