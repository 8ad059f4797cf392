import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCamcastError } from '../errors.js';
import { camera } from './camera.js';
import { file } from './file.js';
import { openSource } from './index.js';
import { push } from './push.js';
import { testPattern } from './test-pattern.js';
import { url } from './url.js';

/** Each factory given what a JavaScript caller might pass, and the start of the BAD_OPTION it must throw. */
const rows: Array<[string, () => unknown, RegExp]> = [
  ['file({})', () => file({} as never), /^path must be a non-empty string, e.g. 'clip\.mp4' \(got undefined\)/],
  ['file({ path: 42 })', () => file({ path: 42 as never }), /^path must be a non-empty string.*\(got 42\)/],
  ['file({ path: \'\' })', () => file({ path: '' }), /^path must be a non-empty string/],
  ['file()', () => (file as (o?: unknown) => unknown)(), /^file\(\) takes an options object, e.g. file\(\{ path: 'clip\.mp4' \}\) \(got undefined\)/],
  ['file(\'clip.mp4\')', () => file('clip.mp4' as never), /^file\(\) takes an options object.*\(got 'clip\.mp4'\)/],
  ['file({ loop: \'false\' })', () => file({ path: 'a.mp4', loop: 'false' as never }), /^loop must be true or false \(got 'false'\)/],
  ['file({ startTimeoutMs: NaN })', () => file({ path: 'a.mp4', startTimeoutMs: Number.NaN }), /^startTimeoutMs must be a number from 1 to 2147483647 \(got NaN\)/],
  ['file({ stallTimeoutMs: -1 })', () => file({ path: 'a.mp4', stallTimeoutMs: -1 }), /^stallTimeoutMs must be a number from 0/],
  ['file({ probeTimeoutMs: 0 })', () => file({ path: 'a.mp4', probeTimeoutMs: 0 }), /^probeTimeoutMs must be a number from 1/],
  ['file({ ffmpegPath: \'\' })', () => file({ path: 'a.mp4', ffmpegPath: '' }), /^ffmpegPath must be a non-empty string/],
  ['file({ width: \'640\' })', () => file({ path: 'a.mp4', width: '640' as never }), /^width must be an integer from 16 to 16384, got '640'/],
  ['url({ url: \'ftp://x\' })', () => url({ url: 'ftp://x' }), /^unsupported URL scheme in ftp:\/\/x: use rtsp:\/\/, rtsps:\/\/, http:\/\/ or https:\/\//],
  ['url({ url: \'cam.local\' })', () => url({ url: 'cam.local' }), /^not a valid URL: cam\.local/],
  ['url({})', () => url({} as never), /^url must be a non-empty string/],
  ['url(null)', () => url(null as never), /^url\(\) takes an options object.*\(got null\)/],
  ['url({ checkTimeoutMs: Infinity })', () => url({ url: 'http://cam/', checkTimeoutMs: Infinity }), /^checkTimeoutMs must be a number/],
  ['url({ startTimeoutMs: 2 ** 31 })', () => url({ url: 'http://cam/', startTimeoutMs: 2 ** 31 }), /^startTimeoutMs must be a number from 1 to 2147483647/],
  ['url({ maxFrameBytes: 0.5 })', () => url({ url: 'http://cam/', maxFrameBytes: 0.5 }), /^maxFrameBytes must be a whole number/],
  ['url({ fps: -2 })', () => url({ url: 'http://cam/snap.jpg', fps: -2 }), /^fps must be a number above 0/],
  ['camera({})', () => camera({} as never), /^device must be a non-empty string, e.g. '\/dev\/video0' or '0'/],
  ['camera({ device: 0 })', () => camera({ device: 0 as never }), /^device must be a non-empty string.*\(got 0\)/],
  ['camera({ probeTimeoutMs: -5 })', () => camera({ device: '0', probeTimeoutMs: -5 }), /^probeTimeoutMs must be a number from 1/],
  ['camera({ quality: 0 })', () => camera({ device: '0', quality: 0 }), /^quality must be an integer from 1 to 100, got 0/],
  ['testPattern(null)', () => testPattern(null as never), /^testPattern\(\) takes an options object.*\(got null\)/],
  ['testPattern({ fps: NaN })', () => testPattern({ fps: Number.NaN }), /^fps must be a number above 0 and at most 240, got NaN/],
  ['testPattern({ width: -640 })', () => testPattern({ width: -640 }), /^width must be an integer from 16 to 16384, got -640/],
  ['push(null)', () => push(null as never), /^push\(\) takes an options object.*\(got null\)/],
  ['push({ quality: 101 })', () => push({ quality: 101 }), /^quality must be an integer from 1 to 100, got 101/],
  ['openSource(42)', () => openSource(42 as never), /^the source spec must be a string/],
  ['openSource(\'test\', null)', () => openSource('test', null as never), /^openSource\(\) takes an options object/],
  ['openSource(\'test\', { fps: 0 })', () => openSource('test', { fps: 0 }), /^fps must be a number above 0/],
  ['openSource(\'clip.mp4\', { loop: 1 })', () => openSource('clip.mp4', { loop: 1 as never }), /^loop must be true or false \(got 1\)/],
];

for (const [call, make, message] of rows) {
  test(`${call} throws BAD_OPTION naming the option`, () => {
    assert.throws(make, (err: unknown) => {
      assert.ok(isCamcastError(err, 'BAD_OPTION'), String(err));
      assert.match(err.message, message);
      return true;
    });
  });
}

test('openSource() and url() reject an unsupported scheme with the same words, the password masked', () => {
  const messageOf = (make: () => unknown) => {
    try {
      make();
    } catch (err) {
      return (err as Error).message;
    }
    assert.fail('did not throw');
  };
  const spec = 'ftp://admin:hunter2@cam/x';
  assert.equal(messageOf(() => openSource(spec)), 'unsupported URL scheme in --source ftp://admin:***@cam/x: use rtsp://, rtsps://, http:// or https://');
  assert.equal(messageOf(() => url({ url: spec })), 'unsupported URL scheme in ftp://admin:***@cam/x: use rtsp://, rtsps://, http:// or https://');
});

test('the factories accept what the camcast command accepts', () => {
  const encode = { width: 1280, height: 720, fps: 30, quality: 80 };
  for (const make of [
    () => file({ path: 'clip.mp4', loop: false, stallTimeoutMs: 0, ...encode }),
    () => url({ url: 'rtsp://admin:pw@cam/stream1', startTimeoutMs: 10_000, ...encode }),
    () => url({ url: 'http://cam/snap.jpg', fps: 0.5 }),
    () => camera({ device: '/dev/video0', probeTimeoutMs: 5000, ...encode }),
    () => testPattern(encode),
    () => testPattern(),
    () => push(),
    () => openSource('test', encode),
  ]) {
    assert.doesNotThrow(make);
  }
});
