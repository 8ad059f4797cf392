import type { FrameInput } from '../frame.js';

export type SourceKind = 'test' | 'camera' | 'picamera' | 'file' | 'url' | 'push';

/** Where a running source delivers. Calls are synchronous and must never throw back. */
export interface FrameSink {
  /** A new complete JPEG. */
  frame(frame: FrameInput): void;
  /**
   * The source died after it had started (process exit, stall, upstream gone). The owner
   * decides whether to restart; the source is already stopped when this is called.
   */
  failed(error: Error): void;
  /** The source ran out of input (a file played with loop off). Also already stopped. */
  ended(): void;
}

/**
 * A producer of JPEG frames that knows nothing of HTTP or viewers.
 * `start` resolves once the source runs and rejects when it cannot start at all;
 * `stop` is idempotent and resolves once every process, socket and timer is released.
 */
export interface Source {
  readonly kind: SourceKind;
  /** For humans: "/dev/video0 (camera)", "test pattern 640x480 @ 30 fps". */
  readonly description: string;
  /**
   * How far apart its frames are meant to come (1000 / fps) where it keeps a rate of its own: a
   * stall is then declared only after twice that, however short the stall timeout (a snapshot
   * polled every 10 s is not stalled after 5 s).
   */
  readonly frameIntervalMs?: number;
  /**
   * Optional cheap preflight the CLI runs before listening (device exists, file plays, host
   * reachable), so a typo fails at once with one clear line instead of at the first viewer.
   * When `signal` aborts (the user pressed Ctrl-C) it closes what it opened and rejects at once
   * with `signal.reason`.
   */
  check?(signal?: AbortSignal): Promise<void>;
  start(sink: FrameSink): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Whether a value can serve as a Source. A plain-JS caller can pass anything (a number, `{}`, a
 * spec string where only objects are taken), which would fail later, at the first start, as a
 * TypeError that names nothing.
 */
export function isSource(value: unknown): value is Source {
  const source = value as Partial<Source> | null;
  return typeof source === 'object' && source !== null && typeof source.start === 'function' && typeof source.stop === 'function';
}
