import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { requireCommand, runClient } from '../../testing/client-process.js';

const WIDTH = 320;
const HEIGHT = 240;
const FRAMES = 30;

describe('GStreamer as a client', () => {
  test('souphttpsrc ! multipartdemux ! jpegdec decodes 30 frames of 320x240 from /stream.mjpg', async (t) => {
    const gst = requireCommand('gst-launch-1.0', 'gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-base');
    const server = createServer({ source: testPattern({ width: WIDTH, height: HEIGHT, fps: 30 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { url } = await server.listen();
    // Decoded pictures leave as 8-bit gray, so stdout holds exactly WIDTH*HEIGHT bytes per frame.
    // identity eos-after=N ends the pipeline when its Nth buffer arrives, without passing it on.
    const pipeline = [
      'souphttpsrc', `location=${url}stream.mjpg`, '!',
      'multipartdemux', '!',
      'jpegdec', '!',
      'videoconvert', '!', 'video/x-raw,format=GRAY8', '!',
      'identity', `eos-after=${FRAMES + 1}`, '!',
      'fdsink', 'fd=1',
    ];
    const result = await runClient(t, gst, ['-q', ...pipeline], { timeoutMs: 25_000 });
    assert.equal(result.code, 0, `gst-launch-1.0 failed: ${result.stderr}`);
    assert.equal(result.stdout.length, FRAMES * WIDTH * HEIGHT, `${result.stdout.length / (WIDTH * HEIGHT)} frames of ${WIDTH}x${HEIGHT}`);
    const frames = new Set<string>();
    for (let i = 0; i < FRAMES; i++) frames.add(result.stdout.subarray(i * WIDTH * HEIGHT, (i + 1) * WIDTH * HEIGHT).toString('base64'));
    assert.ok(frames.size >= 20, `${frames.size} different pictures among ${FRAMES}`);
  });

  test('jpegdec reports the stream as 320x240 video', async (t) => {
    const gst = requireCommand('gst-launch-1.0', 'gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-base');
    const server = createServer({ source: testPattern({ width: WIDTH, height: HEIGHT, fps: 30 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { url } = await server.listen();
    const result = await runClient(t, gst, ['-v', 'souphttpsrc', `location=${url}?action=stream`, '!', 'multipartdemux', '!', 'jpegdec', '!', 'identity', 'eos-after=5', '!', 'fakesink'], {
      timeoutMs: 25_000,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.toString(), /jpegdec\d*\.GstPad:src: caps = video\/x-raw.*width=\(int\)320, height=\(int\)240/);
  });
});
