/** One encoded picture as it travels from a source to every viewer. Never copied per viewer. */
export interface Frame {
  /** A complete JPEG, SOI to EOI. Shared by all viewers: never mutate it. */
  readonly jpeg: Buffer;
  /** 1, 2, 3... per broadcaster, so a viewer can tell how many frames it skipped. */
  readonly seq: number;
  /** Wall-clock capture time in milliseconds since the epoch, with sub-millisecond precision. */
  readonly capturedAt: number;
  readonly width?: number;
  readonly height?: number;
  /** True for the generated picture shown while the source is down. */
  readonly noSignal?: boolean;
}

/** What a source hands over; the broadcaster stamps `seq`. */
export interface FrameInput {
  readonly jpeg: Buffer;
  readonly capturedAt?: number;
  readonly width?: number;
  readonly height?: number;
}

/**
 * Wall clock with sub-millisecond precision. Date.now() is whole milliseconds, too coarse to
 * measure latency below one frame interval.
 */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
