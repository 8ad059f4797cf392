import type { Canvas, Rgb } from './canvas.js';

/** The seven 75 % colour bars of analogue test cards: white, yellow, cyan, green, magenta, red, blue. */
const BARS: readonly Rgb[] = [
  [192, 192, 192],
  [192, 192, 0],
  [0, 192, 192],
  [0, 192, 0],
  [192, 0, 192],
  [192, 0, 0],
  [0, 0, 192],
];

/** Paints the bars across the full width, from the top down to `height`. */
export function drawColourBars(canvas: Canvas, height: number): void {
  const { width } = canvas;
  for (let i = 0; i < BARS.length; i++) {
    const x0 = Math.round((i * width) / BARS.length);
    const x1 = Math.round(((i + 1) * width) / BARS.length);
    canvas.fillRect(x0, 0, x1 - x0, height, BARS[i]!);
  }
}
