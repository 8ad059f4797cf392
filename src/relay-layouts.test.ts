import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { AdvanceHeadersEncoder } from './http/advance-headers-encoder.js';
import { MultipartEncoder } from './http/multipart-encoder.js';
import { MultipartReader } from './sources/multipart-reader.js';

// One camcast relaying another (a url() source on its /stream.mjpg) reads what the other writes.
test("the relay's MultipartReader reads camcast's streams in both layouts to the closing delimiter, with no empty part", async () => {
  const jpegs = await Promise.all(['red', 'green', 'blue'].map((background) => sharp({ create: { width: 16, height: 16, channels: 3, background } }).jpeg().toBuffer()));
  const frames = jpegs.map((jpeg, i) => ({ jpeg, seq: i + 1, capturedAt: 1_700_000_000_000 + i }));
  for (const encoder of [new MultipartEncoder('frame'), new AdvanceHeadersEncoder('frame')]) {
    const data = Buffer.concat([encoder.preamble, ...frames.map((f) => encoder.part(f)!), encoder.ending]);
    for (const step of [1, 7, data.length]) {
      const reader = new MultipartReader({ boundary: 'frame' });
      const bodies: Buffer[] = [];
      for (let at = 0; at < data.length; at += step) bodies.push(...reader.push(data.subarray(at, at + step)).map((p) => p.body));
      // The ending's empty part is dropped like any part with no body.
      assert.deepEqual(bodies, jpegs, `${encoder.constructor.name}, chunks of ${step}`);
    }
  }
});
