import { preciseNow } from '../frame.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { encodeJpeg } from '../raster/encode-jpeg.js';
import { TestCard } from '../raster/test-card.js';
import { validateEncodeOptions, type EncodeOptions } from './encode-options.js';
import { FrameClock } from './frame-clock.js';
import type { FrameSink, Source } from './source.js';
import { checkLogger, checkOptionsObject } from '../option-checks.js';

export interface TestPatternOptions extends EncodeOptions {
  readonly logger?: Logger;
}

/**
 * A live picture made in-process (see TestCard), so camcast streams something on a machine with
 * no camera and no ffmpeg.
 */
export function testPattern(options: TestPatternOptions = {}): Source {
  checkOptionsObject('testPattern', options, '{ width: 640, height: 480, fps: 30 }');
  validateEncodeOptions(options);
  checkLogger(options.logger);
  return new TestPatternSource(options);
}

class TestPatternSource implements Source {
  readonly kind = 'test' as const;
  readonly description: string;
  readonly frameIntervalMs: number;
  readonly #width: number;
  readonly #height: number;
  readonly #fps: number;
  readonly #quality: number;
  readonly #logger: Logger;
  #clock: FrameClock | undefined;
  #sink: FrameSink | undefined;
  #card: TestCard | undefined;
  #count = 0;
  #encoding: Promise<void> | undefined;
  #busyTicks = 0;

  constructor({ width = 640, height = 480, fps = 30, quality = 80, logger = silentLogger }: TestPatternOptions) {
    this.#width = width;
    this.#height = height;
    this.#fps = fps;
    this.#quality = quality;
    this.#logger = logger;
    this.description = `test pattern ${width}x${height} @ ${fps} fps`;
    this.frameIntervalMs = 1000 / fps;
  }

  async start(sink: FrameSink): Promise<void> {
    if (this.#clock) return;
    this.#sink = sink;
    this.#card ??= new TestCard(this.#width, this.#height, this.#fps);
    // The first picture at once: at a slow rate (fps 0.1) a viewer would wait a whole interval.
    this.#clock = new FrameClock(this.#fps, () => this.#tick(), { immediate: true });
    this.#clock.start();
  }

  async stop(): Promise<void> {
    this.#clock?.stop();
    this.#clock = undefined;
    this.#sink = undefined;
    await this.#encoding;
  }

  #tick(): void {
    // One encode at a time: if the machine cannot keep up, produce fewer frames instead of
    // queueing encodes (and their pixel buffers) without bound.
    if (this.#encoding) {
      this.#busyTicks++;
      if (this.#busyTicks === 1 || this.#busyTicks % 300 === 0) {
        this.#logger.debug(`test pattern: encoder busy, skipped ${this.#busyTicks} ticks`);
      }
      return;
    }
    const capturedAt = preciseNow();
    const card = this.#card!;
    const sink = this.#sink;
    this.#count++;
    try {
      card.draw(this.#count, capturedAt);
    } catch (err) {
      // A throw inside a timer would take the whole process down; the source fails instead.
      this.#clock?.stop();
      this.#clock = undefined;
      this.#sink = undefined;
      sink?.failed(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.#encoding = encodeJpeg({ data: card.pixels, width: this.#width, height: this.#height, channels: 3 }, this.#quality)
      .then((jpeg) => {
        if (this.#sink === sink && sink) sink.frame({ jpeg, capturedAt, width: this.#width, height: this.#height });
      })
      .catch((err: unknown) => {
        // Not this.stop(): it awaits this very promise.
        if (this.#sink !== sink || !sink) return;
        this.#clock?.stop();
        this.#clock = undefined;
        this.#sink = undefined;
        sink.failed(err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        this.#encoding = undefined;
      });
  }
}
