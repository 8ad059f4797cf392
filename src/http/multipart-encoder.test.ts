import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Frame } from '../frame.js';
import { StrictMultipartParser } from '../testing/strict-multipart.js';
import { MultipartEncoder } from './multipart-encoder.js';

const jpeg = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(n, 0x11), Buffer.from([0xff, 0xd9])]);
const frame = (seq: number, size = 100): Frame => ({ jpeg: jpeg(size), seq, capturedAt: 1_700_000_000_123.456 + seq });

describe('MultipartEncoder', () => {
  test('part() builds headers, body and the next delimiter, in that order', () => {
    const enc = new MultipartEncoder('b0undary');
    const f = frame(7, 10);
    const part = enc.part(f)!.toString('latin1');
    assert.equal(
      part,
      `Content-Type: image/jpeg\r\nContent-Length: 14\r\nX-Timestamp: ${(f.capturedAt / 1000).toFixed(6)}\r\nX-Frame-Seq: 7\r\n\r\n` +
        f.jpeg.toString('latin1') +
        '\r\n--b0undary\r\n',
    );
    const stamp = Number(/X-Timestamp: ([\d.]+)/.exec(part)![1]);
    assert.ok(Math.abs(stamp * 1000 - f.capturedAt) < 0.001, 'timestamp in seconds with microseconds');
    assert.equal(enc.contentType, 'multipart/x-mixed-replace; boundary=b0undary');
    assert.equal(enc.preamble.toString(), '--b0undary\r\n');
  });

  test('part() returns the same buffer for the same frame: built once, shared by all viewers', () => {
    const enc = new MultipartEncoder();
    const f = frame(1);
    assert.equal(enc.part(f), enc.part(f)!);
    assert.notEqual(enc.part(f), enc.part(frame(2)));
  });

  test('a stream of parts passes the strict parser whatever the chunking', () => {
    const enc = new MultipartEncoder();
    const frames = [frame(1, 50), frame(2, 3000), frame(3, 1)];
    const stream = Buffer.concat([enc.preamble, ...frames.map((f) => enc.part(f)!)]);
    for (const step of [1, 2, 7, 64, 1000, stream.length]) {
      const parser = new StrictMultipartParser(enc.boundary);
      const parts = [];
      for (let i = 0; i < stream.length; i += step) parts.push(...parser.push(stream.subarray(i, i + step)));
      assert.equal(parts.length, 3, `chunk size ${step}`);
      parts.forEach((p, i) => {
        assert.deepEqual(p.body, frames[i]!.jpeg);
        assert.equal(p.headers['x-frame-seq'], String(i + 1));
      });
    }
  });

  test('ending closes the body: an empty part, then the close delimiter (RFC 2046), whatever the chunking', () => {
    const enc = new MultipartEncoder('b0');
    assert.equal(enc.ending.toString(), 'Content-Length: 0\r\n\r\n\r\n--b0--\r\n');
    const stream = Buffer.concat([enc.preamble, enc.part(frame(1, 50))!, enc.ending]);
    for (const step of [1, 3, stream.length]) {
      const parser = new StrictMultipartParser('b0');
      const parts = [];
      for (let i = 0; i < stream.length; i += step) parts.push(...parser.push(stream.subarray(i, i + step)));
      assert.equal(parts.length, 1, 'the empty part is no picture');
      assert.equal(parser.closed, true, `chunk size ${step}`);
    }
    // Nothing may follow the close delimiter, and nothing but it may follow the empty part.
    assert.throws(() => new StrictMultipartParser('b0').push(Buffer.concat([stream, enc.preamble])), /after the close delimiter/);
    const noClose = Buffer.concat([enc.preamble, Buffer.from('Content-Length: 0\r\n\r\n\r\n--b0\r\n')]);
    assert.throws(() => new StrictMultipartParser('b0').push(noClose), /expected/);
  });

  test('the strict parser rejects a body shorter than its Content-Length', () => {
    const enc = new MultipartEncoder('x');
    const good = enc.part(frame(1, 20))!;
    const broken = Buffer.from(good.toString('latin1').replace('Content-Length: 24', 'Content-Length: 23'), 'latin1');
    const parser = new StrictMultipartParser('x');
    assert.throws(() => parser.push(Buffer.concat([enc.preamble, broken])), /strict multipart/);
  });
});
