/**
 * A deliberately strict multipart/x-mixed-replace parser for tests. Lenient clients (ffmpeg,
 * OpenCV) forgive broken framing; browsers and aiohttp do not, so every byte is checked here:
 * the delimiter line, CRLF line ends, Content-Type, a Content-Length that matches the body, and
 * the CRLF + delimiter right after each body. A stream may end with camcast's ending: an empty
 * part of `Content-Length: 0` alone, then the close delimiter, then nothing at all.
 *
 * Parts with `Content-Type: image/jpeg` alone (the layout for browsers, whose headers go out
 * before the frame is known) have no Content-Length: such a body ends at the next delimiter,
 * and only the close delimiter may follow an empty one.
 */
export interface StrictPart {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export class StrictMultipartParser {
  readonly #delimiter: Buffer;
  /** CRLF and the delimiter without its line end: where a body without Content-Length ends. */
  readonly #bodyEnd: Buffer;
  readonly #close: Buffer;
  #buffer: Buffer = Buffer.alloc(0);
  #state: 'preamble' | 'headers' | 'body' | 'after-body' | 'closing' | 'closed' = 'preamble';
  #headers: Record<string, string> = {};
  #length = 0;

  constructor(boundary: string) {
    this.#delimiter = Buffer.from(`--${boundary}\r\n`);
    this.#close = Buffer.from(`\r\n--${boundary}--\r\n`);
    this.#bodyEnd = Buffer.from(`\r\n--${boundary}`);
  }

  /** True once the close delimiter has arrived: the stream ended as it should. */
  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** Returns the parts completed by this chunk; throws on the first framing error. */
  push(chunk: Buffer): StrictPart[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const parts: StrictPart[] = [];
    for (;;) {
      if (this.#state === 'closed') {
        if (this.#buffer.length > 0) throw this.#error('bytes after the close delimiter');
        return parts;
      }
      if (this.#state === 'closing') {
        const have = Math.min(this.#buffer.length, this.#close.length);
        if (!this.#buffer.subarray(0, have).equals(this.#close.subarray(0, have))) throw this.#error(`expected ${JSON.stringify(this.#close.toString())}`);
        if (have < this.#close.length) return parts;
        this.#buffer = this.#buffer.subarray(this.#close.length);
        this.#state = 'closed';
        continue;
      }
      if (this.#state === 'preamble' || this.#state === 'after-body') {
        const expected = this.#state === 'after-body' ? Buffer.concat([Buffer.from('\r\n'), this.#delimiter]) : this.#delimiter;
        if (this.#buffer.length < expected.length) {
          if (!expected.subarray(0, this.#buffer.length).equals(this.#buffer)) throw this.#error(`expected ${JSON.stringify(expected.toString())}`);
          return parts;
        }
        if (!this.#buffer.subarray(0, expected.length).equals(expected)) throw this.#error(`expected ${JSON.stringify(expected.toString())}`);
        this.#buffer = this.#buffer.subarray(expected.length);
        this.#state = 'headers';
        this.#headers = {};
      }
      if (this.#state === 'headers') {
        const end = this.#buffer.indexOf('\r\n\r\n');
        if (end < 0) {
          if (this.#buffer.length > 4096) throw this.#error('part headers longer than 4 KiB');
          return parts;
        }
        for (const line of this.#buffer.subarray(0, end).toString('latin1').split('\r\n')) {
          const match = /^([A-Za-z0-9-]+): ?(.*)$/.exec(line);
          if (!match || line.includes('\n')) throw this.#error(`malformed header line ${JSON.stringify(line)}`);
          this.#headers[match[1]!.toLowerCase()] = match[2]!;
        }
        this.#buffer = this.#buffer.subarray(end + 4);
        if (Object.keys(this.#headers).length === 1 && this.#headers['content-length'] === '0') {
          // The empty part that only the close delimiter may follow.
          this.#state = 'closing';
          continue;
        }
        if (this.#headers['content-type'] !== 'image/jpeg') throw this.#error(`Content-Type is ${this.#headers['content-type']}`);
        if (Object.keys(this.#headers).length === 1) {
          this.#length = -1;
          this.#state = 'body';
          continue;
        }
        const length = Number(this.#headers['content-length']);
        if (!Number.isInteger(length) || length <= 0) throw this.#error(`bad Content-Length ${this.#headers['content-length']}`);
        this.#length = length;
        this.#state = 'body';
      }
      if (this.#state === 'body') {
        let length = this.#length;
        if (length < 0) {
          length = this.#buffer.indexOf(this.#bodyEnd);
          if (length < 0) return parts;
          if (length === 0) {
            this.#state = 'closing';
            continue;
          }
        }
        if (this.#buffer.length < length) return parts;
        const body = Buffer.from(this.#buffer.subarray(0, length));
        if (body[0] !== 0xff || body[1] !== 0xd8 || body[body.length - 2] !== 0xff || body[body.length - 1] !== 0xd9) {
          throw this.#error('body is not a complete JPEG (FF D8 ... FF D9)');
        }
        parts.push({ headers: this.#headers, body });
        this.#buffer = this.#buffer.subarray(length);
        this.#state = 'after-body';
      }
    }
  }

  #error(what: string): Error {
    return new Error(`strict multipart: ${what} (state ${this.#state})`);
  }
}
