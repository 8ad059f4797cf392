/**
 * Chunks of a byte stream -> whole JPEGs (SOI .. EOI).
 *
 * A naive scan for FF D8 / FF D9 breaks on real cameras: an EXIF thumbnail in APP1 carries its own
 * FF D8 .. FF D9, and ICC profiles or comments may hold any bytes. So after SOI the splitter walks
 * marker segments by their length fields; after SOS it scans entropy-coded data, where FF 00 is a
 * stuffed byte and FF D0..D7 are restart markers, and any other marker (progressive JPEGs have
 * several DHT/SOS) is a segment again. The frame ends at EOI.
 *
 * The parser keeps only a few bytes of state between chunks, so no byte is scanned twice and a
 * frame that sits in one chunk is returned as a subarray of it without a copy. Pushed chunks are
 * kept by reference until their frame is complete: do not modify them afterwards (stream 'data'
 * chunks never are).
 */

export interface JpegSplitterOptions {
  /** A frame longer than this is dropped, so a stream without EOI cannot grow memory. */
  readonly maxFrameBytes?: number;
}

export interface JpegSplitterStats {
  /** Whole frames returned. */
  readonly frames: number;
  /** Bytes not returned: garbage between frames and the bytes of dropped frames. */
  readonly discardedBytes: number;
  /** Frames dropped because they grew past maxFrameBytes. */
  readonly oversizeFrames: number;
  /** Frames dropped because they broke off (a new SOI, a bad marker, reset()). */
  readonly corruptFrames: number;
  /** Bytes held for the frame in progress; never more than maxFrameBytes. */
  readonly bufferedBytes: number;
}

type State =
  | 'seek' /* garbage: looking for FF */
  | 'seekFF' /* garbage, saw FF: D8 starts a frame */
  | 'marker' /* between segments: expect FF */
  | 'markerCode' /* saw FF: the next byte names the marker (FF is fill) */
  | 'lengthHi'
  | 'lengthLo'
  | 'skip' /* inside a segment's payload */
  | 'entropy' /* entropy-coded data after SOS: looking for FF */
  | 'entropyFF'; /* saw FF in entropy data: 00 is stuffing, D0..D7 restart, else a marker */

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;

export class JpegSplitter {
  readonly #maxFrameBytes: number;
  #state: State = 'seek';
  /** Earlier pieces of the frame in progress (subarrays of earlier chunks). */
  #pieces: Buffer[] = [];
  #piecesLength = 0;
  /** Where the frame in progress starts in the current chunk (0 when it began earlier). */
  #start = 0;
  #inFrame = false;
  /** Past maxFrameBytes: keep following the structure to find its end, but keep no bytes. */
  #dropping = false;
  #sawScan = false;
  #marker = 0;
  #segmentLength = 0;
  #remaining = 0;
  #frames = 0;
  #discardedBytes = 0;
  #oversizeFrames = 0;
  #corruptFrames = 0;

  constructor({ maxFrameBytes = 16 * 1024 * 1024 }: JpegSplitterOptions = {}) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 4) {
      throw new RangeError(`maxFrameBytes must be an integer >= 4, got ${maxFrameBytes}`);
    }
    this.#maxFrameBytes = maxFrameBytes;
  }

  get stats(): JpegSplitterStats {
    return {
      frames: this.#frames,
      discardedBytes: this.#discardedBytes,
      oversizeFrames: this.#oversizeFrames,
      corruptFrames: this.#corruptFrames,
      bufferedBytes: this.#piecesLength,
    };
  }

  /** Drops a frame in progress (counted as corrupt) and waits for the next SOI. Stats remain. */
  reset(): void {
    if (this.#inFrame) {
      if (!this.#dropping) this.#corruptFrames++;
      this.#discardedBytes += this.#piecesLength;
    }
    this.#clearFrame();
    this.#state = 'seek';
  }

  /** Feeds the next chunk; returns the frames it completed, oldest first. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    const n = chunk.length;
    let i = 0;
    this.#start = 0;
    while (i < n) {
      switch (this.#state) {
        case 'seek': {
          // Counted as garbage at once; an FF that turns out to start a frame is taken back.
          const ff = chunk.indexOf(0xff, i);
          const next = ff === -1 ? n : ff + 1;
          this.#discardedBytes += next - i;
          i = next;
          if (ff !== -1) this.#state = 'seekFF';
          break;
        }
        case 'seekFF': {
          const b = chunk[i]!;
          if (b === SOI) {
            this.#discardedBytes--;
            this.#beginFrame(i - 1);
            this.#state = 'marker';
            i++;
          } else if (b === 0xff) {
            this.#discardedBytes++;
            i++;
          } else {
            this.#state = 'seek';
          }
          break;
        }
        case 'marker': {
          if (chunk[i] === 0xff) {
            this.#state = 'markerCode';
            i++;
          } else {
            this.#breakFrame(i); // not a marker where one must be: resync on the next SOI
          }
          break;
        }
        case 'markerCode': {
          const b = chunk[i]!;
          i++;
          if (b === 0xff) break; // fill byte before a marker
          if (b === EOI) {
            if (this.#sawScan) this.#endFrame(chunk, i, frames);
            else this.#breakFrame(i); // tables only, no picture
          } else if (b === SOI) {
            this.#breakFrame(i - 2); // the previous frame broke off; a new one starts here
            this.#beginFrame(i - 2);
            this.#state = 'marker';
          } else if (b === 0x00 || b === TEM || (b >= 0xd0 && b <= 0xd7)) {
            // Markers without a length; 00 cannot follow FF outside entropy data.
            if (b === 0x00) this.#breakFrame(i);
            else this.#state = 'marker';
          } else {
            this.#marker = b;
            this.#state = 'lengthHi';
          }
          break;
        }
        case 'lengthHi':
          this.#segmentLength = chunk[i++]! << 8;
          this.#state = 'lengthLo';
          break;
        case 'lengthLo': {
          const length = this.#segmentLength | chunk[i++]!;
          if (length < 2) {
            this.#breakFrame(i);
          } else {
            this.#remaining = length - 2; // the length counts its own two bytes
            this.#afterLength();
          }
          break;
        }
        case 'skip': {
          const take = Math.min(this.#remaining, n - i);
          i += take;
          this.#remaining -= take;
          if (this.#remaining === 0) this.#afterSegment();
          break;
        }
        case 'entropy': {
          const ff = chunk.indexOf(0xff, i);
          if (ff === -1) {
            i = n;
          } else {
            i = ff + 1;
            this.#state = 'entropyFF';
          }
          break;
        }
        case 'entropyFF': {
          const b = chunk[i]!;
          if (b === 0x00 || (b >= 0xd0 && b <= 0xd7)) {
            this.#state = 'entropy';
            i++;
          } else if (b === 0xff) {
            i++; // fill
          } else {
            this.#state = 'markerCode'; // a real marker: read it without consuming here
          }
          break;
        }
      }
    }
    this.#keepTail(chunk);
    return frames;
  }

  #afterLength(): void {
    if (this.#remaining > 0) this.#state = 'skip';
    else this.#afterSegment();
  }

  #afterSegment(): void {
    if (this.#marker === SOS) {
      this.#sawScan = true;
      this.#state = 'entropy';
    } else {
      this.#state = 'marker';
    }
  }

  /** A frame starts at `at` in this chunk; at -1 means its FF ended the previous chunk. */
  #beginFrame(at: number): void {
    this.#inFrame = true;
    this.#dropping = false;
    this.#sawScan = false;
    if (at < 0) {
      this.#pieces = [Buffer.of(0xff)];
      this.#piecesLength = 1;
      this.#start = 0;
    } else {
      this.#pieces = [];
      this.#piecesLength = 0;
      this.#start = at;
    }
  }

  /** Drops the frame in progress, whose bytes in this chunk end at `end` (exclusive). */
  #breakFrame(end: number): void {
    if (!this.#dropping) this.#corruptFrames++;
    const inChunk = Math.max(0, end - this.#start);
    // A new SOI may begin with the FF that closed the previous chunk: it belongs to the new frame.
    const carried = end < 0 ? 1 : 0;
    this.#discardedBytes += this.#piecesLength - carried + inChunk;
    this.#clearFrame();
    this.#state = 'seek';
  }

  #endFrame(chunk: Buffer, end: number, frames: Buffer[]): void {
    const total = this.#piecesLength + end - this.#start;
    if (this.#dropping) {
      this.#discardedBytes += end - this.#start;
    } else if (total > this.#maxFrameBytes) {
      this.#oversizeFrames++;
      this.#discardedBytes += total;
    } else {
      const tail = chunk.subarray(this.#start, end);
      frames.push(this.#pieces.length === 0 ? tail : Buffer.concat([...this.#pieces, tail], total));
      this.#frames++;
    }
    this.#clearFrame();
    this.#start = end;
    this.#state = 'seek';
  }

  /** At the end of a chunk: keep the frame's part of it, or drop the frame if it grew too big. */
  #keepTail(chunk: Buffer): void {
    if (!this.#inFrame) return;
    const piece = chunk.subarray(this.#start);
    if (this.#dropping) {
      this.#discardedBytes += piece.length;
    } else if (piece.length > 0) {
      this.#pieces.push(piece);
      this.#piecesLength += piece.length;
      if (this.#piecesLength > this.#maxFrameBytes) {
        this.#oversizeFrames++;
        this.#discardedBytes += this.#piecesLength;
        this.#pieces = [];
        this.#piecesLength = 0;
        this.#dropping = true;
      }
    }
    this.#start = 0;
  }

  #clearFrame(): void {
    this.#inFrame = false;
    this.#dropping = false;
    this.#sawScan = false;
    this.#pieces = [];
    this.#piecesLength = 0;
  }
}
