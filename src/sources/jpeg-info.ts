/** Picture size and a cheap completeness check from a JPEG's header. */

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const TEM = 0x01;

/**
 * SOF0..SOF15 are C0..CF except C4 (DHT), C8 (JPG, reserved) and CC (DAC): those share the
 * range but hold no frame header.
 */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

export interface JpegSize {
  readonly width: number;
  readonly height: number;
}

/** Width and height from the SOF header, or undefined if the buffer is not a JPEG with one. */
export function readJpegSize(jpeg: Buffer): JpegSize | undefined {
  const header = walkHeader(jpeg, false);
  return typeof header === 'string' ? undefined : header;
}

/**
 * The size of a JPEG whose header is whole: FF D8, every segment up to the first scan (SOS)
 * inside the buffer, a frame header (SOF) before that scan, picture data after it and FF D9 at
 * the end. Else what is wrong, as a phrase for an error message. This catches a JPEG cut short
 * anywhere in its header (and then given an FF D9), at the cost of a few dozen steps; a cut
 * inside the picture data itself shows only when decoding, which this never does.
 */
export function checkJpeg(jpeg: Buffer): JpegSize | string {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) {
    return `it starts with ${hex(jpeg.subarray(0, 2)) || 'nothing'}, not FF D8`;
  }
  if (jpeg[jpeg.length - 2] !== 0xff || jpeg[jpeg.length - 1] !== EOI) {
    return `it ends with ${hex(jpeg.subarray(-2))}, not FF D9: it is cut short`;
  }
  return walkHeader(jpeg, true);
}

/**
 * Walks marker segments by their length fields: O(segments), never a scan of the picture data,
 * so it is cheap enough for every frame. `toScan`: go on past the frame header to the first scan,
 * checking that every segment fits, rather than stop at the size.
 */
function walkHeader(jpeg: Buffer, toScan: boolean): JpegSize | string {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) return 'it does not start with FF D8';
  let size: JpegSize | undefined;
  let pos = 2;
  while (pos + 1 < jpeg.length) {
    if (jpeg[pos] !== 0xff) return `byte ${pos} should start a marker (FF) but is ${hex(jpeg.subarray(pos, pos + 1))}: it is damaged or cut short`;
    const marker = jpeg[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte before a marker
      continue;
    }
    // The frame header precedes the first scan; reaching the scan or the end means there is none.
    if (!size && (marker === SOS || marker === EOI || marker === SOI)) return `it has no frame header (SOF) before ${marker === SOS ? 'its picture data' : 'its end'}`;
    if (marker === EOI || marker === SOI) return `it ends at byte ${pos}, before its picture data (SOS): it is cut short`;
    if (marker === TEM || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2; // markers without a length
      continue;
    }
    if (pos + 4 > jpeg.length) return 'it ends inside a segment header: it is cut short';
    const length = jpeg.readUInt16BE(pos + 2);
    if (length < 2) return `the segment at byte ${pos} has a length of ${length}: it is damaged`;
    // Picture data (a byte at least) and FF D9 follow the scan header: it must end before them.
    const room = marker === SOS ? jpeg.length - 3 : jpeg.length;
    if (toScan && pos + 2 + length > room) {
      return `the ${length}-byte segment at byte ${pos} runs past the end (${jpeg.length} bytes): it is cut short`;
    }
    if (marker === SOS) return size!;
    if (!size && isStartOfFrame(marker)) {
      // FF Cn, length (2), precision (1), height (2), width (2)
      if (length < 7 || pos + 9 > jpeg.length) return 'its frame header (SOF) is cut short';
      const height = jpeg.readUInt16BE(pos + 5);
      const width = jpeg.readUInt16BE(pos + 7);
      // Height 0 means "defined later by a DNL marker"; not worth chasing for a stream.
      if (width === 0 || height === 0) return `its frame header says ${width}x${height}`;
      size = { width, height };
      if (!toScan) return size;
    }
    pos += 2 + length;
  }
  return size ? 'it ends before its picture data (SOS): it is cut short' : 'it has no frame header (SOF)';
}

/** Bytes as an error message shows them: FF D8. */
function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

const END_OF_IMAGE = Buffer.from([0xff, EOI]);

/**
 * Where the first JPEG in `bytes` ends (just past its FF D9), or undefined if it does not end in
 * them. Its segments are walked up to the first scan, since an EXIF thumbnail before it holds an
 * FF D9 of its own; after it, picture data never holds FF D9 (an FF there is followed by 00 or a
 * restart marker), so the first one is the end.
 */
export function jpegEnd(bytes: Buffer): number | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== SOI) return undefined;
  let pos = 2;
  while (pos + 3 < bytes.length) {
    if (bytes[pos] !== 0xff) return undefined;
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === SOS) {
      const end = bytes.indexOf(END_OF_IMAGE, pos + 2);
      return end < 0 ? undefined : end + 2;
    }
    if (marker === EOI || marker === SOI) return undefined;
    if (marker === TEM || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    pos += 2 + bytes.readUInt16BE(pos + 2);
  }
  return undefined;
}
