import { CamcastError } from '../errors.js';
import { describeValue } from '../option-checks.js';

/**
 * The origin CORS headers allow, as browsers compare it: `*`, or `scheme://host[:port]` exactly
 * as the browser's Origin header spells it. A trailing slash, a path or a default port would
 * never match that header, so a page's fetch() would fail with nothing in camcast's log; they
 * are normalised away (through URL.origin), and anything that is no origin at all is refused.
 */
export function corsOrigin(value: string, name = 'cors'): string {
  if (typeof value !== 'string') throw new CamcastError('BAD_OPTION', `${name} must be a string: * or an origin such as https://dash.example:8123 (got ${describeValue(value)})`);
  const given = value.trim();
  if (given === '*') return given;
  let url: URL | undefined;
  try {
    url = new URL(given);
  } catch {
    url = undefined;
  }
  const pathOnlySlash = url !== undefined && (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '';
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '' || !pathOnlySlash) {
    throw new CamcastError('BAD_OPTION', `${name} must be * or an origin such as https://dash.example:8123 (scheme://host[:port], no path) (got '${value}')`);
  }
  return url.origin;
}

/**
 * The library's `cors` option: one origin or `*` as a string, or a list of origins. Returns the
 * origins normalised (see corsOrigin) and without repeats; ['*'] means any origin.
 */
export function corsOrigins(value: string | readonly string[], name = 'cors'): readonly string[] {
  if (typeof value === 'string') {
    // The CLI splits --cors at commas; a library string is one origin, and a list is an array.
    if (value.includes(',')) {
      throw new CamcastError('BAD_OPTION', `${name} takes one origin per string; for several, pass an array, e.g. ['https://a.example', 'http://b.local:8123'] (got '${value}')`);
    }
    return [corsOrigin(value, name)];
  }
  if (!Array.isArray(value)) {
    throw new CamcastError('BAD_OPTION', `${name} must be a string: * or an origin such as https://dash.example:8123, or an array of origins (got ${describeValue(value)})`);
  }
  if (value.length === 0) {
    throw new CamcastError('BAD_OPTION', `${name} must list at least one origin, e.g. ['https://dash.example:8123'], or be '*' for any; to send no CORS headers, leave it out`);
  }
  return uniqueOrigins(
    value.map((origin) => corsOrigin(origin, `each of ${name}`)),
    name,
  );
}

/**
 * Normalised origins without repeats. `*` among named origins is refused: it would allow every
 * origin, so the names would be a mistake, and it cannot be answered with a named origin.
 */
export function uniqueOrigins(origins: readonly string[], name: string): readonly string[] {
  const unique = [...new Set(origins)];
  if (unique.length > 1 && unique.includes('*')) {
    throw new CamcastError('BAD_OPTION', `${name} takes * alone (any origin) or a list of origins without * (got '${unique.join(',')}')`);
  }
  return unique;
}
