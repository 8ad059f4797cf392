import { CamcastError, describeError } from '../errors.js';
import { preciseNow } from '../frame.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { encodeJpeg, type RawImage } from '../raster/encode-jpeg.js';
import { DEFAULT_QUALITY, validateEncodeOptions } from './encode-options.js';
import { checkLogger, describeValue } from '../option-checks.js';
import { checkJpeg, jpegEnd } from './jpeg-info.js';
import type { FrameSink, Source } from './source.js';
import { checkOptionsObject } from '../option-checks.js';

export interface PushOptions {
  /** JPEG quality (1-100) for raw frames. */
  readonly quality?: number;
  readonly logger?: Logger;
}

/** A complete JPEG (any Uint8Array: a Buffer, or bytes from fetch()), or raw pixels. */
export type PushedFrame = Buffer | Uint8Array | RawImage;

/** A source fed by your own code: call push() with JPEGs or raw pixels whenever you have them. */
export interface PushSource extends Source {
  readonly kind: 'push';
  /**
   * Offers a frame. Returns false when nobody watches (the frame is dropped, as a camera that is
   * off would). A JPEG is sent as it is, not copied: leave its bytes alone afterwards. Raw
   * pixels are copied and encoded on libuv's thread pool; while one encode runs, only the
   * newest raw frame waits, so pushing faster than encoding is safe. Throws BAD_FRAME, saying
   * what is wrong, for anything else.
   */
  push(frame: PushedFrame): boolean;
  /** Frames replaced by a newer one before they were encoded. */
  readonly dropped: number;
}

export function push(options: PushOptions = {}): PushSource {
  checkOptionsObject('push', options, '{ quality: 85 }');
  validateEncodeOptions({ quality: options.quality });
  checkLogger(options.logger);
  return new PushSourceImpl(options);
}

class PushSourceImpl implements PushSource {
  readonly kind = 'push' as const;
  readonly description = 'pushed frames';
  readonly #quality: number;
  readonly #logger: Logger;
  #sink: FrameSink | undefined;
  #encoding: Promise<void> | undefined;
  #waiting: { image: RawImage; capturedAt: number; order: number } | undefined;
  /** Counts the frames push() accepted: a raw frame still encoding when a newer JPEG went out is stale. */
  #pushed = 0;
  /** The order of the newest frame handed to the sink. */
  #published = 0;
  #dropped = 0;
  #spare: Buffer[] = [];

  constructor({ quality = DEFAULT_QUALITY, logger = silentLogger }: PushOptions) {
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
    if (frame instanceof Uint8Array) {
      // Not copied: the frame's one buffer is what every viewer is sent, so a Uint8Array (from
      // fetch(), a file, a socket) is only viewed as a Buffer.
      const whole = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
      const jpeg = withoutTrailer(whole);
      const size = checkJpeg(jpeg);
      if (typeof size === 'string') {
        const raw = jpeg[0] === 0xff && jpeg[1] === 0xd8 ? '' : '; raw pixels go in { data, width, height, channels }';
        throw new CamcastError('BAD_FRAME', `push(): the ${jpeg.length}-byte frame is not a complete JPEG: ${size}${raw}`);
      }
      if (!this.#sink) return false;
      this.#published = ++this.#pushed;
      this.#sink.frame({ jpeg, capturedAt, ...size });
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
    const order = ++this.#pushed;
    if (this.#encoding) {
      if (this.#waiting) this.#dropped++;
      this.#waiting = { image, capturedAt, order };
    } else {
      this.#encode(image, capturedAt, order);
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

  #encode(image: RawImage, capturedAt: number, order: number): void {
    const sink = this.#sink;
    this.#encoding = encodeJpeg(image, this.#quality)
      .then(
        (jpeg) => {
          if (!sink || this.#sink !== sink) return;
          // A JPEG pushed after this frame went out while it was encoding: the newest frame wins.
          if (order < this.#published) {
            this.#dropped++;
            return;
          }
          this.#published = order;
          sink.frame({ jpeg, capturedAt, width: image.width, height: image.height });
        },
        (error: unknown) => this.#logger.error(`could not encode a pushed frame: ${describeError(error)}`),
      )
      .finally(() => {
        this.#encoding = undefined;
        this.#recycle(image.data as Buffer);
        const next = this.#waiting;
        this.#waiting = undefined;
        if (!next || !this.#sink) return;
        if (next.order < this.#published) {
          this.#dropped++;
          this.#recycle(next.image.data as Buffer);
          return;
        }
        this.#encode(next.image, next.capturedAt, next.order);
      });
  }
}

/**
 * The JPEG up to its end marker (a view, no copy). Some cameras and phones write more after it
 * (padding, a Motion Photo's video), which decoders ignore; sent on, those bytes would travel to
 * every viewer.
 */
function withoutTrailer(jpeg: Buffer): Buffer {
  if (jpeg.length < 4 || (jpeg[jpeg.length - 2] === 0xff && jpeg[jpeg.length - 1] === 0xd9)) return jpeg;
  const end = jpegEnd(jpeg);
  return end === undefined ? jpeg : jpeg.subarray(0, end);
}

/** libjpeg-turbo's JPEG_MAX_DIMENSION: a larger frame would fail later, in the encoder, unseen. */
const MAX_JPEG_SIDE = 65500;

function checkRaw(frame: RawImage): void {
  // Callers in plain JavaScript get here with anything: say what push() takes, not a TypeError.
  if (typeof frame !== 'object' || frame === null || frame instanceof ArrayBuffer) {
    const got = typeof frame === 'string' ? 'a string' : frame instanceof ArrayBuffer ? 'an ArrayBuffer: wrap it, new Uint8Array(buffer)' : String(frame);
    throw new CamcastError('BAD_FRAME', `push() needs a complete JPEG Buffer (FF D8 ... FF D9) or raw pixels { data, width, height, channels }, got ${got}`);
  }
  // Each check names what failed and what was given: "data.length = width * height * channels"
  // alone leaves the caller to work out which of four values is wrong.
  const { data, width, height, channels } = frame as Partial<Record<keyof RawImage, unknown>>;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new CamcastError('BAD_FRAME', `push(): data must be a Buffer, Uint8Array or Uint8ClampedArray of pixels (got ${describeData(data)})`);
  }
  for (const [name, side] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(side) || (side as number) < 1 || (side as number) > MAX_JPEG_SIDE) {
      throw new CamcastError('BAD_FRAME', `push(): ${name} must be a whole number of pixels from 1 to ${MAX_JPEG_SIDE}, the JPEG limit (got ${describeValue(side)})`);
    }
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new CamcastError('BAD_FRAME', `push(): channels must be 1 (grayscale), 3 (RGB) or 4 (RGBA) (got ${describeValue(channels)})`);
  }
  const needed = (width as number) * (height as number) * channels;
  if (data.length !== needed) {
    throw new CamcastError('BAD_FRAME', `push(): data is ${data.length} bytes but ${width}x${height} with ${channels} channels needs ${needed}`);
  }
}

/** What was given as data, for the message: its type, since its value would be pixels. */
function describeData(data: unknown): string {
  if (data instanceof ArrayBuffer) return 'an ArrayBuffer: wrap it, new Uint8Array(buffer)';
  if (typeof data !== 'object' || data === null) return describeValue(data);
  const name = (data.constructor as { name?: string } | undefined)?.name ?? 'object';
  return `${/^[AEIO]/i.test(name) ? 'an' : 'a'} ${name}`; // a Uint8Array, an Array
}
