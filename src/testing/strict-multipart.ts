/**
 * A deliberately strict multipart/x-mixed-replace parser for tests. Lenient clients (ffmpeg,
 * OpenCV) forgive broken framing; browsers and aiohttp do not, so every byte is checked here:
 * the delimiter line, CRLF line ends, Content-Type, a Content-Length that matches the body, and
 * the CRLF + delimiter right after each body.
 */
export interface StrictPart {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

export class StrictMultipartParser {
  readonly #delimiter: Buffer;
  #buffer: Buffer = Buffer.alloc(0);
  #state: 'preamble' | 'headers' | 'body' | 'after-body' = 'preamble';
  #headers: Record<string, string> = {};
  #length = 0;

  constructor(boundary: string) {
    this.#delimiter = Buffer.from(`--${boundary}\r\n`);
  }

  /** Returns the parts completed by this chunk; throws on the first framing error. */
  push(chunk: Buffer): StrictPart[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const parts: StrictPart[] = [];
    for (;;) {
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
        if (this.#headers['content-type'] !== 'image/jpeg') throw this.#error(`Content-Type is ${this.#headers['content-type']}`);
        const length = Number(this.#headers['content-length']);
        if (!Number.isInteger(length) || length <= 0) throw this.#error(`bad Content-Length ${this.#headers['content-length']}`);
        this.#length = length;
        this.#buffer = this.#buffer.subarray(end + 4);
        this.#state = 'body';
      }
      if (this.#state === 'body') {
        if (this.#buffer.length < this.#length) return parts;
        const body = Buffer.from(this.#buffer.subarray(0, this.#length));
        if (body[0] !== 0xff || body[1] !== 0xd8 || body[body.length - 2] !== 0xff || body[body.length - 1] !== 0xd9) {
          throw this.#error('body is not a complete JPEG (FF D8 ... FF D9)');
        }
        parts.push({ headers: this.#headers, body });
        this.#buffer = this.#buffer.subarray(this.#length);
        this.#state = 'after-body';
      }
    }
  }

  #error(what: string): Error {
    return new Error(`strict multipart: ${what} (state ${this.#state})`);
  }
}
