/**
 * The load client's multipart reader: counts parts by their Content-Length without copying or
 * keeping any body, so one process can follow a thousand or more 30 fps streams. It checks what
 * is cheap to check (the HTTP status, every delimiter, that each body starts with FF D8 and ends
 * with FF D9) and reads X-Timestamp for latency. Chunks may split anything anywhere.
 */
export interface PartEvent {
  /** X-Timestamp in milliseconds since the epoch; NaN when missing. */
  readonly timestampMs: number;
  readonly bytes: number;
  /** False when the body is not a complete JPEG (bad start or end bytes). */
  readonly ok: boolean;
}

type State = 'status' | 'delimiter' | 'headers' | 'body';

const MAX_HEAD = 8192;

export class PartCounter {
  readonly #onPart: (part: PartEvent) => void;
  #state: State = 'status';
  #head = '';
  #delimiter: Buffer = Buffer.alloc(0);
  #matched = 0;
  #firstDelimiter = true;
  #bodyLength = 0;
  #bodyDone = 0;
  #timestampMs = NaN;
  #partBytes = 0;
  #ok = true;
  #last = 0;
  /** Why the stream cannot be parsed further; set once, then every chunk is ignored. */
  error: string | undefined;

  constructor(onPart: (part: PartEvent) => void) {
    this.#onPart = onPart;
  }

  /** Feeds bytes [start, end) of `chunk`. Never throws; a framing error sets `error`. */
  push(chunk: Uint8Array, start = 0, end = chunk.length): void {
    let i = start;
    while (i < end && this.error === undefined) {
      switch (this.#state) {
        case 'status':
        case 'headers':
          i = this.#readHead(chunk, i, end);
          break;
        case 'delimiter':
          i = this.#readDelimiter(chunk, i, end);
          break;
        case 'body':
          i = this.#readBody(chunk, i, end);
          break;
      }
    }
  }

  /** Collects a header block (the HTTP response's or a part's) up to its blank line. */
  #readHead(chunk: Uint8Array, i: number, end: number): number {
    const start = i;
    let done = false;
    for (; i < end; i++) {
      const c = chunk[i]!;
      // The block ends at CR LF CR LF; `#matched` counts how much of it has been seen.
      if (c === (this.#matched % 2 === 0 ? 13 : 10)) this.#matched++;
      else this.#matched = c === 13 ? 1 : 0;
      if (this.#matched === 4) {
        i++;
        done = true;
        break;
      }
    }
    this.#head += Buffer.from(chunk.buffer, chunk.byteOffset + start, i - start).toString('latin1');
    if (!done) {
      if (this.#head.length > MAX_HEAD) this.error = 'header block too long';
      return i;
    }
    this.#matched = 0;
    const head = this.#head;
    this.#head = '';
    if (this.#state === 'status') this.#onResponseHead(head);
    else this.#onPartHead(head);
    return i;
  }

  #onResponseHead(head: string): void {
    if (!/^HTTP\/1\.[01] 200 /.test(head)) {
      this.error = `response ${head.slice(0, head.indexOf('\r\n'))}`;
      return;
    }
    const boundary = /\r\ncontent-type:\s*multipart\/x-mixed-replace;\s*boundary=([^\s;]+)/i.exec(head)?.[1];
    if (!boundary) {
      this.error = 'no multipart boundary in the response';
      return;
    }
    this.#delimiter = Buffer.from(`\r\n--${boundary}\r\n`);
    this.#state = 'delimiter';
  }

  #onPartHead(head: string): void {
    const length = /content-length:\s*(\d+)/i.exec(head);
    if (!length) {
      this.error = 'a part without Content-Length';
      return;
    }
    const stamp = /x-timestamp:\s*([\d.]+)/i.exec(head);
    this.#timestampMs = stamp ? Number(stamp[1]) * 1000 : NaN;
    this.#bodyLength = Number(length[1]);
    this.#bodyDone = 0;
    this.#partBytes = head.length + this.#bodyLength;
    this.#ok = this.#bodyLength >= 4;
    this.#state = 'body';
  }

  /** Matches `\r\n--boundary\r\n`; the very first delimiter has no leading CR LF. */
  #readDelimiter(chunk: Uint8Array, i: number, end: number): number {
    const delimiter = this.#delimiter;
    if (this.#firstDelimiter && this.#matched === 0) this.#matched = 2;
    for (; i < end; i++) {
      if (chunk[i] !== delimiter[this.#matched]) {
        this.error = 'bad multipart delimiter';
        return i;
      }
      if (++this.#matched === delimiter.length) {
        this.#matched = 0;
        this.#firstDelimiter = false;
        this.#state = 'headers';
        return i + 1;
      }
    }
    return i;
  }

  /** Skips the body, looking only at its first two and last two bytes. */
  #readBody(chunk: Uint8Array, i: number, end: number): number {
    const length = this.#bodyLength;
    const take = Math.min(end - i, length - this.#bodyDone);
    for (let k = 0; k < take && this.#bodyDone + k < 2; k++) {
      if (chunk[i + k] !== (this.#bodyDone + k === 0 ? 0xff : 0xd8)) this.#ok = false;
    }
    this.#bodyDone += take;
    i += take;
    if (take > 0) this.#last = (take >= 2 ? (chunk[i - 2]! << 8) : (this.#last & 0xff) << 8) | chunk[i - 1]!;
    if (this.#bodyDone === length) {
      if (this.#last !== 0xffd9) this.#ok = false;
      this.#state = 'delimiter';
      this.#onPart({ timestampMs: this.#timestampMs, bytes: this.#partBytes + this.#delimiter.length, ok: this.#ok });
    }
    return i;
  }
}
