import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { testPattern } from '../sources/test-pattern.js';
import { createServer } from '../stream-server.js';

describe('ffmpeg as a client', () => {
  test('ffmpeg decodes at least 30 frames of the right size from /stream.mjpg', async (t) => {
    const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 30 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { url } = await server.listen();
    const ffmpeg = process.env.FFMPEG_PATH ?? 'ffmpeg';
    const child = spawn(ffmpeg, ['-hide_banner', '-nostdin', '-i', `${url}stream.mjpg`, '-frames:v', '30', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (bytes += c.length));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, stderr.slice(-2000));
    assert.equal(bytes, 30 * 320 * 240, '30 whole gray frames of 320x240');
    assert.match(stderr, /mjpeg.*320x240/);
  });
});
