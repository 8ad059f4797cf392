import { Canvas } from '../raster/canvas.js';
import { drawColourBars } from '../raster/colour-bars.js';
import { encodeJpeg, type RawImage } from '../raster/encode-jpeg.js';

/**
 * The bench's picture: colour bars under deterministic grain, the grain chosen so the JPEG has
 * about the size of a real camera frame (~50 KB at 720p, quality 80). Flat test bars alone
 * would compress to a few KB and flatter every figure.
 */

export const FIXTURE_QUALITY = 80;

export function fixtureRaster(width: number, height: number, grain: number): RawImage {
  const canvas = new Canvas(width, height);
  drawColourBars(canvas, height);
  // xorshift32: the same grain on every run and machine.
  let s = 0x9e3779b9;
  const px = canvas.pixels;
  for (let i = 0; i < px.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const n = ((s >>> 0) % 256) / 255 - 0.5;
    px[i] = Math.max(0, Math.min(255, px[i]! + Math.round(n * grain)));
  }
  return { data: px, width, height, channels: 3 };
}

/** Grain between 0 and 64 whose JPEG is nearest `targetBytes` (bisection, a few encodes). */
export async function fixture(width: number, height: number, targetBytes: number): Promise<{ raw: RawImage; jpeg: Buffer; grain: number }> {
  let lo = 0;
  let hi = 64;
  let best: { raw: RawImage; jpeg: Buffer; grain: number } | undefined;
  for (let step = 0; step < 8; step++) {
    const grain = (lo + hi) / 2;
    const raw = fixtureRaster(width, height, grain);
    const jpeg = await encodeJpeg(raw, FIXTURE_QUALITY);
    if (!best || Math.abs(jpeg.length - targetBytes) < Math.abs(best.jpeg.length - targetBytes)) best = { raw, jpeg, grain };
    if (jpeg.length < targetBytes) lo = grain;
    else hi = grain;
  }
  return best!;
}

/** Binary PPM (P6), the input tjbench reads. */
export function toPpm(raw: RawImage): Buffer {
  return Buffer.concat([Buffer.from(`P6\n${raw.width} ${raw.height}\n255\n`), Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.length)]);
}
