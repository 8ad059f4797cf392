import { CamcastError } from '../errors.js';

/**
 * The origin CORS headers allow, as browsers compare it: `*`, or `scheme://host[:port]` exactly
 * as the browser's Origin header spells it. A trailing slash, a path or a default port would
 * never match that header, so a page's fetch() would fail with nothing in camcast's log; they
 * are normalised away (through URL.origin), and anything that is no origin at all is refused.
 */
export function corsOrigin(value: string, name = 'cors'): string {
  if (typeof value !== 'string') throw new CamcastError('BAD_OPTION', `${name} must be a string: * or an origin such as https://dash.example:8123 (got ${String(value)})`);
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
