/**
 * A streaming parser for `multipart/x-mixed-replace` bodies, to relay an HTTP MJPEG upstream
 * (another camcast, mjpg-streamer, an IP camera) without decoding a single frame.
 *
 * Real cameras bend the format, so the parser is tolerant where it costs nothing: a delimiter may
 * lack the leading `--` (or carry extra dashes), lines may end in LF alone, a part may follow its
 * Content-Length with the delimiter and no line break, and a part without headers may start with
 * the JPEG at once. When a part has a Content-Length its body is taken by count (the fast path: no
 * scan of the body); otherwise the body ends at the next delimiter line. Every buffer is bounded.
 */

export interface MultipartPart {
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export interface MultipartReaderOptions {
  /** The boundary parameter of the Content-Type, as parseBoundary() returns it. */
  readonly boundary: string;
  /** A larger part is skipped (by count when its length is known, else up to the next delimiter). */
  readonly maxPartBytes?: number;
  readonly maxHeaderBytes?: number;
}

export interface MultipartReaderStats {
  readonly parts: number;
  /** Bytes outside any delimiter, header or returned body (preamble, junk, skipped parts). */
  readonly skippedBytes: number;
  readonly oversizeParts: number;
  /** Parts dropped for a header block past maxHeaderBytes. */
  readonly badParts: number;
  /**
   * Parts with an empty body, skipped: nothing is wrong with them. A stream may end with one
   * (camcast's closing part), and a server that sends each next part's headers ahead of its
   * frame (µStreamer's advance_headers, camcast to browsers) leaves one before its close.
   */
  readonly emptyParts: number;
  readonly bufferedBytes: number;
}

type State = 'delimiter' | 'headers' | 'body' | 'skip';

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;
/** Dashes accepted before the boundary token, and bytes a delimiter line may trail by. */
const MAX_DASHES = 64;
const MAX_DELIMITER_TAIL = 256;

/** The boundary of a multipart Content-Type (quotes removed), or undefined for anything else. */
export function parseBoundary(contentType: string): string | undefined {
  const type = /^\s*multipart\/[^;\s]+\s*;(.*)$/is.exec(contentType);
  if (!type) return undefined;
  const param = /(?:^|;)\s*boundary\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/i.exec(type[1]!);
  const value = param?.[1] !== undefined ? param[1].replace(/\\(.)/g, '$1') : param?.[2];
  return value ? value : undefined;
}

export class MultipartReader {
  readonly #token: Buffer;
  readonly #maxPartBytes: number;
  readonly #maxHeaderBytes: number;
  /** Unconsumed bytes are #buf[#start, #end); grown by doubling so appends stay linear. */
  #buf = Buffer.alloc(0);
  #start = 0;
  #end = 0;
  #state: State = 'delimiter';
  /** Bytes after #start already searched, so no byte is searched twice. */
  #scanned = 0;
  /** Whether #start begins a line, so a delimiter there needs no LF before it. */
  #atLineStart = true;
  #headers: Record<string, string> = {};
  #bodyLength: number | undefined;
  #skipRemaining = 0;
  #parts = 0;
  #skippedBytes = 0;
  #oversizeParts = 0;
  #badParts = 0;
  #emptyParts = 0;

  constructor({ boundary, maxPartBytes = 16 * 1024 * 1024, maxHeaderBytes = 16 * 1024 }: MultipartReaderOptions) {
    if (boundary === '') throw new RangeError('multipart boundary must not be empty');
    // Leading dashes are matched by count, so "--frame" in the header still finds "--frame" lines.
    this.#token = Buffer.from(boundary.replace(/^-+/, '') || boundary, 'latin1');
    this.#maxPartBytes = maxPartBytes;
    this.#maxHeaderBytes = maxHeaderBytes;
  }

  get stats(): MultipartReaderStats {
    return {
      parts: this.#parts,
      skippedBytes: this.#skippedBytes,
      oversizeParts: this.#oversizeParts,
      badParts: this.#badParts,
      emptyParts: this.#emptyParts,
      bufferedBytes: this.#end - this.#start,
    };
  }

  /** Feeds the next chunk of the body; returns the parts it completed, oldest first. */
  push(chunk: Buffer): MultipartPart[] {
    const parts: MultipartPart[] = [];
    this.#append(chunk);
    while (this.#step(parts)) {
      // each step consumed input or changed state; stop when one needs more bytes
    }
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      if (this.#buf.length > 1024 * 1024) this.#buf = Buffer.alloc(0); // after a burst, let it go
    }
    return parts;
  }

  #step(parts: MultipartPart[]): boolean {
    const data = this.#buf.subarray(this.#start, this.#end);
    switch (this.#state) {
      case 'delimiter': {
        const found = this.#findDelimiter(data, this.#scanned);
        if (found === undefined) {
          // Junk: keep only what could still begin a delimiter.
          const keep = Math.min(data.length, this.#token.length + MAX_DASHES + 2);
          this.#skip(data.length - keep, data);
          this.#scanned = Math.max(0, keep - this.#token.length + 1);
          return false;
        }
        if (found === 'partial') {
          // Keep the candidate and what may precede it on its line (CR LF and dashes), no more.
          const at = this.#scanned;
          const junk = Math.max(0, at - MAX_DASHES - 2);
          this.#skip(junk, data);
          this.#scanned = at - junk;
          return false;
        }
        this.#skippedBytes += found.lineStart;
        this.#consume(found.next);
        this.#state = found.close ? 'delimiter' : 'headers';
        this.#atLineStart = true;
        this.#headers = {};
        return true;
      }
      case 'headers':
        return this.#readHeaders(data);
      case 'body':
        return this.#readBody(data, parts);
      case 'skip': {
        const take = Math.min(this.#skipRemaining, data.length);
        this.#skip(take, data);
        this.#skipRemaining -= take;
        if (this.#skipRemaining > 0) return false;
        this.#state = 'delimiter';
        this.#atLineStart = true;
        return true;
      }
    }
  }

  #readHeaders(data: Buffer): boolean {
    let pos = this.#scanned;
    for (;;) {
      if (pos + 1 < data.length && data[pos] === 0xff && data[pos + 1] === 0xd8) {
        return this.#startBody(pos); // no blank line: the JPEG starts here
      }
      const lf = data.indexOf(LF, pos);
      if (lf === -1 && data.length <= this.#maxHeaderBytes) {
        this.#scanned = pos;
        return false;
      }
      if (lf === -1 || lf >= this.#maxHeaderBytes) {
        this.#badParts++;
        this.#skip(lf === -1 ? data.length : lf + 1, data);
        this.#state = 'delimiter';
        return true;
      }
      const end = lf > pos && data[lf - 1] === CR ? lf - 1 : lf;
      if (end === pos) return this.#startBody(lf + 1);
      const line = data.toString('latin1', pos, end);
      const colon = line.indexOf(':');
      if (colon > 0) this.#headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      pos = lf + 1;
    }
  }

  #startBody(at: number): boolean {
    this.#consume(at);
    const declared = this.#headers['content-length'];
    const length = declared !== undefined && /^\d{1,15}$/.test(declared) ? Number(declared) : undefined;
    if (length !== undefined && length > this.#maxPartBytes) {
      this.#oversizeParts++;
      this.#skipRemaining = length;
      this.#state = 'skip';
    } else {
      this.#bodyLength = length;
      this.#state = 'body';
    }
    return true;
  }

  #readBody(data: Buffer, parts: MultipartPart[]): boolean {
    if (this.#bodyLength !== undefined) {
      if (data.length < this.#bodyLength) return false;
      this.#emit(data.subarray(0, this.#bodyLength), parts);
      this.#consume(this.#bodyLength);
      this.#atLineStart = true; // some cameras put the delimiter right after the body
      this.#state = 'delimiter';
      return true;
    }
    const found = this.#findDelimiter(data, this.#scanned);
    if (typeof found === 'object') {
      this.#emit(data.subarray(0, found.lineStart), parts);
      this.#consume(found.lineStart);
      this.#state = 'delimiter';
      return true;
    }
    if (found === undefined) this.#scanned = Math.max(0, data.length - this.#token.length + 1);
    if (data.length <= this.#maxPartBytes) return false;
    this.#oversizeParts++;
    const keep = this.#token.length + MAX_DASHES + MAX_DELIMITER_TAIL;
    this.#skip(data.length - keep, data);
    this.#state = 'delimiter';
    return true;
  }

  #emit(body: Buffer, parts: MultipartPart[]): void {
    if (body.length === 0) {
      this.#emptyParts++;
      return;
    }
    // A copy: #buf is reused for the next part.
    parts.push({ headers: this.#headers, body: Buffer.from(body) });
    this.#parts++;
  }

  /**
   * Finds a delimiter line: [LF] dashes token [--] [spaces] LF. `lineStart` is where the line
   * break before it begins (the body ends there), `next` is past its LF. 'partial' means a
   * candidate runs into the end of the data and needs more bytes.
   */
  #findDelimiter(
    data: Buffer,
    from: number,
  ): { lineStart: number; next: number; close: boolean } | 'partial' | undefined {
    for (let p = data.indexOf(this.#token, from); p !== -1; p = data.indexOf(this.#token, p + 1)) {
      let q = p;
      while (q > 0 && p - q < MAX_DASHES && data[q - 1] === DASH) q--;
      let lineStart: number;
      if (q === 0 && this.#atLineStart) lineStart = 0;
      else if (q > 0 && data[q - 1] === LF) lineStart = q >= 2 && data[q - 2] === CR ? q - 2 : q - 1;
      else continue;
      let r = p + this.#token.length;
      let close = false;
      if (r >= data.length || (data[r] === DASH && r + 1 >= data.length)) return this.#partial(p);
      if (data[r] === DASH && data[r + 1] === DASH) {
        close = true;
        r += 2;
      }
      while (r < data.length && r - p < MAX_DELIMITER_TAIL && (data[r] === 0x20 || data[r] === 0x09 || data[r] === CR)) r++;
      if (r >= data.length) return this.#partial(p);
      if (data[r] === LF) return { lineStart, next: r + 1, close };
      // the token inside other text: not a delimiter
    }
    return undefined;
  }

  #partial(at: number): 'partial' {
    this.#scanned = at;
    return 'partial';
  }

  /** Drops `count` bytes as skipped. */
  #skip(count: number, data: Buffer): void {
    if (count <= 0) return;
    this.#skippedBytes += count;
    this.#atLineStart = data[count - 1] === LF;
    this.#consume(count);
  }

  #consume(count: number): void {
    this.#start += count;
    this.#scanned = 0;
  }

  #append(chunk: Buffer): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      const needed = live + chunk.length;
      if (needed <= this.#buf.length >> 1) {
        this.#buf.copy(this.#buf, 0, this.#start, this.#end); // compact in place
      } else {
        const grown = Buffer.allocUnsafe(Math.max(2 * needed, 4096));
        this.#buf.copy(grown, 0, this.#start, this.#end);
        this.#buf = grown;
      }
      this.#start = 0;
      this.#end = live;
    }
    chunk.copy(this.#buf, this.#end);
    this.#end += chunk.length;
  }
}
