import type { IncomingMessage } from 'node:http';
import type { Frame } from '../frame.js';
import { carriesDelimiter, delimiterMarker, type PartEncoder } from './multipart-encoder.js';

/**
 * The layout for a browser that shows the stream (an <img>, or the stream's URL opened in a
 * tab, which Chromium shows with the same machinery). Chromium shows a multipart part only when the headers of
 * the part after it arrive (crbug.com/527446), so with MultipartEncoder's layout a browser shows
 * every frame one frame late: 33 ms at 30 fps, but a whole interval for a slow source (a camera
 * polled twice a second, a pipeline that pushes a frame now and then). Here each frame is
 * followed at once by the next part's headers, and Chromium shows it. Those headers cannot say
 * the next frame's Content-Length, X-Timestamp or X-Frame-Seq, which an <img> has no use for.
 * µStreamer offers the same as ?advance_headers=1. Built once per frame, shared by viewers.
 */
export class AdvanceHeadersEncoder implements PartEncoder {
  readonly contentType: string;
  /** The delimiter and the headers of the first part. */
  readonly preamble: Buffer;
  /** The part opened after the last frame stays empty: the close delimiter follows. */
  readonly ending: Buffer;
  readonly #tail: Buffer;
  readonly #marker: Buffer;
  // As in MultipartEncoder: keyed by frame, so a part goes with its frame; null: not sendable.
  readonly #parts = new WeakMap<Frame, Buffer | null>();

  constructor(boundary = 'camcastframe') {
    this.contentType = `multipart/x-mixed-replace; boundary=${boundary}`;
    this.preamble = Buffer.from(`--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`);
    this.#tail = Buffer.from(`\r\n--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`);
    this.ending = Buffer.from(`\r\n--${boundary}--\r\n`);
    this.#marker = delimiterMarker(boundary);
  }

  part(frame: Frame): Buffer | undefined {
    let part = this.#parts.get(frame);
    if (part === undefined) {
      // Here the delimiter is the only end a body has: a frame holding it cannot be sent.
      part = carriesDelimiter(frame.jpeg, this.#marker) ? null : Buffer.concat([frame.jpeg, this.#tail]);
      this.#parts.set(frame, part);
    }
    return part ?? undefined;
  }
}

/**
 * Where a browser shows what it loads (Fetch Metadata's Sec-Fetch-Dest). Not 'empty': a page's
 * fetch() reads the bytes itself and may want each part's Content-Length.
 */
const SHOWN_BY_BROWSER: ReadonlySet<string> = new Set(['image', 'document', 'iframe', 'frame', 'embed', 'object']);

/**
 * Whether a stream request gets AdvanceHeadersEncoder's layout: `?advance_headers=1` or `=0`
 * (µStreamer's parameter) decides; otherwise a browser says it will show the stream with
 * `Sec-Fetch-Dest` (Chromium, Firefox, Safari), which no MJPEG tool sends.
 */
export function wantsAdvanceHeaders(req: IncomingMessage): boolean {
  let asked: string | null = null;
  try {
    asked = new URL(req.url ?? '/', 'http://camcast.invalid').searchParams.get('advance_headers');
  } catch {
    // A URL the routes could not read never gets here; anything else counts as not asked.
  }
  if (asked) return /^(1|true|yes)$/i.test(asked);
  const dest = req.headers['sec-fetch-dest'];
  return typeof dest === 'string' && SHOWN_BY_BROWSER.has(dest);
}
