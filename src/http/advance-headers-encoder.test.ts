import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import type { Frame } from '../frame.js';
import { StrictMultipartParser } from '../testing/strict-multipart.js';
import { AdvanceHeadersEncoder, wantsAdvanceHeaders } from './advance-headers-encoder.js';
import { MultipartEncoder } from './multipart-encoder.js';

const jpeg = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(n, 0x11), Buffer.from([0xff, 0xd9])]);
const frame = (seq: number, size = 100): Frame => ({ jpeg: jpeg(size), seq, capturedAt: 1_700_000_000_000 + seq });

describe('AdvanceHeadersEncoder', () => {
  test('each frame is followed at once by the delimiter and the headers of the next part', () => {
    const enc = new AdvanceHeadersEncoder('b0');
    const f = frame(1, 10);
    assert.equal(enc.preamble.toString(), '--b0\r\nContent-Type: image/jpeg\r\n\r\n');
    assert.equal(enc.part(f)!.toString('latin1'), f.jpeg.toString('latin1') + '\r\n--b0\r\nContent-Type: image/jpeg\r\n\r\n');
    assert.equal(enc.part(f), enc.part(f), 'built once per frame');
    assert.equal(enc.ending.toString(), '\r\n--b0--\r\n');
  });

  test('a stream in this layout passes the strict parser and ends with the close delimiter, whatever the chunking', () => {
    const enc = new AdvanceHeadersEncoder('b0');
    const frames = [frame(1, 50), frame(2, 3000), frame(3, 1)];
    const stream = Buffer.concat([enc.preamble, ...frames.map((f) => enc.part(f)!), enc.ending]);
    for (const step of [1, 5, 64, stream.length]) {
      const parser = new StrictMultipartParser('b0');
      const parts = [];
      for (let i = 0; i < stream.length; i += step) parts.push(...parser.push(stream.subarray(i, i + step)));
      assert.deepEqual(parts.map((p) => p.body), frames.map((f) => f.jpeg), `chunk size ${step}`);
      assert.deepEqual(parts[0]!.headers, { 'content-type': 'image/jpeg' });
      assert.equal(parser.closed, true);
    }
  });
});

describe('a JPEG that holds the delimiter in its bytes', () => {
  test('has no part in either layout, so no reader sees a frame cut in two', () => {
    // A comment segment (FF FE) written by someone else's camera or code can hold anything.
    const comment = Buffer.from('\r\n--camcastframe\r\nContent-Type: text/html\r\n\r\n<h1>hi</h1>');
    const sneaky: Frame = { jpeg: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0, comment.length + 2]), comment, Buffer.from([0xff, 0xd9])]), seq: 1, capturedAt: 0 };
    assert.equal(new AdvanceHeadersEncoder().part(sneaky), undefined);
    assert.equal(new MultipartEncoder().part(sneaky), undefined);
    assert.ok(new MultipartEncoder('other').part(sneaky), 'another boundary is not in it');
  });
});

describe('wantsAdvanceHeaders', () => {
  const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as unknown as IncomingMessage;
  test('a browser loading an image gets them; MJPEG tools do not; ?advance_headers decides either way', () => {
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg', { 'sec-fetch-dest': 'image' })), true);
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg', { 'sec-fetch-dest': 'document' })), true, 'the URL opened in a tab');
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg', { 'sec-fetch-dest': 'iframe' })), true);
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg')), false, 'ffmpeg, OpenCV, VLC, curl');
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg', { 'sec-fetch-dest': 'empty' })), false, 'a page reading with fetch()');
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg?advance_headers=1')), true);
    assert.equal(wantsAdvanceHeaders(req('/?action=stream&advance_headers=true')), true);
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg?advance_headers=0', { 'sec-fetch-dest': 'image' })), false);
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg?advance%5Fheaders=%31')), true, 'percent-encoded');
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg?advance_headers=', { 'sec-fetch-dest': 'image' })), true, 'empty: not asked');
    assert.equal(wantsAdvanceHeaders(req('/stream.mjpg?cid=a?advance_headers=1')), false, 'no such parameter');
  });
});
