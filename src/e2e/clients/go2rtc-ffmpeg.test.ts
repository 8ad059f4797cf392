import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { requireCommand, runClient, runJsonClient } from '../../testing/client-process.js';

// What go2rtc runs for a source written as "ffmpeg:http://…/stream.mjpg#video=h264" (the
// restream Frigate's docs recommend for MJPEG cameras): its "http" input template and its
// "h264" output template (go2rtc internal/ffmpeg/ffmpeg.go), writing a file instead of RTSP.
const GO2RTC_HTTP_INPUT = ['-fflags', 'nobuffer', '-flags', 'low_delay'];
const GO2RTC_H264 = ['-c:v', 'libx264', '-g:v', '30', '-preset:v', 'superfast', '-tune:v', 'zerolatency', '-profile:v', 'main', '-level:v', '4.1', '-pix_fmt:v', 'yuv420p'];

describe('go2rtc / Frigate restream through ffmpeg', () => {
  test('ffmpeg with go2rtc\'s flags turns /stream.mjpg into 30 frames of 320x240 H.264', async (t) => {
    const ffmpeg = requireCommand('ffmpeg', 'ffmpeg');
    const ffprobe = requireCommand('ffprobe', 'ffmpeg');
    const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 30 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { url } = await server.listen();
    const dir = mkdtempSync(join(tmpdir(), 'camcast-go2rtc-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'restream.ts');
    const run = await runClient(t, ffmpeg, ['-hide_banner', '-nostdin', ...GO2RTC_HTTP_INPUT, '-i', `${url}stream.mjpg`, ...GO2RTC_H264, '-an', '-frames:v', '30', '-f', 'mpegts', out], {
      timeoutMs: 25_000,
    });
    assert.equal(run.code, 0, run.stderr);
    const probe = await runJsonClient<{ streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }>(
      t,
      ffprobe,
      ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', out],
    );
    const [stream] = probe.streams;
    assert.ok(stream, 'a video stream in the output');
    assert.deepEqual([stream.codec_name, stream.width, stream.height, Number(stream.nb_read_frames)], ['h264', 320, 240, 30]);
  });
});
