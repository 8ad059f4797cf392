import type { Frame } from '../frame.js';

/**
 * Turns a frame into one complete multipart part, built once per frame and shared by every
 * viewer: the JPEG is copied once into the part, never once per viewer.
 *
 * A part ends with the next boundary, not starts with it: Chromium shows a multipart image only
 * when the boundary after it arrives (miguelgrinberg/flask-video-streaming#74), so the boundary goes out
 * right behind each frame instead of waiting for the next one.
 */
export class MultipartEncoder {
  readonly boundary: string;
  readonly contentType: string;
  /** Sent once right after the response headers: the delimiter before the first part. */
  readonly preamble: Buffer;
  readonly #tail: Buffer;
  // Parts are keyed by frame so a slow viewer sending an older pending frame reuses its part;
  // a WeakMap lets each part go with its frame.
  readonly #parts = new WeakMap<Frame, Buffer>();

  constructor(boundary = 'camcastframe') {
    this.boundary = boundary;
    this.contentType = `multipart/x-mixed-replace; boundary=${boundary}`;
    this.preamble = Buffer.from(`--${boundary}\r\n`);
    this.#tail = Buffer.from(`\r\n--${boundary}\r\n`);
  }

  part(frame: Frame): Buffer {
    let part = this.#parts.get(frame);
    if (!part) {
      const head = Buffer.from(
        'Content-Type: image/jpeg\r\n' +
          `Content-Length: ${frame.jpeg.length}\r\n` +
          `X-Timestamp: ${(frame.capturedAt / 1000).toFixed(6)}\r\n` +
          `X-Frame-Seq: ${frame.seq}\r\n` +
          '\r\n',
      );
      part = Buffer.concat([head, frame.jpeg, this.#tail]);
      this.#parts.set(frame, part);
    }
    return part;
  }
}
