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

  test('the wrong number of bytes is a RangeError that says what was expected', async () => {
    await assert.rejects(encodeJpeg({ data: Buffer.alloc(10), width: 4, height: 4, channels: 3 }), /10 bytes but 4x4x3 needs 48/);
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
