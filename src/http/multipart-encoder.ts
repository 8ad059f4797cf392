import type { Frame } from '../frame.js';

/** How one stream lays out its parts: MultipartEncoder, or AdvanceHeadersEncoder for browsers. */
export interface PartEncoder {
  readonly contentType: string;
  /** Sent once right after the response headers. */
  readonly preamble: Buffer;
  /**
   * One frame as a whole part, ending with what opens the next; built once, shared by viewers.
   * Undefined for a frame whose bytes hold the delimiter (see carriesDelimiter): it cannot be sent.
   */
  part(frame: Frame): Buffer | undefined;
  /** Sent when the stream ends: closes the part the last one opened, then the body. */
  readonly ending: Buffer;
}

/**
 * Turns a frame into one complete multipart part, built once per frame and shared by every
 * viewer: the JPEG is copied once into the part, never once per viewer. Each part carries
 * Content-Length (which ffmpeg, OpenCV and strict readers use), X-Timestamp and X-Frame-Seq.
 *
 * A part ends with the next delimiter, not starts with it, so a reader learns that a frame is
 * whole as soon as its last byte arrives instead of when the next frame comes.
 */
export class MultipartEncoder implements PartEncoder {
  readonly boundary: string;
  readonly contentType: string;
  /** The delimiter before the first part. */
  readonly preamble: Buffer;
  /**
   * Every part already ended with the next delimiter, so an empty part (no Content-Type: not a
   * picture) comes before the close delimiter. Strict readers (aiohttp) then see a clean end
   * instead of "Reading after EOF"; Chromium and Firefox keep showing the last picture.
   */
  readonly ending: Buffer;
  readonly #tail: Buffer;
  readonly #marker: Buffer;
  // Parts are keyed by frame so a slow viewer sending an older pending frame reuses its part;
  // a WeakMap lets each part go with its frame. Null: the frame cannot be sent.
  readonly #parts = new WeakMap<Frame, Buffer | null>();

  constructor(boundary = 'camcastframe') {
    this.boundary = boundary;
    this.contentType = `multipart/x-mixed-replace; boundary=${boundary}`;
    this.preamble = Buffer.from(`--${boundary}\r\n`);
    this.#tail = Buffer.from(`\r\n--${boundary}\r\n`);
    this.ending = Buffer.from(`Content-Length: 0\r\n\r\n\r\n--${boundary}--\r\n`);
    this.#marker = delimiterMarker(boundary);
  }

  part(frame: Frame): Buffer | undefined {
    let part = this.#parts.get(frame);
    if (part === undefined) {
      if (carriesDelimiter(frame.jpeg, this.#marker)) {
        this.#parts.set(frame, null);
        return undefined;
      }
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
    return part ?? undefined;
  }
}

/** What carriesDelimiter() looks for: the boundary with its dashes. */
export function delimiterMarker(boundary: string): Buffer {
  return Buffer.from(`--${boundary}`);
}

/**
 * Whether a JPEG holds the delimiter somewhere in its bytes (a comment or metadata written by
 * someone else's camera or code can hold anything). Browsers look for the delimiter even where
 * a Content-Length says the body goes on, and parts without one end at it, so such a frame
 * would be cut in two; it is dropped instead. One scan per frame, not per viewer.
 */
export function carriesDelimiter(jpeg: Buffer, marker: Buffer): boolean {
  return jpeg.includes(marker);
}
