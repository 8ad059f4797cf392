import { checkBroadcasterOptions } from './broadcaster-options.js';
import { CamcastError } from './errors.js';
import { METRIC_LABEL_NAMES } from './http/metrics.js';
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
  checkMetricsLabels(o.metricsLabels);
  compileTrustProxy(o.trustProxy);
}

/**
 * Constant labels for every camcast_* series: names Prometheus accepts and camcast's own metrics
 * do not use (a repeated name would make prom-client write the label twice), non-empty string
 * values (Prometheus reads an empty one as no label at all, so two streams would look the same).
 */
export function checkMetricsLabels(value: unknown): void {
  if (value === undefined) return;
  const plain = typeof value === 'object' && value !== null && [Object.prototype, null].includes(Object.getPrototypeOf(value) as object | null);
  if (!plain) throw new CamcastError('BAD_OPTION', `metricsLabels must be an object of label names to strings, e.g. { camera: 'front' } (got ${describeValue(value)})`);
  for (const [name, text] of Object.entries(value)) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) || name.startsWith('__')) {
      throw new CamcastError(
        'BAD_OPTION',
        `metricsLabels: '${name}' is no Prometheus label name: use letters, digits and _, not a digit first nor __ (reserved), e.g. { camera: 'front' }`,
      );
    }
    if (METRIC_LABEL_NAMES.includes(name)) {
      throw new CamcastError('BAD_OPTION', `metricsLabels: '${name}' is a label of camcast's own metrics (${METRIC_LABEL_NAMES.join(', ')}): pick another name, e.g. { camera: 'front' }`);
    }
    if (typeof text !== 'string' || text === '') {
      throw new CamcastError('BAD_OPTION', `metricsLabels.${name} must be a non-empty string, e.g. { ${name}: 'front' } (got ${describeValue(text)})`);
    }
  }
}
