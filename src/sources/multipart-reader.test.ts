import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { MultipartReader, parseBoundary, type MultipartPart } from './multipart-reader.js';
import { seededRandom } from '../testing/seeded-random.js';
import { AdvanceHeadersEncoder } from '../http/advance-headers-encoder.js';
import { MultipartEncoder } from '../http/multipart-encoder.js';


async function jpeg(width: number, background: string): Promise<Buffer> {
  return sharp({ create: { width, height: 16, channels: 3, background } }).jpeg().toBuffer();
}

const jpegs = [await jpeg(16, 'red'), await jpeg(24, 'green'), await jpeg(32, 'blue')];
// A body holding near-misses of a delimiter: the token not at a line start, and one followed by junk.
const tricky = Buffer.concat([Buffer.from('text --frame inline\r\n--framex\r\n--frame-x\n'), jpegs[0]!]);
const bodies = [...jpegs, tricky];

interface Style {
  readonly eol: string;
  readonly dashes: string;
  readonly length: boolean;
  /** Line break between a body and the next delimiter. */
  readonly afterBody?: string;
  readonly preamble?: string;
}

/** A multipart body in a given dialect, ending with a delimiter so the last part is complete. */
function body(style: Style, parts: readonly Buffer[] = bodies, token = 'frame'): Buffer {
  const { eol, dashes, length, afterBody = eol, preamble = '' } = style;
  const out: Buffer[] = [Buffer.from(preamble)];
  for (const [i, part] of parts.entries()) {
    const headers = [`Content-Type: image/jpeg`, ...(length ? [`Content-Length: ${part.length}`] : []), `X-Index: ${i}`];
    out.push(Buffer.from(`${i === 0 ? '' : afterBody}${dashes}${token}${eol}${headers.join(eol)}${eol}${eol}`), part);
  }
  out.push(Buffer.from(`${afterBody}${dashes}${token}${eol}`));
  return Buffer.concat(out);
}

function feedAll(reader: MultipartReader, chunks: readonly Buffer[], bound = Infinity): MultipartPart[] {
  const parts: MultipartPart[] = [];
  for (const chunk of chunks) {
    parts.push(...reader.push(chunk));
    assert.ok(reader.stats.bufferedBytes <= bound, `buffered ${reader.stats.bufferedBytes} > ${bound}`);
  }
  return parts;
}

function assertParts(parts: readonly MultipartPart[], expected: readonly Buffer[], label: string): void {
  assert.equal(parts.length, expected.length, `${label}: part count`);
  for (const [i, part] of parts.entries()) {
    assert.ok(part.body.equals(expected[i]!), `${label}: body ${i} (${part.body.length} vs ${expected[i]!.length} bytes)`);
    assert.equal(part.headers['x-index'], String(i), `${label}: headers of part ${i}`);
    assert.equal(part.headers['content-type'], 'image/jpeg');
  }
}

const styles: Record<string, Style> = {
  'CRLF, --, Content-Length': { eol: '\r\n', dashes: '--', length: true },
  'CRLF, --, no length': { eol: '\r\n', dashes: '--', length: false, preamble: 'junk before the first part\r\n' },
  'LF only, no --, no length': { eol: '\n', dashes: '', length: false },
  'LF only, --, Content-Length': { eol: '\n', dashes: '--', length: true },
  'delimiter right after a Content-Length body': { eol: '\r\n', dashes: '--', length: true, afterBody: '' },
  'extra dashes': { eol: '\r\n', dashes: '----', length: false },
};

for (const [name, style] of Object.entries(styles)) {
  test(`push() parses a ${name} body at every split point and byte by byte`, () => {
    const data = body(style);
    for (let cut = 0; cut <= data.length; cut++) {
      const reader = new MultipartReader({ boundary: 'frame' });
      assertParts(feedAll(reader, [data.subarray(0, cut), data.subarray(cut)]), bodies, `split at ${cut}`);
    }
    const reader = new MultipartReader({ boundary: 'frame' });
    const bytes = Array.from({ length: data.length }, (_, i) => data.subarray(i, i + 1));
    assertParts(feedAll(reader, bytes), bodies, 'byte by byte');
    assert.equal(reader.stats.parts, bodies.length);
    // A preamble's last CRLF belongs to the first delimiter line.
    assert.equal(reader.stats.skippedBytes, style.preamble ? style.preamble.length - 2 : 0);
  });
}

test('push() finds "--myboundary" lines when the Content-Type boundary already has the dashes', () => {
  const data = body({ eol: '\r\n', dashes: '--', length: false }, bodies, 'myboundary');
  const reader = new MultipartReader({ boundary: '--myboundary' });
  assertParts(reader.push(data), bodies, 'dashes in boundary');
});

test('push() takes a part without headers that starts with the JPEG itself', () => {
  const data = Buffer.concat([Buffer.from('--frame\r\n'), jpegs[0]!, Buffer.from('\r\n--frame\r\n')]);
  const parts = new MultipartReader({ boundary: 'frame' }).push(data);
  assert.equal(parts.length, 1);
  assert.ok(parts[0]!.body.equals(jpegs[0]!));
});

test('push() returns no part for a closing delimiter and the epilogue after it', () => {
  const data = Buffer.concat([
    Buffer.from(`--frame\r\nContent-Length: ${jpegs[0]!.length}\r\n\r\n`),
    jpegs[0]!,
    Buffer.from(`\r\n--frame--\r\n${'epilogue '.repeat(50)}`),
  ]);
  const reader = new MultipartReader({ boundary: 'frame' });
  assert.equal(reader.push(data).length, 1);
  assert.ok(reader.stats.skippedBytes > 300, `skipped ${reader.stats.skippedBytes}`);
  assert.ok(reader.stats.bufferedBytes < 100);
});

test('push() skips a part whose Content-Length passes maxPartBytes without buffering it', () => {
  const big = Buffer.alloc(50_000, 0x41);
  const data = body({ eol: '\r\n', dashes: '--', length: true }, [big, jpegs[1]!]);
  const reader = new MultipartReader({ boundary: 'frame', maxPartBytes: 10_000 });
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 1000) chunks.push(data.subarray(i, i + 1000));
  const parts = feedAll(reader, chunks, 12_000);
  assert.deepEqual(
    parts.map((p) => p.body.length),
    [jpegs[1]!.length],
  );
  assert.equal(reader.stats.oversizeParts, 1);
});

test('push() drops a part without length that passes maxPartBytes and resynchronises', () => {
  const big = Buffer.alloc(50_000, 0x41);
  const data = body({ eol: '\r\n', dashes: '--', length: false }, [big, jpegs[1]!, jpegs[2]!]);
  const reader = new MultipartReader({ boundary: 'frame', maxPartBytes: 10_000 });
  const chunks: Buffer[] = [];
  for (let i = 0; i < data.length; i += 777) chunks.push(data.subarray(i, i + 777));
  const parts = feedAll(reader, chunks, 12_000);
  assert.deepEqual(
    parts.map((p) => p.body.length),
    [jpegs[1]!.length, jpegs[2]!.length],
  );
  assert.equal(reader.stats.oversizeParts, 1);
});

test('push() drops a part whose headers pass maxHeaderBytes and keeps the next part', () => {
  const data = Buffer.concat([
    Buffer.from(`--frame\r\nX-Junk: ${'a'.repeat(5000)}\r\n`),
    body({ eol: '\r\n', dashes: '--', length: true }, [jpegs[2]!]),
  ]);
  const reader = new MultipartReader({ boundary: 'frame', maxHeaderBytes: 1024 });
  const parts = reader.push(data);
  assert.equal(parts.length, 1);
  assert.ok(parts[0]!.body.equals(jpegs[2]!));
  assert.equal(reader.stats.badParts, 1);
});

test('push() keeps a small buffer while reading 1 MB without any delimiter', () => {
  const reader = new MultipartReader({ boundary: 'frame' });
  const junk = Buffer.alloc(4096, 0x2d); // dashes: the worst case for the dash rule
  for (let i = 0; i < 256; i++) {
    assert.deepEqual(reader.push(junk), []);
    assert.ok(reader.stats.bufferedBytes < 1024, `buffered ${reader.stats.bufferedBytes}`);
  }
  assert.ok(reader.stats.skippedBytes > 1_000_000);
});

test('push() survives seeded random bodies with bounded buffers (fuzz, 300 runs)', () => {
  const random = seededRandom(7);
  const maxPartBytes = 3000;
  const maxHeaderBytes = 512;
  const bound = maxPartBytes + maxHeaderBytes + 1024;
  const started = Date.now();
  for (let run = 0; run < 300 && Date.now() - started < 8000; run++) {
    const pieces: Buffer[] = [];
    for (let p = 0; p < 6; p++) {
      const style = Object.values(styles)[Math.floor(random() * Object.keys(styles).length)]!;
      const whole = body(style, [bodies[Math.floor(random() * bodies.length)]!]);
      const kind = random();
      if (kind < 0.5) pieces.push(whole);
      else if (kind < 0.75) pieces.push(whole.subarray(0, Math.floor(random() * whole.length)));
      else pieces.push(Buffer.from(Array.from({ length: Math.floor(random() * 400) }, () => Math.floor(random() * 256))));
    }
    const data = Buffer.concat(pieces);
    const chunks: Buffer[] = [];
    for (let i = 0; i < data.length; ) {
      const size = 1 + Math.floor(random() * 600);
      chunks.push(data.subarray(i, i + size));
      i += size;
    }
    const reader = new MultipartReader({ boundary: 'frame', maxPartBytes, maxHeaderBytes });
    for (const part of feedAll(reader, chunks, bound)) assert.ok(part.body.length <= maxPartBytes);
  }
});

test('parseBoundary() reads plain, quoted and dashed boundaries of multipart types only', () => {
  const cases: Array<[string, string | undefined]> = [
    ['multipart/x-mixed-replace; boundary=frame', 'frame'],
    ['multipart/x-mixed-replace;boundary=--myboundary', '--myboundary'],
    ['Multipart/X-Mixed-Replace; charset=x; BOUNDARY="a b;c"', 'a b;c'],
    ['multipart/x-mixed-replace; boundary="q\\"uote"', 'q"uote'],
    ['multipart/x-mixed-replace; boundary=frame; other=1', 'frame'],
    ['multipart/x-mixed-replace', undefined],
    ['multipart/x-mixed-replace; boundary=', undefined],
    ['image/jpeg; boundary=frame', undefined],
    ['', undefined],
  ];
  for (const [contentType, boundary] of cases) assert.equal(parseBoundary(contentType), boundary, contentType);
});

test('new MultipartReader() throws a RangeError for an empty boundary', () => {
  assert.throws(() => new MultipartReader({ boundary: '' }), RangeError);
});

test("push() reads camcast's own streams to their close in both layouts: every frame, the closing empty part neither a frame nor bad", () => {
  for (const encoder of [new MultipartEncoder(), new AdvanceHeadersEncoder()]) {
    const stream = Buffer.concat([
      encoder.preamble,
      ...jpegs.map((jpeg, i) => encoder.part({ jpeg, seq: i + 1, capturedAt: 1 })!),
      encoder.ending,
    ]);
    const reader = new MultipartReader({ boundary: encoder.boundary });
    const parts = feedAll(reader, [stream], 10_000);
    assert.deepEqual(parts.map((p, i) => p.body.equals(jpegs[i]!)), [true, true, true], encoder.constructor.name);
    assert.deepEqual([reader.stats.parts, reader.stats.badParts, reader.stats.emptyParts], [3, 0, 1], encoder.constructor.name);
  }
});
