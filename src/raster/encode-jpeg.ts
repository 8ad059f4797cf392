import sharp from 'sharp';

export interface RawImage {
  readonly data: Buffer | Uint8Array;
  readonly width: number;
  readonly height: number;
  /** 1 = grayscale, 3 = RGB, 4 = RGBA. */
  readonly channels: 1 | 3 | 4;
}

/**
 * Raw pixels to JPEG with sharp (libvips + libjpeg-turbo). The work runs on libuv's thread
 * pool, so the event loop that feeds every viewer is never blocked by an encode.
 */
export async function encodeJpeg(image: RawImage, quality = 80): Promise<Buffer> {
  const { data, width, height, channels } = image;
  if (data.length !== width * height * channels) {
    throw new RangeError(
      `raw frame is ${data.length} bytes but ${width}x${height}x${channels} needs ${width * height * channels}`,
    );
  }
  const pipeline = sharp(data, { raw: { width, height, channels } });
  // Grayscale stays a one-component JPEG: about a third of the bytes of the colour version.
  if (channels === 1) pipeline.toColourspace('b-w');
  // Huffman optimisation halves encode speed for ~20 % fewer bytes; a live stream re-encodes
  // every frame, so speed wins here (libjpeg-turbo's and µStreamer's default too).
  return pipeline.jpeg({ quality, chromaSubsampling: '4:2:0', optimiseCoding: false }).toBuffer();
}
