import { CamcastError } from './errors.js';

/**
 * Range checks for the library's numeric options, so a bad value fails where it is given, as a
 * BAD_OPTION naming the option, instead of deep inside Node (a RangeError from listen()) or as
 * silent nonsense (a negative viewer limit that means "no limit").
 */
export function checkNumber(name: string, value: number | undefined, { min = 0, max = Number.MAX_SAFE_INTEGER, integer = false } = {}): void {
  if (value === undefined) return;
  const ok = typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value)) && value >= min && value <= max;
  if (!ok) throw new CamcastError('BAD_OPTION', `${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got ${describe(value)})`);
}

/** A required non-empty string option. */
export function checkText(name: string, value: unknown, example: string): void {
  if (typeof value !== 'string' || value === '') throw new CamcastError('BAD_OPTION', `${name} must be a non-empty string, e.g. ${example} (got ${describe(value)})`);
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value);
}
