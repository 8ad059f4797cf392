import type { FrameSink, Source } from '../sources/source.js';

/** A source driven by the test: it records starts and stops, and frames go out only on demand. */
export class FakeSource implements Source {
  readonly kind = 'test' as const;
  readonly description = 'fake source';
  starts = 0;
  stops = 0;
  /** When set, start() rejects with it. */
  startError: Error | undefined;
  #sink: FrameSink | undefined;

  get running(): boolean {
    return this.#sink !== undefined;
  }

  async start(sink: FrameSink): Promise<void> {
    this.starts++;
    if (this.startError) throw this.startError;
    this.#sink = sink;
  }

  async stop(): Promise<void> {
    if (this.#sink) this.stops++;
    this.#sink = undefined;
  }

  emit(jpeg: Buffer = tinyJpeg(this.starts)): boolean {
    this.#sink?.frame({ jpeg, width: 2, height: 2 });
    return this.#sink !== undefined;
  }

  fail(error: Error): void {
    const sink = this.#sink;
    this.#sink = undefined;
    sink?.failed(error);
  }

  end(): void {
    const sink = this.#sink;
    this.#sink = undefined;
    sink?.ended();
  }
}

/** Not a decodable picture, just SOI ... EOI with a marker byte: enough for paths that only move bytes. */
export function tinyJpeg(mark = 0): Buffer {
  return Buffer.from([0xff, 0xd8, mark & 0xff, 0xff, 0xd9]);
}

/**
 * The smallest JPEG push() accepts (a 2x2 grey frame header, a scan header, one byte of picture
 * data), still not decodable; `mark` goes into the frame header so frames can differ.
 */
export function minimalJpeg(mark = 0): Buffer {
  const scan = [0xff, 0xda, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3f, 0x00, 0x00];
  return Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x02, 0x00, 0x02, 0x01, 0x01, 0x11, mark & 0xff, ...scan, 0xff, 0xd9]);
}

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` every 10 ms until true or `timeoutMs` passes (then throws with `what`). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}
