import { CamcastError } from '../errors.js';
import { redactSecrets } from './redact.js';

/** The URL schemes url() reads, lower case and with their colon, as URL.protocol gives them. */
export const URL_SCHEMES: ReadonlySet<string> = new Set(['rtsp:', 'rtsps:', 'http:', 'https:']);

/** The port a URL of one of those schemes means when it names none. */
const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443, 'rtsp:': 554, 'rtsps:': 322 };

/** The URL's port, or its scheme's default (undefined for a scheme camcast does not read). */
export function portOf(target: URL): number | undefined {
  return target.port === '' ? DEFAULT_PORTS[target.protocol] : Number(target.port);
}

/**
 * The one BAD_OPTION for a URL camcast does not read, whether it came through openSource(),
 * url() or ffmpeg-args; `where` says how it was given ("--source ").
 */
export function unsupportedScheme(url: string, where = ''): CamcastError {
  return new CamcastError('BAD_OPTION', `unsupported URL scheme in ${where}${redactSecrets(url)}: use rtsp://, rtsps://, http:// or https://`);
}
