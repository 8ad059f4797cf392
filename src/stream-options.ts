import { checkBroadcasterOptions } from './broadcaster-options.js';
import { CamcastError } from './errors.js';
import { compileTrustProxy } from './http/trust-proxy.js';
import type { LiveStreamOptions } from './live-stream.js';
import { checkDelay, checkNumber, describeValue } from './option-checks.js';
import { checkOpenSourceOptions } from './sources/index.js';
import { isSource } from './sources/source.js';

/**
 * The checks stream() and createServer() share, run before anything opens or starts, so a bad
 * value fails at construction as one BAD_OPTION line that names it, not later as a TypeError
 * from inside a retry or as silent nonsense (a negative limit that means "none").
 */

/** The `source` of stream() or createServer(): a Source, or a spec string openSource() reads. */
export function checkSourceOption(source: unknown): void {
  if (isSource(source) || typeof source === 'string') return;
  throw new CamcastError(
    'BAD_OPTION',
    `source must be a Source (an object with start() and stop()) or a source spec string such as 'test', '/dev/video0', 'clip.mp4' or a URL (got ${describeValue(source)})`,
  );
}

/**
 * Every LiveStreamOptions field, including the source options a Source object or the test
 * pattern never reads: written down, a value is checked whether or not this source uses it.
 */
export function checkLiveStreamOptions(o: LiveStreamOptions): void {
  checkBroadcasterOptions(o);
  checkOpenSourceOptions(o);
  // 0 would fail every snapshot of an idle source at once.
  checkDelay('snapshotTimeoutMs', o.snapshotTimeoutMs, 1);
  checkDelay('sendTimeoutMs', o.sendTimeoutMs);
  checkNumber('maxViewers', o.maxViewers, { integer: true });
  if (o.processMetrics !== undefined && typeof o.processMetrics !== 'boolean') {
    throw new CamcastError('BAD_OPTION', `processMetrics must be true or false (got ${describeValue(o.processMetrics)})`);
  }
  compileTrustProxy(o.trustProxy);
}
