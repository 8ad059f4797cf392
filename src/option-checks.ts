import { CamcastError } from './errors.js';

/**
 * Range checks for the library's numeric options, so a bad value fails where it is given, as a
 * BAD_OPTION naming the option, instead of deep inside Node (a RangeError from listen()) or as
 * silent nonsense (a negative viewer limit that means "no limit").
 */
export function checkNumber(name: string, value: number | undefined, { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = {}): void {
  if (value === undefined) return;
  const what = integer ? 'a whole number' : 'a number';
  if (typeof value === 'string' && (value as string).trim() !== '' && Number.isFinite(Number(value))) {
    // A number read from the environment or a config file, still a string: say that, since
    // "must be a number (got '8080')" would read as a contradiction.
    throw new CamcastError('BAD_OPTION', `${name} must be ${what}, not the string '${value}': convert it, e.g. Number(process.env.PORT)`);
  }
  const ok = typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max;
  if (!ok) throw new CamcastError('BAD_OPTION', `${name} must be ${what} from ${min} to ${max} (got ${describeValue(value)})`);
}

/** The longest delay setTimeout honours; a longer one fires after 1 ms (TimeoutOverflowWarning). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A delay or timeout in ms that setTimeout can keep: from `min` (default 0) to about 24.8 days. */
export function checkDelay(name: string, value: number | undefined, min = 0): void {
  checkNumber(name, value, { min, max: MAX_TIMEOUT_MS });
}

/** A required non-empty string option. */
export function checkText(name: string, value: unknown, example: string): void {
  if (typeof value !== 'string' || value === '') throw new CamcastError('BAD_OPTION', `${name} must be a non-empty string, e.g. ${example} (got ${describeValue(value)})`);
}

/**
 * A bad value as an error message shows it: strings quoted, so '640' is seen to be a string;
 * objects by kind, not as "[object Object]".
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

/**
 * An optional Logger: a plain-JS `logger: {}` or `console.log` would otherwise fail only when
 * there is something to say, as a TypeError from deep inside a retry.
 */
export function checkLogger(value: unknown): void {
  if (value === undefined) return;
  const logger = value as Record<string, unknown> | null;
  const ok = typeof logger === 'object' && logger !== null && ['debug', 'info', 'warn', 'error'].every((level) => typeof logger[level] === 'function');
  if (!ok) throw new CamcastError('BAD_OPTION', 'logger must have debug, info, warn and error functions, e.g. console or a pino logger');
}

/**
 * Delays between restarts of a failing source. Each at least 1 ms: a 0 would retry a source
 * that fails at once in a tight loop, burning a core and flooding the log.
 */
export function checkRestartDelays(value: unknown): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.length === 0) {
    throw new CamcastError('BAD_OPTION', 'restartDelaysMs must be a non-empty list of delays in ms, e.g. [1000, 5000, 30000]');
  }
  for (const delay of value) checkDelay('each of restartDelaysMs', delay as number, 1);
}

/**
 * Throws BAD_OPTION unless a function was given an options object: `file()`, `camera(null)` or
 * `createServer('test')` would otherwise fail on a property read, with a TypeError that names
 * nothing (or one from deeper down that names the wrong function).
 */
export function checkOptionsObject(fn: string, options: unknown, example: string): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const got = Array.isArray(options) ? 'an array' : describeValue(options);
    throw new CamcastError('BAD_OPTION', `${fn}() takes an options object, e.g. ${fn}(${example}) (got ${got})`);
  }
}
