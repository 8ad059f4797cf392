import { createRequire } from 'node:module';
import sharp from 'sharp';

export interface RawImage {
  /** Bytes of pixels; a Uint8ClampedArray is what a canvas's ImageData.data is. */
  readonly data: Buffer | Uint8Array | Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
  /** 1 = grayscale, 3 = RGB, 4 = RGBA (alpha is ignored). */
  readonly channels: 1 | 3 | 4;
}

/** Which library turns raw pixels into JPEG in this process. */
export type JpegEncoderName = 'libjpeg-turbo' | 'sharp';

type Encode = (image: RawImage, quality: number) => Promise<Buffer>;
type TurboJpeg = typeof import('@julusian/jpeg-turbo');

/** Output buffers kept for reuse: one per encode that may run at once on a default thread pool. */
const MAX_SPARE_BUFFERS = 4;

/**
 * sharp (libvips) spends about as long again as libjpeg-turbo on each frame: its pipeline hands
 * every strip of the picture between threads and allocates a large options object per image,
 * garbage the event loop then has to collect. A live stream encodes every frame, so camcast
 * calls libjpeg-turbo directly through @julusian/jpeg-turbo (an optional dependency that ships
 * its binary inside the npm package) and falls back to sharp where that package is missing or
 * will not load. CAMCAST_JPEG_ENCODER=sharp forces the fallback.
 */
function loadTurbo(): TurboJpeg | undefined {
  if (process.env.CAMCAST_JPEG_ENCODER === 'sharp') return undefined;
  try {
    return createRequire(import.meta.url)('@julusian/jpeg-turbo') as TurboJpeg;
  } catch {
    return undefined;
  }
}

function turboEncoder(turbo: TurboJpeg): Encode {
  const formats = { 1: turbo.FORMAT_GRAY, 3: turbo.FORMAT_RGB, 4: turbo.FORMAT_RGBA } as const;
  // Output buffers of the worst-case size, reused: a fresh multi-megabyte buffer per frame would
  // cost page faults and garbage collection on the event loop. Each encode takes the smallest
  // spare that fits and gives it back; the JPEG is then copied out, so a frame owns exactly its
  // own bytes. The pool keeps the largest few, so small encodes (a "no signal" picture) cannot
  // crowd out the buffers that the big ones need.
  const spare: Buffer[] = [];
  return async ({ data, width, height, channels }, quality) => {
    const options = {
      format: formats[channels],
      width,
      height,
      // Grayscale stays a one-component JPEG: about a third of the bytes of the colour version.
      subsampling: channels === 1 ? turbo.SAMP_GRAY : turbo.SAMP_420,
      quality,
    };
    const size = turbo.bufferSize(options);
    let index = -1;
    for (let i = 0; i < spare.length; i++) if (spare[i]!.length >= size && (index < 0 || spare[i]!.length < spare[index]!.length)) index = i;
    const out = index >= 0 ? spare.splice(index, 1)[0]! : Buffer.allocUnsafe(size);
    try {
      const raw = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      return Buffer.from(await turbo.compress(raw, out, options));
    } finally {
      spare.push(out);
      if (spare.length > MAX_SPARE_BUFFERS) spare.splice(spare.indexOf(spare.reduce((a, b) => (b.length < a.length ? b : a))), 1);
    }
  };
}

const sharpEncoder: Encode = ({ data, width, height, channels }, quality) => {
  const pipeline = sharp(data, { raw: { width, height, channels } });
  if (channels === 1) pipeline.toColourspace('b-w');
  // Alpha is ignored, as libjpeg-turbo does, rather than flattened onto black.
  if (channels === 4) pipeline.removeAlpha();
  // Huffman optimisation halves encode speed for ~20 % fewer bytes; a live stream re-encodes
  // every frame, so speed wins here (libjpeg-turbo's and µStreamer's default too).
  return pipeline.jpeg({ quality, chromaSubsampling: '4:2:0', optimiseCoding: false }).toBuffer();
};

const turbo = loadTurbo();

/** The encoders this process can use, best first (for tests and the benchmark). */
export const jpegEncoders: ReadonlyMap<JpegEncoderName, Encode> = new Map<JpegEncoderName, Encode>([
  ...(turbo ? [['libjpeg-turbo', turboEncoder(turbo)] as const] : []),
  ['sharp', sharpEncoder],
]);

/** The encoder encodeJpeg() uses. */
export const jpegEncoder: JpegEncoderName = jpegEncoders.keys().next().value!;

const encode = jpegEncoders.get(jpegEncoder)!;

/**
 * Raw pixels to a baseline JPEG (4:2:0, or one component for grayscale). The work runs on
 * libuv's thread pool, so the event loop that feeds every viewer is never blocked by an encode.
 * The caller must not change `image.data` until the promise settles.
 */
export async function encodeJpeg(image: RawImage, quality = 80): Promise<Buffer> {
  const { data, width, height, channels } = image;
  for (const [name, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`raw frame ${name} must be a whole number of pixels, at least 1 (got ${value})`);
  }
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new RangeError(`JPEG quality must be a whole number from 1 to 100 (got ${quality})`);
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `raw frame is ${data.length} bytes but ${width}x${height}x${channels} needs ${width * height * channels}`,
    );
  }
  return encode(image, quality);
}
