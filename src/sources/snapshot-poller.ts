import type { IncomingMessage } from 'node:http';
import { CamcastError, describeError } from '../errors.js';
import { preciseNow } from '../frame.js';
import { FrameClock } from './frame-clock.js';
import { readJpegSize } from './jpeg-info.js';
import type { FrameSink } from './source.js';

export interface SnapshotPollerOptions {
  /** One GET of the snapshot URL, resolving with the response (headers in, body unread). */
  readonly get: (signal: AbortSignal) => Promise<IncomingMessage>;
  readonly sink: FrameSink;
  readonly label: string;
  /** Polls per second. */
  readonly fps: number;
  readonly maxFrameBytes: number;
  /** One poll, answer and body, must finish within this. */
  readonly timeoutMs: number;
}

/**
 * Turns an IP camera's still-image URL (image/jpeg) into a stream by asking for a new picture
 * `fps` times a second, one request at a time: a slow camera gives fewer frames, never a queue.
 * ffmpeg cannot do this (it reads the image once), and no re-encoding is needed.
 */
export class SnapshotPoller {
  readonly #options: SnapshotPollerOptions;
  readonly #clock: FrameClock;
  #inFlight: AbortController | undefined;
  /** The first answer, handed in by deliver() while its body is read. */
  #first: IncomingMessage | undefined;
  #polling: Promise<void> | undefined;
  #stopped = false;

  constructor(options: SnapshotPollerOptions) {
    this.#options = options;
    this.#clock = new FrameClock(options.fps, () => this.#tick());
  }

  /**
   * Delivers the picture in a response already open (the first GET); rejects if it is none.
   * That answer was opened outside #tick(), so its body gets the same deadline here, and stop()
   * reaches it: a camera that sends the headers and then nothing must not hold start() forever.
   */
  async deliver(response: IncomingMessage): Promise<void> {
    const { timeoutMs, label } = this.#options;
    this.#first = response;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      response.destroy();
    }, timeoutMs);
    let failure: { readonly error: unknown } | undefined;
    try {
      await this.#deliver(response);
    } catch (error) {
      failure = { error };
    } finally {
      clearTimeout(timer);
      this.#first = undefined;
    }
    // A stop() cuts the answer off; that is no fault of the camera's.
    if (this.#stopped) throw new CamcastError('CLOSED', `${label}: stopped before the first picture`);
    if (timedOut) throw new Error(`no picture within ${timeoutMs / 1000} s`);
    if (failure) throw failure.error;
  }

  async #deliver(response: IncomingMessage): Promise<void> {
    const jpeg = await readJpeg(response, this.#options.maxFrameBytes);
    if (!this.#stopped) this.#options.sink.frame({ jpeg, capturedAt: preciseNow(), ...readJpegSize(jpeg) });
  }

  start(): void {
    if (!this.#stopped) this.#clock.start();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#clock.stop();
    this.#inFlight?.abort();
    this.#first?.destroy();
    await this.#polling;
  }

  #tick(): void {
    if (this.#polling || this.#stopped) return;
    const aborter = new AbortController();
    this.#inFlight = aborter;
    const timer = setTimeout(() => aborter.abort(), this.#options.timeoutMs);
    this.#polling = this.#options
      .get(aborter.signal)
      .then((response) => {
        if ((response.statusCode ?? 0) < 200 || (response.statusCode ?? 0) >= 300) {
          response.resume();
          throw new Error(`answered HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trimEnd());
        }
        return this.#deliver(response);
      })
      .catch((error: unknown) => {
        if (this.#stopped) return;
        this.#stopped = true;
        this.#clock.stop();
        const why = aborter.signal.aborted ? `no picture within ${this.#options.timeoutMs / 1000} s` : describeError(error);
        this.#options.sink.failed(new CamcastError('SOURCE_FAILED', `${this.#options.label}: ${why}`));
      })
      .finally(() => {
        clearTimeout(timer);
        this.#polling = undefined;
        if (this.#inFlight === aborter) this.#inFlight = undefined;
      });
  }
}

/** The whole body as one JPEG; rejects (without naming the camera: callers do) on anything else. */
function readJpeg(response: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    response.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        response.destroy();
        reject(new CamcastError('BAD_FRAME', `the picture is larger than ${maxBytes} bytes`));
      } else {
        chunks.push(chunk);
      }
    });
    response.once('error', reject);
    // A connection lost, or destroy() by a deadline or stop(); after 'end' it changes nothing.
    response.once('close', () => reject(new Error('the answer was cut off')));
    response.once('end', () => {
      const jpeg = Buffer.concat(chunks);
      const whole = jpeg.length > 4 && jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[jpeg.length - 2] === 0xff && jpeg[jpeg.length - 1] === 0xd9;
      if (whole) resolve(jpeg);
      else reject(new CamcastError('BAD_FRAME', 'the answer is not a whole JPEG'));
    });
  });
}
