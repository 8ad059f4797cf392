import { readFileSync } from 'node:fs';
import type { FrameInput } from '../frame.js';
import { openSource } from '../sources/index.js';
import { FrameClock } from '../sources/frame-clock.js';
import type { Source } from '../sources/source.js';
import { FIXTURE_QUALITY } from './fixture.js';

/**
 * What the bench's servers send. `push` (the default) is one fixed JPEG pushed at the bench's
 * rate: every frame costs the same, so fan-out alone is measured. Any other spec is a camcast
 * source as the CLI's `--source` takes it (test, a camera, a file, a URL), asked for the bench's
 * size, rate and quality, so a user can measure what their own camera or file costs.
 */

export interface BenchPicture {
  /** `push` or a camcast source spec. */
  readonly source: string;
  /** The JPEG `push` sends; unused by the other specs. */
  readonly jpegPath: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** How long a live source may take to send its first frame before the bench gives up on it. */
export const FIRST_FRAME_TIMEOUT_MS = 30_000;

/** A camcast source for any spec but `push`, with the bench's size, rate and quality. */
export function openLiveSource({ source, width, height, fps }: BenchPicture): Source {
  return openSource(source, { width, height, fps, quality: FIXTURE_QUALITY, loop: true, startTimeoutMs: FIRST_FRAME_TIMEOUT_MS }).source;
}

export function pushDescription(p: BenchPicture, jpegBytes: number): string {
  return `one ${p.width}x${p.height} JPEG of ${jpegBytes} bytes pushed at ${p.fps} fps`;
}

/**
 * A live spec's source checked before anything is built or started (the file plays, the camera
 * exists), so a typo is one line at once instead of a table of failed points. Returns its
 * description.
 */
export async function checkLiveSource(p: BenchPicture): Promise<string> {
  const source = openLiveSource(p);
  await source.check?.();
  return source.description;
}

/** The fixed JPEG ticked at the bench's rate from a drift-free clock (not started). */
export function pushClock(p: BenchPicture, tick: (jpeg: Buffer) => void): { clock: FrameClock; description: string } {
  const jpeg = readFileSync(p.jpegPath);
  return { clock: new FrameClock(p.fps, () => tick(jpeg)), description: pushDescription(p, jpeg.length) };
}

/**
 * Runs a live source for the reference server, which has no broadcaster, and resolves at its
 * first frame, as the camcast server waits for its own: both are ready with the source warm.
 * A source that fails later ends the reference's run (`onFailure`), as it ends camcast's.
 */
export async function runLiveSource(
  source: Source,
  onFrame: (frame: FrameInput) => void,
  onFailure: (error: Error) => void,
): Promise<void> {
  let first: (() => void) | undefined;
  const gotFirst = new Promise<void>((resolve) => (first = resolve));
  await source.start({
    frame: (frame) => {
      first?.();
      first = undefined;
      onFrame(frame);
    },
    failed: onFailure,
    ended: () => onFailure(new Error('the source ended')),
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      gotFirst,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no frame within ${FIRST_FRAME_TIMEOUT_MS / 1000} s`)), FIRST_FRAME_TIMEOUT_MS))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
