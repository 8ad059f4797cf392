import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type JpegOptions } from 'sharp';
import { JpegSplitter } from './jpeg-splitter.js';
import { seededRandom } from '../testing/seeded-random.js';

/** A noisy picture, so the entropy-coded data is long and full of FF 00 stuffing. */
async function noisyJpeg(width: number, height: number, options: JpegOptions = {}): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: { r: 10, g: 200, b: 30 }, noise: { type: 'gaussian', mean: 128, sigma: 60 } },
  })
    .jpeg(options)
    .toBuffer();
}

/** Inserts an APP1 "Exif" segment right after SOI whose payload holds a whole JPEG and stray FF D9 / FF D8. */
function withThumbnail(jpeg: Buffer, thumbnail: Buffer): Buffer {
  const payload = Buffer.concat([Buffer.from('Exif\0\0'), thumbnail, Buffer.from([0xff, 0xd9, 0xff, 0xd8, 0xff, 0xd9])]);
  const header = Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

/** A hand-made JPEG with fill bytes, restart markers and stuffing; valid structure, not decodable. */
function syntheticJpeg(): Buffer {
  return Buffer.from(
    [
      'ffd8',
      'ffdb0006' + '00010203', // DQT, length 6
      'ffff' + 'ffc0000b080010002001011100', // fill bytes, then SOF0 16 high, 32 wide
      'fffe0006ffd9ffd8', // COM whose payload is FF D9 FF D8
      'ffda0008010100003f00', // SOS
      '1234ff0056ffd078ff00ffd19affffffd2bc', // stuffing, RST0, RST1, fill bytes, RST2
      'ffd9',
    ].join(''),
    'hex',
  );
}

function countMarkers(jpeg: Buffer, marker: number): number {
  let count = 0;
  for (let i = jpeg.indexOf(Buffer.from([0xff, marker])); i !== -1; i = jpeg.indexOf(Buffer.from([0xff, marker]), i + 1)) count++;
  return count;
}

/** Feeds chunks, checking after each push that every byte is accounted for and the buffer is bounded. */
function feed(splitter: JpegSplitter, chunks: Buffer[], maxFrameBytes = 16 * 1024 * 1024): Buffer[] {
  const frames: Buffer[] = [];
  let fed = 0;
  let emitted = 0;
  for (const chunk of chunks) {
    const out = splitter.push(chunk);
    fed += chunk.length;
    for (const frame of out) emitted += frame.length;
    frames.push(...out);
    const { discardedBytes, bufferedBytes } = splitter.stats;
    assert.equal(emitted + discardedBytes + bufferedBytes, fed, 'every byte is emitted, discarded or buffered');
    assert.ok(bufferedBytes <= maxFrameBytes, `buffered ${bufferedBytes} > ${maxFrameBytes}`);
  }
  return frames;
}

function bytewise(data: Buffer): Buffer[] {
  return Array.from({ length: data.length }, (_, i) => data.subarray(i, i + 1));
}


const baseline = await noisyJpeg(64, 48);
const progressive = await noisyJpeg(40, 24, { progressive: true });
const thumbnail = await sharp({ create: { width: 8, height: 8, channels: 3, background: 'red' } }).jpeg().toBuffer();
const exif = withThumbnail(await noisyJpeg(32, 32), thumbnail);
const synthetic = syntheticJpeg();
const multipartHeader = Buffer.from('\r\n--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 1234\r\n\r\n');

test('fixtures are what the tests claim', async () => {
  assert.ok(countMarkers(progressive, 0xda) > 1, 'progressive JPEG has several scans');
  assert.ok(exif.indexOf(Buffer.from([0xff, 0xd9])) < exif.length - 2, 'EXIF JPEG has FF D9 before its end');
  const decoded = await sharp(exif).raw().toBuffer({ resolveWithObject: true });
  assert.equal(decoded.info.width, 32, 'the EXIF fixture is still a decodable JPEG');
});

test('push() returns a JPEG in one chunk as a subarray without copying', () => {
  const splitter = new JpegSplitter();
  const chunk = Buffer.concat([Buffer.from('junk'), baseline, Buffer.from('\r\n')]);
  const [frame, ...rest] = splitter.push(chunk);
  assert.deepEqual(rest, []);
  assert.ok(frame?.equals(baseline));
  assert.equal(frame.buffer, chunk.buffer, 'shares memory with the chunk');
  assert.deepEqual(splitter.stats, { frames: 1, discardedBytes: 6, oversizeFrames: 0, corruptFrames: 0, bufferedBytes: 0 });
});

test('push() skips FF D9 inside an APP1 thumbnail and a COM segment', () => {
  for (const jpeg of [exif, synthetic]) {
    const frames = feed(new JpegSplitter(), [jpeg]);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.equals(jpeg));
  }
});

test('push() returns a progressive JPEG with several scans whole', () => {
  const frames = feed(new JpegSplitter(), [progressive, progressive]);
  assert.equal(frames.length, 2);
  assert.ok(frames.every((f) => f.equals(progressive)));
});

const stream = Buffer.concat([
  Buffer.from('preamble'),
  Buffer.from([0xff, 0xff, 0x00]),
  baseline,
  multipartHeader,
  exif,
  multipartHeader,
  progressive,
  Buffer.from([0xff, 0x00, 0xff, 0xff, 0x12, 0xff]), // garbage with FF that is no SOI
  synthetic,
  baseline,
  Buffer.from('\r\n'),
]);
const expected = [baseline, exif, progressive, synthetic, baseline];

test('push() finds the same frames whatever the chunk boundary (every split in two)', () => {
  for (let cut = 0; cut <= stream.length; cut++) {
    const splitter = new JpegSplitter();
    const frames = feed(splitter, [stream.subarray(0, cut), stream.subarray(cut)]);
    assert.deepEqual(frames, expected, `split at ${cut}`);
    assert.equal(splitter.stats.frames, expected.length);
    assert.equal(splitter.stats.corruptFrames, 0);
  }
});

test('push() finds the same frames fed byte by byte', () => {
  const splitter = new JpegSplitter();
  assert.deepEqual(feed(splitter, bytewise(stream)), expected);
  const framed = expected.reduce((sum, f) => sum + f.length, 0);
  assert.equal(splitter.stats.discardedBytes, stream.length - framed);
});

test('push() drops a frame cut off in entropy data and keeps the next one', () => {
  const cutInScan = baseline.subarray(0, baseline.length - 100);
  const splitter = new JpegSplitter();
  const frames = feed(splitter, bytewise(Buffer.concat([cutInScan, exif])));
  assert.deepEqual(frames, [exif]);
  assert.equal(splitter.stats.corruptFrames, 1);
  assert.equal(splitter.stats.discardedBytes, cutInScan.length);
});

test('push() drops a frame cut off between segments and resynchronises', () => {
  // Cut right after the DQT segment; the next byte is 'x', not a marker.
  const dqtEnd = 2 + 2 + baseline.readUInt16BE(4);
  const splitter = new JpegSplitter();
  const frames = feed(splitter, [baseline.subarray(0, dqtEnd), Buffer.from('xyz'), baseline]);
  assert.deepEqual(frames, [baseline]);
  assert.equal(splitter.stats.corruptFrames, 1);
});

test('push() drops a frame larger than maxFrameBytes and keeps the next smaller one', () => {
  const big = baseline;
  const small = synthetic;
  const maxFrameBytes = 1000;
  assert.ok(big.length > maxFrameBytes && small.length < maxFrameBytes);
  const data = Buffer.concat([big, small, big, small]);
  for (const chunkSize of [1, 7, 100, 999, data.length]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; i += chunkSize) chunks.push(data.subarray(i, i + chunkSize));
    const splitter = new JpegSplitter({ maxFrameBytes });
    assert.deepEqual(feed(splitter, chunks, maxFrameBytes), [small, small], `chunk size ${chunkSize}`);
    assert.equal(splitter.stats.oversizeFrames, 2);
    assert.equal(splitter.stats.discardedBytes, 2 * big.length);
  }
});

test('push() keeps at most maxFrameBytes of a frame that never ends', () => {
  const maxFrameBytes = 4096;
  const splitter = new JpegSplitter({ maxFrameBytes });
  const sos = baseline.indexOf(Buffer.from([0xff, 0xda]));
  const chunks = [baseline.subarray(0, sos + 14)];
  for (let i = 0; i < 200; i++) chunks.push(Buffer.alloc(512, 0x55)); // endless scan data
  assert.deepEqual(feed(splitter, chunks, maxFrameBytes), []);
  assert.equal(splitter.stats.oversizeFrames, 1);
  assert.equal(splitter.stats.bufferedBytes, 0, 'dropping, not buffering');
});

test('reset() drops a partial frame and the next push starts clean', () => {
  const splitter = new JpegSplitter();
  feed(splitter, [baseline.subarray(0, 500)]);
  assert.equal(splitter.stats.bufferedBytes, 500);
  splitter.reset();
  assert.equal(splitter.stats.bufferedBytes, 0);
  assert.equal(splitter.stats.corruptFrames, 1);
  assert.deepEqual(splitter.push(baseline.subarray(500)), [], 'the rest of the old frame is garbage');
  assert.deepEqual(splitter.push(exif), [exif]);
});

test('push() drops an SOI-EOI pair without a scan as corrupt', () => {
  const splitter = new JpegSplitter();
  assert.deepEqual(splitter.push(Buffer.from('ffd8ffd9', 'hex')), []);
  assert.equal(splitter.stats.corruptFrames, 1);
});

test('new JpegSplitter() throws a RangeError for a nonsense maxFrameBytes', () => {
  assert.throws(() => new JpegSplitter({ maxFrameBytes: 0 }), RangeError);
  assert.throws(() => new JpegSplitter({ maxFrameBytes: 1.5 }), RangeError);
});

test('push() survives seeded random streams with bounded memory (fuzz, 300 runs)', () => {
  const random = seededRandom(0xc0ffee);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const noise = (length: number): Buffer =>
    Buffer.from(Array.from({ length }, () => pick([0xff, 0xd8, 0xd9, 0xda, 0x00, Math.floor(random() * 256)])));
  const started = Date.now();
  for (let run = 0; run < 300 && Date.now() - started < 8000; run++) {
    const pieces: Buffer[] = [];
    for (let p = 0; p < 8; p++) {
      const frame = pick(expected);
      const kind = random();
      if (kind < 0.4) pieces.push(frame);
      else if (kind < 0.6) pieces.push(frame.subarray(0, Math.floor(random() * frame.length)));
      else if (kind < 0.8) pieces.push(noise(Math.floor(random() * 300)));
      else {
        const copy = Buffer.from(frame); // a frame with a few bytes flipped
        for (let k = 0; k < 3; k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
        pieces.push(copy);
      }
    }
    const data = Buffer.concat(pieces);
    const maxFrameBytes = 64 + Math.floor(random() * 4000);
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; ) {
      const size = 1 + Math.floor(random() * 700);
      chunks.push(data.subarray(i, i + size));
      i += size;
    }
    const splitter = new JpegSplitter({ maxFrameBytes });
    for (const frame of feed(splitter, chunks, maxFrameBytes)) {
      assert.ok(frame.length <= maxFrameBytes);
      assert.equal(frame.readUInt16BE(0), 0xffd8);
      assert.equal(frame.readUInt16BE(frame.length - 2), 0xffd9);
    }
  }
});

test('push() recovers every frame from seeded random chunking of frames and FF-free garbage', () => {
  const random = seededRandom(42);
  for (let run = 0; run < 100; run++) {
    const frames = Array.from({ length: 5 }, () => expected[Math.floor(random() * expected.length)]!);
    const data = Buffer.concat(frames.flatMap((f) => [Buffer.from('\r\n--x\r\n'.repeat(Math.floor(random() * 3))), f]));
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; ) {
      const size = 1 + Math.floor(random() * 3000);
      chunks.push(data.subarray(i, i + size));
      i += size;
    }
    assert.deepEqual(feed(new JpegSplitter(), chunks), frames, `run ${run}`);
  }
});

test('push() scans each byte once: a 4 MiB frame in 512-byte chunks takes well under 3 s', () => {
  const sos = baseline.indexOf(Buffer.from([0xff, 0xda]));
  const header = baseline.subarray(0, sos + 14);
  const scan = Buffer.alloc(4 * 1024 * 1024, 0x55);
  for (let i = 0; i < scan.length; i += 1000) scan[i] = 0xff; // FF 55 would be a marker: stuff it
  for (let i = 1; i < scan.length; i += 1000) scan[i] = 0x00;
  const data = Buffer.concat([header, scan, Buffer.from([0xff, 0xd9])]);
  const splitter = new JpegSplitter();
  const started = performance.now();
  const frames: Buffer[] = [];
  for (let i = 0; i < data.length; i += 512) frames.push(...splitter.push(data.subarray(i, i + 512)));
  const elapsed = performance.now() - started;
  assert.equal(frames.length, 1);
  assert.ok(frames[0]!.equals(data));
  // Re-scanning the buffered frame on every chunk would read ~17 GB here.
  assert.ok(elapsed < 3000, `took ${elapsed.toFixed(0)} ms`);
});
