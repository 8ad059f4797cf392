import { Canvas, type Rgb } from './canvas.js';
import { drawColourBars } from './colour-bars.js';

const WHITE: Rgb = [255, 255, 255];
const GREY: Rgb = [200, 200, 200];
const PANEL: Rgb = [16, 16, 16];
const ORANGE: Rgb = [255, 128, 0];

interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/**
 * The test pattern's picture: colour bars, a grey scale, a block sweeping left and right once
 * every two seconds, and a panel with a clock (milliseconds), a frame counter, the size and the
 * name. Every frame differs, so a person or a test sees at a glance that frames are live.
 *
 * Everything that never changes is drawn once into a background. A frame repaints only what
 * moves: the block's old and new places and the two changing lines of text, each first restored
 * from the background. That is a few hundred microseconds of JavaScript at 1080p, where
 * redrawing the whole picture cost milliseconds of the event loop that feeds every viewer.
 */
export class TestCard {
  readonly width: number;
  readonly height: number;
  readonly #fps: number;
  readonly #background: Canvas;
  readonly #canvas: Canvas;
  readonly #scale: number;
  readonly #block: number;
  readonly #blockY: number;
  /** Where the clock and the frame counter go. */
  readonly #lines: readonly Rect[];
  #blockAt: Rect | undefined;

  constructor(width: number, height: number, fps: number) {
    this.width = width;
    this.height = height;
    this.#fps = fps;
    const barHeight = Math.round(height * 0.67);
    this.#block = Math.max(8, Math.round(height / 8));
    this.#blockY = barHeight - this.#block;
    this.#scale = Math.max(1, Math.floor(height / 140));

    const background = new Canvas(width, height);
    drawColourBars(background, barHeight);
    const steps = 16;
    for (let i = 0; i < steps; i++) {
      const v = Math.round((i * 255) / (steps - 1));
      const x0 = Math.round((i * width) / steps);
      const x1 = Math.round(((i + 1) * width) / steps);
      background.fillRect(x0, barHeight, x1 - x0, height - barHeight, [v, v, v]);
    }

    // The panel: the two changing lines keep their width ("12:34:56.789", a 7-digit counter).
    const scale = this.#scale;
    const texts = [clockText(0), frameText(0), `${width}X${height} @ ${fps} FPS`, 'CAMCAST TEST PATTERN'];
    const lineHeight = Canvas.textHeight(scale) + 3 * scale;
    const panelWidth = Math.max(...texts.map((t) => Canvas.textWidth(t, scale))) + 4 * scale;
    const panelHeight = texts.length * lineHeight + scale;
    const px = Math.round((width - panelWidth) / 2);
    const py = Math.round((barHeight - panelHeight) / 2);
    background.fillRect(px, py, panelWidth, panelHeight, PANEL);
    const lineAt = (i: number, text: string): Rect => ({
      x: px + 2 * scale,
      y: py + 2 * scale + i * lineHeight,
      w: Canvas.textWidth(text, scale),
      h: Canvas.textHeight(scale),
    });
    for (const i of [2, 3]) background.drawText(texts[i]!, lineAt(i, texts[i]!).x, lineAt(i, texts[i]!).y, scale, GREY);
    this.#lines = [lineAt(0, texts[0]!), lineAt(1, texts[1]!)];
    this.#background = background;
    this.#canvas = new Canvas(width, height);
    this.#canvas.copyFrom(background);
  }

  /** The picture's RGB bytes. draw() changes them in place: copy or encode before the next draw(). */
  get pixels(): Buffer {
    return this.#canvas.pixels;
  }

  /** Paints frame number `count`, captured at `capturedAt` (epoch ms). */
  draw(count: number, capturedAt: number): void {
    const canvas = this.#canvas;
    const period = 2 * this.#fps;
    const phase = (count % period) / period;
    const travel = this.width - this.#block;
    const x = Math.round(phase < 0.5 ? phase * 2 * travel : (1 - phase) * 2 * travel);
    const block = { x, y: this.#blockY, w: this.#block, h: this.#block };
    if (this.#blockAt) canvas.copyRect(this.#background, this.#blockAt);
    canvas.fillRect(block.x, block.y, block.w, block.h, ORANGE);
    this.#blockAt = block;

    const [clock, counter] = this.#lines as [Rect, Rect];
    canvas.copyRect(this.#background, clock);
    canvas.drawText(clockText(capturedAt), clock.x, clock.y, this.#scale, WHITE);
    canvas.copyRect(this.#background, counter);
    canvas.drawText(frameText(count), counter.x, counter.y, this.#scale, GREY);
  }
}

function frameText(count: number): string {
  return `FRAME ${String(count % 1e7).padStart(7, '0')}`;
}

/** UTC time of day with milliseconds: "12:34:56.789". */
function clockText(epochMs: number): string {
  const d = new Date(epochMs);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`;
}
