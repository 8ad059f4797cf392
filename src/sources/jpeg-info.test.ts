import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { checkJpeg, readJpegSize } from './jpeg-info.js';

function picture(width: number, height: number, progressive = false): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: 'teal' } })
    .jpeg({ progressive })
    .toBuffer();
}

/** SOI, the given segments, then a minimal SOS and EOI. */
function handMade(...segments: string[]): Buffer {
  return Buffer.from(['ffd8', ...segments, 'ffda0008010100003f00', '1234', 'ffd9'].join(''), 'hex');
}

test('readJpegSize() reads width and height of baseline and progressive JPEGs made by sharp', async () => {
  assert.deepEqual(readJpegSize(await picture(321, 123)), { width: 321, height: 123 });
  assert.deepEqual(readJpegSize(await picture(17, 999, true)), { width: 17, height: 999 });
});

test('readJpegSize() skips DHT (C4), JPG (C8) and DAC (CC), which sit in the SOF range', () => {
  const sof2 = 'ffc2000b080020004001011100'; // 32 high, 64 wide
  const lookalike = (marker: string) => `ff${marker}000b080099009901011100`;
  assert.deepEqual(readJpegSize(handMade(lookalike('c4'), lookalike('c8'), lookalike('cc'), sof2)), { width: 64, height: 32 });
});

test('readJpegSize() walks segments by length, ignoring SOF-like bytes inside APP1 payloads', () => {
  const app1 = 'ffe1000e' + 'ffc0000b0800070007010111'; // payload looks like a 7x7 SOF0
  const sof0 = 'ffc0000b080002000301011100';
  assert.deepEqual(readJpegSize(handMade(app1, 'ffff', sof0)), { width: 3, height: 2 });
});

test('readJpegSize() returns undefined for non-JPEGs, truncated headers and a missing SOF', () => {
  assert.equal(readJpegSize(Buffer.alloc(0)), undefined);
  assert.equal(readJpegSize(Buffer.from('not a jpeg at all')), undefined);
  assert.equal(readJpegSize(handMade('ffdb00060001020304')), undefined, 'scan before any SOF');
  assert.equal(readJpegSize(Buffer.from('ffd8ffc0000b0800', 'hex')), undefined, 'SOF cut short');
  assert.equal(readJpegSize(Buffer.from('ffd8ffe0ff', 'hex')), undefined, 'length cut short');
  assert.equal(readJpegSize(Buffer.from('ffd8ffe00001', 'hex')), undefined, 'length below 2');
  assert.equal(readJpegSize(handMade('ffc0000b080000000301011100')), undefined, 'height 0 (DNL) is not a size');
});

test('readJpegSize() stops at a segment length that runs past the end', () => {
  assert.equal(readJpegSize(Buffer.from('ffd8ffe1fff0000000', 'hex')), undefined);
});

test('checkJpeg() gives the size of whole JPEGs made by sharp and of a minimal hand-made one', async () => {
  assert.deepEqual(checkJpeg(await picture(321, 123)), { width: 321, height: 123 });
  assert.deepEqual(checkJpeg(await picture(17, 999, true)), { width: 17, height: 999 });
  assert.deepEqual(checkJpeg(handMade('ffff', 'ffc0000b080002000301011100')), { width: 3, height: 2 });
});

test('checkJpeg() refuses a JPEG cut anywhere before its picture data, even with FF D9 put back at the end', async () => {
  const jpeg = await picture(64, 48);
  const sos = jpeg.indexOf(Buffer.from([0xff, 0xda]));
  const data = sos + 2 + jpeg.readUInt16BE(sos + 2); // first byte of picture data
  assert.ok(sos > 100, 'sharp writes tables before the scan');
  for (let cut = 2; cut <= data; cut++) {
    const truncated = Buffer.concat([jpeg.subarray(0, cut), Buffer.from([0xff, 0xd9])]);
    assert.equal(typeof checkJpeg(truncated), 'string', `cut at ${cut} of ${jpeg.length} (scan at ${sos})`);
  }
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  const afterSof = sof + 2 + jpeg.readUInt16BE(sof + 2);
  assert.equal(
    checkJpeg(Buffer.concat([jpeg.subarray(0, afterSof), Buffer.from([0xff, 0xd9])])),
    `it ends at byte ${afterSof}, before its picture data (SOS): it is cut short`,
  );
});

test('checkJpeg() says what is wrong with a non-JPEG, a missing FF D9, a bad length and a missing SOF', () => {
  assert.equal(checkJpeg(Buffer.from('hello')), 'it starts with 68 65, not FF D8');
  assert.equal(checkJpeg(Buffer.alloc(0)), 'it starts with nothing, not FF D8');
  assert.equal(checkJpeg(handMade('ffc0000b080002000301011100').subarray(0, -1)), 'it ends with 34 FF, not FF D9: it is cut short');
  assert.equal(checkJpeg(handMade('ffe00001')), 'the segment at byte 2 has a length of 1: it is damaged');
  assert.equal(checkJpeg(handMade('ffdb000600010203')), 'it has no frame header (SOF) before its picture data');
  assert.equal(checkJpeg(Buffer.from('ffd8ffe1fff00000ffd9', 'hex')), 'the 65520-byte segment at byte 2 runs past the end (10 bytes): it is cut short');
});
