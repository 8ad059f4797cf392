import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface AccessOptions {
  /** HTTP Basic credentials every request must carry. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** A shared secret, sent as `?token=` (for <img> embedding) or `Authorization: Bearer`. */
  readonly token?: string;
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
