import { Canvas } from './canvas.js';
import { encodeJpeg } from './encode-jpeg.js';

export interface NoSignalPicture {
  readonly width: number;
  readonly height: number;
  /** Why there is no picture, e.g. "ffmpeg exited with code 1: /dev/video0: No such device". */
  readonly reason: string;
  /** When the trouble began (epoch ms). */
  readonly since: number;
  /** When the next attempt is due (epoch ms); undefined (or past) while an attempt runs. */
  readonly retryAt?: number;
  readonly now?: number;
}

/**
 * The picture viewers see while the source is down, drawn in-process so it needs nothing that
 * might be the broken part. It says what is wrong and since when, like µStreamer's "NO SIGNAL".
 */
export async function drawNoSignal(picture: NoSignalPicture, quality = 75): Promise<Buffer> {
  const { width, height } = picture;
  const canvas = new Canvas(width, height);
  canvas.fillRect(0, 0, width, height, [24, 24, 32]);
  const titleScale = Math.max(2, Math.floor(height / 80));
  const scale = Math.max(1, Math.floor(height / 200));
  let y = Math.round(height * 0.2);
  const title = 'NO SIGNAL';
  canvas.drawText(title, Math.round((width - Canvas.textWidth(title, titleScale)) / 2), y, titleScale, [255, 80, 64]);
  y += Canvas.textHeight(titleScale) * 2;

  const maxChars = Math.max(8, Math.floor((width - 8 * scale) / (6 * scale)));
  for (const line of noSignalLines(picture, maxChars)) {
    canvas.drawText(line, Math.round((width - Canvas.textWidth(line, scale)) / 2), y, scale, [230, 230, 230]);
    y += Canvas.textHeight(scale) + 4 * scale;
  }
  return encodeJpeg({ data: canvas.pixels, width, height, channels: 3 }, quality);
}

/** The picture's text below its title, wrapped to `maxChars` a line. */
export function noSignalLines({ reason, since, retryAt, now = Date.now() }: NoSignalPicture, maxChars: number): string[] {
  return [
    ...wrap(reason, maxChars).slice(0, 6),
    '',
    `SINCE ${clock(since)} UTC (${Math.max(0, Math.round((now - since) / 1000))} S AGO)`,
    retryAt === undefined || retryAt <= now ? 'TRYING AGAIN NOW' : `NEXT TRY IN ${Math.ceil((retryAt - now) / 1000)} S`,
    `NOW ${clock(now)} UTC`,
  ];
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.replace(/\s+/g, ' ').trim().split(' ')) {
    for (let w = word; w.length > 0; w = w.slice(width)) {
      const piece = w.slice(0, width);
      if (line.length === 0) line = piece;
      else if (line.length + 1 + piece.length <= width) line += ' ' + piece;
      else {
        out.push(line);
        line = piece;
      }
    }
  }
  if (line) out.push(line);
  return out;
}

function clock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}
