import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CamcastError } from '../errors.js';

export interface AccessOptions {
  /** HTTP Basic credentials every request must carry. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** A shared secret, sent as `?token=` (for <img> embedding) or `Authorization: Bearer`. */
  readonly token?: string;
}

/**
 * What a token may be, for the CLI's --token and the library's `token` alike: one that could
 * never match is refused where it is set. `?token=` is read URL-decoded, so a '+' arrives as a
 * space and a '%' as something else; Bearer values are trimmed, so spaces at the ends never
 * arrive. These characters need no escaping anywhere; 8 keeps out guessable ones.
 */
export function checkToken(value: unknown, name = 'token'): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9._~-]{8,256}$/.test(value)) {
    throw new CamcastError('BAD_OPTION', `${name} must be 8 to 256 characters of A-Z a-z 0-9 . _ ~ - (e.g. from: openssl rand -hex 16)`);
  }
  return value;
}

/**
 * Decides whether a request may see the stream. With both auth and token set, either one is
 * enough. Secrets are compared through fixed-length digests with timingSafeEqual, so the time
 * taken says nothing about how much of a guess was right, nor about the secret's length.
 */
export class AccessGuard {
  readonly #basic: Buffer | undefined;
  readonly #token: Buffer | undefined;

  constructor({ auth, token }: AccessOptions) {
    this.#basic = auth ? digest(`${auth.username}:${auth.password}`) : undefined;
    this.#token = token ? digest(token) : undefined;
  }

  get enabled(): boolean {
    return this.#basic !== undefined || this.#token !== undefined;
  }

  /**
   * The WWW-Authenticate challenge of a 401. Basic whenever it is accepted, so browsers show
   * their login prompt; Bearer when only a token is.
   */
  get challenge(): string {
    return this.#basic ? 'Basic realm="camcast", charset="UTF-8"' : 'Bearer realm="camcast"';
  }

  /** For a 401's body: only the ways this server accepts. */
  get howToAuthenticate(): string {
    const ways = [
      ...(this.#basic ? ['log in with the user name and password'] : []),
      ...(this.#token ? ['add ?token=... to the URL or send Authorization: Bearer ...'] : []),
    ];
    return ways.join(', or ');
  }

  allows(req: IncomingMessage, url: URL): boolean {
    if (!this.enabled) return true;
    const header = req.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    let ok = false;
    if (this.#basic && scheme === 'basic') ok = same(this.#basic, Buffer.from(value, 'base64').toString('utf8')) || ok;
    if (this.#token && scheme === 'bearer') ok = same(this.#token, value) || ok;
    const queryToken = url.searchParams.get('token');
    if (this.#token && queryToken !== null) ok = same(this.#token, queryToken) || ok;
    return ok;
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

function same(expected: Buffer, candidate: string): boolean {
  return timingSafeEqual(expected, digest(candidate));
}
