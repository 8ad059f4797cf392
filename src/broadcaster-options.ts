import { CamcastError } from './errors.js';
import type { Logger } from './logger.js';
import { checkDelay, checkLogger, checkOptionsObject, checkRestartDelays, describeValue } from './option-checks.js';
import { isSource, type Source } from './sources/source.js';

export interface BroadcasterOptions {
  /** Keep capturing this long after the last viewer leaves, so a reload reuses the capture. 0 = never stop. */
  readonly idleTimeoutMs?: number;
  readonly stallTimeoutMs?: number;
  readonly restartDelaysMs?: readonly number[];
  readonly logger?: Logger;
}

/** The options of a Broadcaster, also those stream() and createServer() pass to theirs. */
export function checkBroadcasterOptions(o: BroadcasterOptions): void {
  // 0 means never stop (idle) and never restart a silent source (stall): both valid.
  checkDelay('idleTimeoutMs', o.idleTimeoutMs);
  checkDelay('stallTimeoutMs', o.stallTimeoutMs);
  checkRestartDelays(o.restartDelaysMs);
  checkLogger(o.logger);
}

/**
 * What `new Broadcaster(source, options)` was given, checked before anything is built: a plain-JS
 * caller's number, `{}` or spec string would otherwise fail at the first start, or on reading
 * `kind`, as a TypeError that names nothing.
 */
export function checkBroadcasterArguments(source: unknown, options: unknown): asserts source is Source {
  if (!isSource(source)) {
    const how =
      typeof source === 'string'
        ? `, not a spec string: open one with openSource(${describeValue(source)}).source, or use stream(${describeValue(source)})`
        : `, e.g. new Broadcaster(testPattern()) (got ${describeValue(source)})`;
    throw new CamcastError('BAD_OPTION', `new Broadcaster() takes a Source (an object with start() and stop())${how}`);
  }
  checkOptionsObject('new Broadcaster', options, 'source, { idleTimeoutMs: 0 }');
  checkBroadcasterOptions(options);
}
