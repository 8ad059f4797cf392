import { CamcastError, describeError } from '../errors.js';
import { preciseNow } from '../frame.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { encodeJpeg, type RawImage } from '../raster/encode-jpeg.js';
import { validateEncodeOptions } from './encode-options.js';
import { readJpegSize } from './jpeg-info.js';
import type { FrameSink, Source } from './source.js';
import { checkOptionsObject } from './source-options.js';

export interface PushOptions {
  /** JPEG quality (1-100) for raw frames. */
  readonly quality?: number;
  readonly logger?: Logger;
}

export type PushedFrame = Buffer | RawImage;

/** A source fed by your own code: call push() with JPEGs or raw pixels whenever you have them. */
export interface PushSource extends Source {
  readonly kind: 'push';
  /**
   * Offers a frame. Returns false when nobody watches (the frame is dropped, as a camera that is
   * off would). Raw pixels are copied and encoded on libuv's thread pool; while one encode runs,
   * only the newest raw frame waits, so pushing faster than encoding is safe.
   */
  push(frame: PushedFrame): boolean;
  /** Frames replaced by a newer one before they were encoded. */
  readonly dropped: number;
}

export function push(options: PushOptions = {}): PushSource {
  checkOptionsObject('push', options, '{ quality: 85 }');
  validateEncodeOptions({ quality: options.quality });
  return new PushSourceImpl(options);
}

class PushSourceImpl implements PushSource {
  readonly kind = 'push' as const;
  readonly description = 'pushed frames';
  readonly #quality: number;
  readonly #logger: Logger;
  #sink: FrameSink | undefined;
  #encoding: Promise<void> | undefined;
  #waiting: { image: RawImage; capturedAt: number } | undefined;
  #dropped = 0;
  #spare: Buffer[] = [];

  constructor({ quality = 80, logger = silentLogger }: PushOptions) {
    this.#quality = quality;
    this.#logger = logger;
  }

  get dropped(): number {
    return this.#dropped;
  }

  async start(sink: FrameSink): Promise<void> {
    this.#sink = sink;
  }

  async stop(): Promise<void> {
    this.#sink = undefined;
    this.#waiting = undefined;
    await this.#encoding;
    this.#spare = [];
  }

  push(frame: PushedFrame): boolean {
    const capturedAt = preciseNow();
    if (Buffer.isBuffer(frame)) {
      const size = readJpegSize(frame);
      if (!size || frame[frame.length - 2] !== 0xff || frame[frame.length - 1] !== 0xd9) {
        throw new CamcastError('BAD_FRAME', 'push() needs a complete JPEG (FF D8 ... FF D9) or { data, width, height, channels }');
      }
      if (!this.#sink) return false;
      this.#sink.frame({ jpeg: frame, capturedAt, ...size });
      return true;
    }
    checkRaw(frame);
    if (!this.#sink) return false;
    // Copy: the caller may reuse its buffer as soon as push() returns, while the encoder still reads.
    // At most two copies live (one encoding, one waiting), so their buffers are recycled
    // rather than allocated per frame: a fresh 1080p allocation can block the loop for ms.
    const replaced = this.#encoding ? this.#waiting : undefined;
    const data = replaced && replaced.image.data.length === frame.data.length ? (replaced.image.data as Buffer) : this.#buffer(frame.data.length);
    data.set(frame.data);
    const image: RawImage = { data, width: frame.width, height: frame.height, channels: frame.channels };
    if (this.#encoding) {
      if (this.#waiting) this.#dropped++;
      this.#waiting = { image, capturedAt };
    } else {
      this.#encode(image, capturedAt);
    }
    return true;
  }

  #buffer(size: number): Buffer {
    const index = this.#spare.findIndex((b) => b.length === size);
    return index >= 0 ? this.#spare.splice(index, 1)[0]! : Buffer.allocUnsafe(size);
  }

  #recycle(buffer: Buffer): void {
    if (this.#spare.length < 2) this.#spare.push(buffer);
  }

  #encode(image: RawImage, capturedAt: number): void {
    const sink = this.#sink;
    this.#encoding = encodeJpeg(image, this.#quality)
      .then(
        (jpeg) => {
          if (sink && this.#sink === sink) sink.frame({ jpeg, capturedAt, width: image.width, height: image.height });
        },
        (error: unknown) => this.#logger.error(`could not encode a pushed frame: ${describeError(error)}`),
      )
      .finally(() => {
        this.#encoding = undefined;
        this.#recycle(image.data as Buffer);
        const next = this.#waiting;
        this.#waiting = undefined;
        if (next && this.#sink) this.#encode(next.image, next.capturedAt);
      });
  }
}

/** libjpeg-turbo's JPEG_MAX_DIMENSION: a larger frame would fail later, in the encoder, unseen. */
const MAX_JPEG_SIDE = 65500;

function checkRaw(frame: RawImage): void {
  // Callers in plain JavaScript get here with anything: say what push() takes, not a TypeError.
  if (typeof frame !== 'object' || frame === null) {
    const got = typeof frame === 'string' ? 'a string' : String(frame);
    throw new CamcastError('BAD_FRAME', `push() needs a complete JPEG Buffer (FF D8 ... FF D9) or raw pixels { data, width, height, channels }, got ${got}`);
  }
  const { data, width, height, channels } = frame as Partial<RawImage>;
  const valid =
    (Buffer.isBuffer(data) || data instanceof Uint8Array) &&
    Number.isInteger(width) && Number.isInteger(height) && width! > 0 && height! > 0 &&
    width! <= MAX_JPEG_SIDE && height! <= MAX_JPEG_SIDE &&
    (channels === 1 || channels === 3 || channels === 4) &&
    data.length === width! * height! * channels;
  if (!valid) {
    throw new CamcastError(
      'BAD_FRAME',
      `push() raw frames need { data, width, height, channels: 1 | 3 | 4 } with data.length = width * height * channels and sides of at most ${MAX_JPEG_SIDE} pixels`,
    );
  }
}
