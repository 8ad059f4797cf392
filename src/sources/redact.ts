import { CamcastError } from '../errors.js';

/**
 * Secrets in any text a source produces: its description, ffmpeg's stderr (which repeats the
 * input URL in full), Node's error messages. Everything a source says ends up in /api/status, the
 * "no signal" picture every viewer sees, snapshot error bodies and logs, so it is masked where it
 * is produced rather than at each of those places.
 */

/** "scheme://user:" and whatever follows up to the next whitespace; redactSecrets finds the "@". */
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):(\S*)/gi;

/**
 * Query parameters IP cameras and services put secrets in (`snapshot.cgi?user=admin&pwd=...`,
 * `videostream.cgi?loginuse=admin&loginpas=...`, `?token=`). Only after `?`, `&` or `;` and
 * before `=`, so prose such as "password rejected" stays. The value ends before a ":" that ends
 * a word, which is the message's own ("...?token=x: connect ECONNREFUSED").
 */
const SECRET_PARAMS =
  /([?&;](?:password|passwd|passwort|pwd|pass|pw|psw|passcode|loginpas|loginpass|token|access_token|access-token|auth|auth_token|authkey|api_key|apikey|key|secret|signature|sig)=)(?:[^&#;:\s"'<>]|:(?!\s|$))+/gi;

/** Shorter known secrets are not replaced on their own: "pw" would mangle ordinary words. */
const MIN_KNOWN_SECRET = 4;

/**
 * `text` with the password of every `scheme://user:password@` replaced by `***` (the user name
 * stays, it says which account), secret-looking query values masked, and every `known` secret
 * (say, a URL's password decoded) masked wherever it appears.
 */
export function redactSecrets(text: string, known: readonly string[] = []): string {
  let redacted = text.replace(USERINFO, (_match: string, head: string, rest: string) => {
    const end = passwordEnd(rest);
    return end < 0 ? `${head}:${redactSecrets(rest)}` : `${head}:***${redactSecrets(rest.slice(end))}`;
  });
  redacted = redacted.replace(SECRET_PARAMS, '$1***');
  for (const secret of known) {
    if (secret.length >= MIN_KNOWN_SECRET) redacted = redacted.split(secret).join('***');
  }
  return redacted;
}

/**
 * Where the password in `rest` (the text after "scheme://user:") ends, at its "@", or -1 when
 * there is none ("host:554/path" is a port, not a password). The last "@" of the authority wins,
 * as in WHATWG URL and ffmpeg, so a raw "@" in a password is masked whole. A password typed with
 * a raw "/", "?" or "#" breaks the URL for everyone, but must still not be shown: if the
 * authority has no "@" and is neither a port nor an IPv6 host, the last "@" of the word ends it.
 */
function passwordEnd(rest: string): number {
  const authorityLength = rest.search(/[/?#]|$/);
  const inAuthority = rest.lastIndexOf('@', authorityLength - 1);
  if (inAuthority >= 0) return inAuthority;
  const authority = rest.slice(0, authorityLength);
  if (/^\d*$/.test(authority) || /[:[\]]/.test(authority)) return -1; // a port, or an IPv6 host
  return rest.lastIndexOf('@');
}

/** The forms a URL's password may appear in (as typed, and percent-decoded), for redactSecrets. */
export function urlSecrets(url: string): string[] {
  let password: string;
  try {
    password = new URL(url).password;
  } catch {
    return [];
  }
  if (password === '') return [];
  let decoded = password;
  try {
    decoded = decodeURIComponent(password);
  } catch {
    // A stray "%" that is no escape: the password is what was typed.
  }
  return [...new Set([password, decoded])];
}

/**
 * `error` with redactSecrets applied to its message and, through its causes, to theirs: the
 * same object when nothing needed masking, else a new error of the same code (a CamcastError)
 * whose stack, which repeats the message, is the new one's.
 */
export function redactError(error: unknown, known: readonly string[] = []): unknown {
  if (!(error instanceof Error)) return error;
  const message = redactSecrets(error.message, known);
  const cause = redactError(error.cause, known);
  if (message === error.message && cause === error.cause) return error;
  const options = cause === undefined ? undefined : { cause };
  return error instanceof CamcastError ? new CamcastError(error.code, message, options) : new Error(message, options);
}
