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
  readonly #panel: Rect;
  /** The panel's four lines: clock, frame counter, size, name. */
  readonly #lines: readonly Rect[];
  readonly #fixedText: readonly string[];
  readonly #incremental: boolean;
  #blockAt: Rect | undefined;

  /** `incremental: false` repaints the whole picture every frame (the reference the tests hold the fast path to). */
  constructor(width: number, height: number, fps: number, { incremental = true }: { incremental?: boolean } = {}) {
    this.#incremental = incremental;
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
    const py = Math.round((height * 0.67 - panelHeight) / 2);
    this.#panel = { x: px, y: py, w: panelWidth, h: panelHeight };
    this.#lines = texts.map((text, i) => ({
      x: px + 2 * scale,
      y: py + 2 * scale + i * lineHeight,
      w: Canvas.textWidth(text, scale),
      h: Canvas.textHeight(scale),
    }));
    this.#fixedText = texts.slice(2);
    this.#background = background;
    this.#drawPanel(background, []);
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
    if (!this.#incremental) canvas.copyFrom(this.#background);
    else if (this.#blockAt) canvas.copyRect(this.#background, this.#blockAt);
    canvas.fillRect(block.x, block.y, block.w, block.h, ORANGE);
    this.#blockAt = block;

    const changing = [clockText(capturedAt), frameText(count)];
    // The panel lies over the block. Only on small pictures do they meet; then the whole panel
    // is painted again, otherwise just the two changing lines on their patch of background.
    if (!this.#incremental || overlaps(block, this.#panel)) {
      this.#drawPanel(canvas, changing);
      return;
    }
    for (const [i, text] of changing.entries()) {
      const line = this.#lines[i]!;
      canvas.copyRect(this.#background, line);
      canvas.drawText(text, line.x, line.y, this.#scale, i === 0 ? WHITE : GREY);
    }
  }

  /** The panel with its fixed lines and, when given, the clock and the counter. */
  #drawPanel(canvas: Canvas, changing: readonly string[]): void {
    const { x, y, w, h } = this.#panel;
    canvas.fillRect(x, y, w, h, PANEL);
    const texts = [changing[0], changing[1], ...this.#fixedText];
    for (const [i, text] of texts.entries()) {
      if (text !== undefined) canvas.drawText(text, this.#lines[i]!.x, this.#lines[i]!.y, this.#scale, i === 0 ? WHITE : GREY);
    }
  }
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
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
