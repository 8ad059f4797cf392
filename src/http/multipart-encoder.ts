import type { Frame } from '../frame.js';
import { PartEncoder } from './part-encoder.js';

/**
 * The standard layout: each part carries Content-Length (which ffmpeg, OpenCV and strict
 * readers use), X-Timestamp and X-Frame-Seq.
 *
 * A part ends with the next delimiter, not starts with it, so a reader learns that a frame is
 * whole as soon as its last byte arrives instead of when the next frame comes.
 */
export class MultipartEncoder extends PartEncoder {
  /** The delimiter before the first part. */
  readonly preamble: Buffer;
  /**
   * Every part already ended with the next delimiter, so an empty part (no Content-Type: not a
   * picture) comes before the close delimiter. Strict readers (aiohttp) then see a clean end
   * instead of "Reading after EOF"; Chromium and Firefox keep showing the last picture.
   */
  readonly ending: Buffer;
  readonly #tail: Buffer;

  constructor(boundary = 'camcastframe') {
    super(boundary);
    this.preamble = Buffer.from(`--${boundary}\r\n`);
    this.#tail = Buffer.from(`\r\n--${boundary}\r\n`);
    this.ending = Buffer.from(`Content-Length: 0\r\n\r\n\r\n--${boundary}--\r\n`);
  }

  protected build(frame: Frame): Buffer {
    const head = Buffer.from(
      'Content-Type: image/jpeg\r\n' +
        `Content-Length: ${frame.jpeg.length}\r\n` +
        `X-Timestamp: ${(frame.capturedAt / 1000).toFixed(6)}\r\n` +
        `X-Frame-Seq: ${frame.seq}\r\n` +
        '\r\n',
    );
    return Buffer.concat([head, frame.jpeg, this.#tail]);
  }
}
