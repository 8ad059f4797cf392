/**
 * Picture size from a JPEG's frame header, read by walking marker segments by their length
 * fields: O(segments), never a scan of the picture data, so it is cheap enough for every frame.
 */

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

/** Width and height from the SOF header, or undefined if the buffer is not a JPEG with one. */
export function readJpegSize(jpeg: Buffer): { width: number; height: number } | undefined {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) return undefined;
  let pos = 2;
  while (pos + 1 < jpeg.length) {
    if (jpeg[pos] !== 0xff) return undefined;
    const marker = jpeg[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte before a marker
      continue;
    }
    // The frame header precedes the first scan; reaching the scan or the end means there is none.
    if (marker === SOS || marker === EOI || marker === SOI) return undefined;
    if (marker === TEM || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2; // markers without a length
      continue;
    }
    if (pos + 4 > jpeg.length) return undefined;
    const length = jpeg.readUInt16BE(pos + 2);
    if (length < 2) return undefined;
    if (isStartOfFrame(marker)) {
      // FF Cn, length (2), precision (1), height (2), width (2)
      if (length < 7 || pos + 9 > jpeg.length) return undefined;
      const height = jpeg.readUInt16BE(pos + 5);
      const width = jpeg.readUInt16BE(pos + 7);
      // Height 0 means "defined later by a DNL marker"; not worth chasing for a stream.
      return width > 0 && height > 0 ? { width, height } : undefined;
    }
    pos += 2 + length;
  }
  return undefined;
}
