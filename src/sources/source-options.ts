import { CamcastError } from '../errors.js';
import { checkDelay, checkLogger, checkNumber, checkText, describeValue } from '../option-checks.js';

/** Options several source factories share, checked the same way wherever they appear. */
interface SharedOptions {
  readonly ffmpegPath?: unknown;
  readonly loop?: unknown;
  readonly startTimeoutMs?: unknown;
  readonly stallTimeoutMs?: unknown;
  readonly probeTimeoutMs?: unknown;
  readonly checkTimeoutMs?: unknown;
  readonly maxFrameBytes?: unknown;
  readonly logger?: unknown;
}

/**
 * Throws BAD_OPTION, naming the option, for a shared option of the wrong type or out of range:
 * a NaN or negative timeout would otherwise fire at once (Node turns it into 1 ms), and a string
 * `loop: 'false'` would be truthy.
 */
export function checkSharedOptions(options: SharedOptions): void {
  const { ffmpegPath, loop, startTimeoutMs, stallTimeoutMs, probeTimeoutMs, checkTimeoutMs, maxFrameBytes, logger } = options;
  if (ffmpegPath !== undefined) checkText('ffmpegPath', ffmpegPath, "'/usr/bin/ffmpeg'");
  if (loop !== undefined && typeof loop !== 'boolean') {
    throw new CamcastError('BAD_OPTION', `loop must be true or false (got ${describeValue(loop)})`);
  }
  checkDelay('startTimeoutMs', startTimeoutMs as number | undefined, 1);
  // 0 turns stall detection off, as everywhere else.
  checkDelay('stallTimeoutMs', stallTimeoutMs as number | undefined);
  checkDelay('probeTimeoutMs', probeTimeoutMs as number | undefined, 1);
  checkDelay('checkTimeoutMs', checkTimeoutMs as number | undefined, 1);
  checkNumber('maxFrameBytes', maxFrameBytes as number | undefined, { min: 1, integer: true });
  checkLogger(logger);
}
