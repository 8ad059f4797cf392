import { CamcastError } from '../errors.js';
import { describeValue } from '../option-checks.js';

/** Where camcast encodes and no quality is asked: the default of libjpeg's cjpeg and of sharp. */
export const DEFAULT_QUALITY = 80;

/** How far apart frames come at `fps` (Source.frameIntervalMs); undefined when no rate is set. */
export function frameIntervalOf(fps: number | undefined): number | undefined {
  return fps === undefined ? undefined : 1000 / fps;
}

/** What a viewer asks of any source camcast encodes: size, rate and JPEG quality. */
export interface EncodeOptions {
  readonly width?: number;
  readonly height?: number;
  /** Frames per second to produce (or to cap to, for sources with their own rate). */
  readonly fps?: number;
  /** JPEG quality 1-100, as in libjpeg and sharp. */
  readonly quality?: number;
}

/** Throws BAD_OPTION, naming the option and its range, for values ffmpeg would reject or misread. */
export function validateEncodeOptions({ width, height, fps, quality }: EncodeOptions): void {
  const check = (name: string, value: number | undefined, ok: (v: number) => boolean, range: string) => {
    if (value === undefined || ok(value)) return;
    throw new CamcastError('BAD_OPTION', `${name} must be ${range}, got ${describeValue(value)}`);
  };
  const size = (v: number) => Number.isInteger(v) && v >= 16 && v <= 16384;
  check('width', width, size, 'an integer from 16 to 16384');
  check('height', height, size, 'an integer from 16 to 16384');
  check('fps', fps, (v) => Number.isFinite(v) && v > 0 && v <= 240, 'a number above 0 and at most 240');
  check('quality', quality, (v) => Number.isInteger(v) && v >= 1 && v <= 100, 'an integer from 1 to 100');
}
