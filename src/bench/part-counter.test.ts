import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Frame } from '../frame.js';
import { MultipartEncoder } from '../http/multipart-encoder.js';
import { PartCounter, type PartEvent } from './part-counter.js';
import { LatencyHistogram } from './stats.js';

const jpeg = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(n, 0xd9), Buffer.from([0xff, 0xd9])]);
const frame = (seq: number, size: number): Frame => ({ jpeg: jpeg(size), seq, capturedAt: 1_700_000_000_000.5 + seq });
const head = (enc: MultipartEncoder) => Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: ${enc.contentType}\r\nConnection: close\r\n\r\n`);

function feed(stream: Buffer, step: number): { parts: PartEvent[]; counter: PartCounter } {
  const parts: PartEvent[] = [];
  const counter = new PartCounter((p) => parts.push(p));
  for (let i = 0; i < stream.length; i += step) counter.push(stream, i, Math.min(stream.length, i + step));
  return { parts, counter };
}

describe('PartCounter', () => {
  test('push() counts camcast parts and reads their timestamps however the bytes are split', () => {
    const enc = new MultipartEncoder();
    const frames = [frame(1, 0), frame(2, 5000), frame(3, 1)];
    const stream = Buffer.concat([head(enc), enc.preamble, ...frames.map((f) => enc.part(f)!)]);
    for (const step of [1, 2, 3, 7, 100, 4096, stream.length]) {
      const { parts, counter } = feed(stream, step);
      assert.equal(counter.error, undefined, `step ${step}`);
      assert.deepEqual(parts.map((p) => p.ok), [true, true, true], `step ${step}`);
      parts.forEach((p, i) => assert.ok(Math.abs(p.timestampMs - frames[i]!.capturedAt) < 0.01));
      assert.equal(parts.reduce((s, p) => s + p.bytes, 0), stream.length - head(enc).length - enc.preamble.length);
    }
  });

  test('push() flags a body that is not a whole JPEG and stops at a broken delimiter', () => {
    const enc = new MultipartEncoder('b');
    const good = enc.part(frame(1, 10))!;
    const notJpeg = Buffer.from(good.toString('latin1').replace('\xff\xd8', 'xx'), 'latin1');
    const { parts } = feed(Buffer.concat([head(enc), enc.preamble, notJpeg, good]), 5);
    assert.deepEqual(parts.map((p) => p.ok), [false, true]);

    const broken = Buffer.from(good.toString('latin1').replace('\r\n--b\r\n', '\r\n--x\r\n'), 'latin1');
    const { parts: after, counter } = feed(Buffer.concat([head(enc), enc.preamble, broken, good]), 64);
    assert.equal(after.length, 1);
    assert.match(counter.error ?? '', /delimiter/);
  });

  test('push() reports a response that is not a 200 multipart stream', () => {
    const { counter } = feed(Buffer.from('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'), 10);
    assert.match(counter.error ?? '', /503/);
  });
});

describe('LatencyHistogram', () => {
  test('percentile() and merge() across processes', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 99; i++) a.record(i);
    b.record(2500);
    a.merge(b.toSparse());
    assert.equal(a.count, 100);
    assert.ok(Math.abs(a.percentile(50) - 50) <= 0.2);
    assert.ok(Math.abs(a.percentile(99) - 99) <= 0.2);
    assert.equal(a.percentile(100), 2500);
  });
});
