import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from './font5x7.js';

export type Rgb = readonly [number, number, number];

/**
 * A packed RGB pixel buffer with the few drawing verbs camcast's own pictures need. Writing
 * straight into a Buffer keeps a 720p frame at a few hundred microseconds of JavaScript before
 * the encoder takes it to the thread pool.
 */
export class Canvas {
  readonly width: number;
  readonly height: number;
  readonly pixels: Buffer;

  constructor(width: number, height: number, pixels?: Buffer) {
    this.width = width;
    this.height = height;
    this.pixels = pixels ?? Buffer.alloc(width * height * 3);
  }

  /** Copies another canvas of the same size in one memcpy (used to restore a background). */
  copyFrom(other: Canvas): void {
    other.pixels.copy(this.pixels);
  }

  /** Copies one rectangle of another canvas of the same size into the same place here. */
  copyRect(other: Canvas, { x, y, w, h }: { x: number; y: number; w: number; h: number }): void {
    this.#eachRow(x, y, w, h, (start, end) => other.pixels.copy(this.pixels, start, start, end));
  }

  fillRect(x: number, y: number, w: number, h: number, [r, g, b]: Rgb): void {
    this.#fill(x, y, w, h, Buffer.from([r, g, b]));
  }

  /** Draws text with the 5x7 font, each font pixel a `scale` x `scale` square. */
  drawText(text: string, x: number, y: number, scale: number, [r, g, b]: Rgb): void {
    // One colour buffer for the whole text and one fill per run of ink in a glyph row: drawing
    // allocates nothing per pixel, so it leaves no garbage to collect between frames.
    const color = Buffer.from([r, g, b]);
    const advance = (GLYPH_WIDTH + 1) * scale;
    for (let i = 0; i < text.length; i++) {
      const rows = glyphRows(text[i]!);
      const gx = x + i * advance;
      for (let ry = 0; ry < GLYPH_HEIGHT; ry++) {
        const line = rows[ry]!;
        let rx = 0;
        while (rx < GLYPH_WIDTH) {
          if (line.charCodeAt(rx) !== 35 /* '#' */) {
            rx++;
            continue;
          }
          const start = rx;
          while (rx < GLYPH_WIDTH && line.charCodeAt(rx) === 35) rx++;
          this.#fill(gx + start * scale, y + ry * scale, (rx - start) * scale, scale, color);
        }
      }
    }
  }

  #fill(x: number, y: number, w: number, h: number, color: Buffer): void {
    // Buffer#fill repeats a multi-byte pattern: one native call per row, no per-pixel loop.
    this.#eachRow(x, y, w, h, (start, end) => this.pixels.fill(color, start, end));
  }

  /** Clips a rectangle to the canvas and calls `row` with each of its rows' byte range. */
  #eachRow(x: number, y: number, w: number, h: number, row: (start: number, end: number) => void): void {
    const x0 = Math.max(0, Math.floor(x));
    const y0 = Math.max(0, Math.floor(y));
    const x1 = Math.min(this.width, Math.floor(x + w));
    const y1 = Math.min(this.height, Math.floor(y + h));
    if (x1 <= x0 || y1 <= y0) return;
    for (let yy = y0; yy < y1; yy++) {
      const start = (yy * this.width + x0) * 3;
      row(start, start + (x1 - x0) * 3);
    }
  }

  /** Width in pixels that drawText would cover. */
  static textWidth(text: string, scale: number): number {
    return text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + 1) - 1) * scale;
  }

  static textHeight(scale: number): number {
    return GLYPH_HEIGHT * scale;
  }
}
