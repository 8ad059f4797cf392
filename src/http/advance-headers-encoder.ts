import type { IncomingMessage } from 'node:http';
import type { Frame } from '../frame.js';
import { PartEncoder } from './part-encoder.js';

/**
 * The layout for a browser that shows the stream (an <img>, or the stream's URL opened in a
 * tab, which Chromium shows with the same machinery). Chromium shows a multipart part only
 * when the headers of the part after it arrive (crbug.com/527446), so with MultipartEncoder's
 * layout a browser shows every frame one frame late: 33 ms at 30 fps, but a whole interval for
 * a slow source (a camera polled twice a second, a pipeline that pushes a frame now and then).
 * Here each frame is followed at once by the next part's headers, and Chromium shows it. Those
 * headers cannot say the next frame's Content-Length, X-Timestamp or X-Frame-Seq, which a
 * browser has no use for. µStreamer offers the same as ?advance_headers=1. The delimiter is the
 * only end a body has here, so a frame holding it could not be sent at all (PartEncoder.part).
 */
export class AdvanceHeadersEncoder extends PartEncoder {
  /** The delimiter and the headers of the first part. */
  readonly preamble: Buffer;
  /** The part opened after the last frame stays empty: the close delimiter follows. */
  readonly ending: Buffer;
  readonly #tail: Buffer;

  constructor(boundary = 'camcastframe') {
    super(boundary);
    this.preamble = Buffer.from(`--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`);
    this.#tail = Buffer.from(`\r\n--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`);
    this.ending = Buffer.from(`\r\n--${boundary}--\r\n`);
  }

  protected build(frame: Frame): Buffer {
    return Buffer.concat([frame.jpeg, this.#tail]);
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
