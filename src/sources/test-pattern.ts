import { preciseNow } from '../frame.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { Canvas, type Rgb } from '../raster/canvas.js';
import { drawColourBars } from '../raster/colour-bars.js';
import { encodeJpeg } from '../raster/encode-jpeg.js';
import { validateEncodeOptions, type EncodeOptions } from './encode-options.js';
import { FrameClock } from './frame-clock.js';
import type { FrameSink, Source } from './source.js';

export interface TestPatternOptions extends EncodeOptions {
  readonly logger?: Logger;
}

const WHITE: Rgb = [255, 255, 255];
const PANEL: Rgb = [16, 16, 16];
const ORANGE: Rgb = [255, 128, 0];

/**
 * A live picture made in-process, so camcast streams something on a machine with no camera and
 * no ffmpeg. Every frame differs (a moving block, a clock with milliseconds, a frame counter),
 * which lets a person or a test see at a glance that frames are live and how late they are.
 */
export function testPattern(options: TestPatternOptions = {}): Source {
  validateEncodeOptions(options);
  return new TestPatternSource(options);
}

class TestPatternSource implements Source {
  readonly kind = 'test' as const;
  readonly description: string;
  readonly #width: number;
  readonly #height: number;
  readonly #fps: number;
  readonly #quality: number;
  readonly #logger: Logger;
  #clock: FrameClock | undefined;
  #sink: FrameSink | undefined;
  #background: Canvas | undefined;
  #canvas: Canvas | undefined;
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
  }

  async start(sink: FrameSink): Promise<void> {
    if (this.#clock) return;
    this.#sink = sink;
    this.#background ??= drawBackground(this.#width, this.#height);
    this.#canvas ??= new Canvas(this.#width, this.#height);
    this.#clock = new FrameClock(this.#fps, () => this.#tick());
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
    const canvas = this.#canvas!;
    const sink = this.#sink;
    this.#count++;
    try {
      drawFrame(canvas, this.#background!, this.#count, capturedAt, this.#fps);
    } catch (err) {
      // A throw inside a timer would take the whole process down; the source fails instead.
      this.#clock?.stop();
      this.#clock = undefined;
      this.#sink = undefined;
      sink?.failed(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.#encoding = encodeJpeg({ data: canvas.pixels, width: this.#width, height: this.#height, channels: 3 }, this.#quality)
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

function drawBackground(width: number, height: number): Canvas {
  const canvas = new Canvas(width, height);
  const barHeight = Math.round(height * 0.67);
  drawColourBars(canvas, barHeight);
  const steps = 16;
  for (let i = 0; i < steps; i++) {
    const v = Math.round((i * 255) / (steps - 1));
    const x0 = Math.round((i * width) / steps);
    const x1 = Math.round(((i + 1) * width) / steps);
    canvas.fillRect(x0, barHeight, x1 - x0, height - barHeight, [v, v, v]);
  }
  return canvas;
}

function drawFrame(canvas: Canvas, background: Canvas, count: number, capturedAt: number, fps: number): void {
  const { width, height } = canvas;
  canvas.copyFrom(background);

  // A block sweeping left and right once every two seconds: motion is visible at any size.
  const block = Math.max(8, Math.round(height / 8));
  const period = 2 * fps;
  const phase = (count % period) / period;
  const travel = width - block;
  const x = Math.round(phase < 0.5 ? phase * 2 * travel : (1 - phase) * 2 * travel);
  canvas.fillRect(x, Math.round(height * 0.67) - block, block, block, ORANGE);

  const scale = Math.max(1, Math.floor(height / 140));
  const lines = [
    clockText(capturedAt),
    `FRAME ${String(count).padStart(7, '0')}`,
    `${width}X${height} @ ${fps} FPS`,
    'CAMCAST TEST PATTERN',
  ];
  const lineHeight = Canvas.textHeight(scale) + 3 * scale;
  const panelWidth = Math.max(...lines.map((l) => Canvas.textWidth(l, scale))) + 4 * scale;
  const panelHeight = lines.length * lineHeight + scale;
  const px = Math.round((width - panelWidth) / 2);
  const py = Math.round((height * 0.67 - panelHeight) / 2);
  canvas.fillRect(px, py, panelWidth, panelHeight, PANEL);
  lines.forEach((line, i) => {
    canvas.drawText(line, px + 2 * scale, py + 2 * scale + i * lineHeight, scale, i === 0 ? WHITE : [200, 200, 200]);
  });
}

/** UTC time of day with milliseconds: "12:34:56.789". */
function clockText(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}
