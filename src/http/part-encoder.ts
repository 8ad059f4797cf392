import type { Frame } from '../frame.js';

/**
 * How one stream lays out its parts (MultipartEncoder, or AdvanceHeadersEncoder for browsers).
 * Either way a frame's part is built once and shared by every viewer of that layout: the JPEG
 * is copied once into the part, never once per viewer.
 */
export abstract class PartEncoder {
  readonly boundary: string;
  readonly contentType: string;
  /** Sent once right after the response headers. */
  abstract readonly preamble: Buffer;
  /** Sent when the stream ends: closes the part the last one opened, then the body. */
  abstract readonly ending: Buffer;
  /** The boundary with its dashes, which no frame may hold. */
  readonly #marker: Buffer;
  // Parts are keyed by frame so a slow viewer sending an older pending frame reuses its part;
  // a WeakMap lets each part go with its frame. Null: the frame cannot be sent.
  readonly #parts = new WeakMap<Frame, Buffer | null>();

  constructor(boundary: string) {
    this.boundary = boundary;
    this.contentType = `multipart/x-mixed-replace; boundary=${boundary}`;
    this.#marker = Buffer.from(`--${boundary}`);
  }

  /**
   * One frame as a whole part, ending with what opens the next. Undefined for a frame whose
   * bytes hold the delimiter (a comment or metadata written by someone else's camera or code
   * can hold anything): browsers look for the delimiter even where a Content-Length says the
   * body goes on, and bodies without one end at it, so such a frame would be cut in two. It is
   * dropped instead; the scan runs once per frame, not per viewer.
   */
  part(frame: Frame): Buffer | undefined {
    let part = this.#parts.get(frame);
    if (part === undefined) {
      part = frame.jpeg.includes(this.#marker) ? null : this.build(frame);
      this.#parts.set(frame, part);
    }
    return part ?? undefined;
  }

  /** The part of a frame that may be sent. */
  protected abstract build(frame: Frame): Buffer;
}
