import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isCamcastError } from '../errors.js';
import { camera, cameraDevicePath, listCameras } from './camera.js';
import { frameCollector } from '../testing/frame-collector.js';

const FFMPEG = '/usr/bin/ffmpeg';
/** A character device every test machine has: it passes check(), but V4L2 rejects it. */
const NOT_A_CAMERA = '/dev/null';
let dir = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'camcast-camera-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const UVC_FORMATS = `[video4linux2,v4l2 @ 0x5581d3b6f4c0] Compressed:       mjpeg :          Motion-JPEG : 1280x720 640x480
[video4linux2,v4l2 @ 0x5581d3b6f4c0] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 1280x720
/dev/video0: Immediate exit requested
`;
const RAW_FORMATS = `[video4linux2,v4l2 @ 0x55d0] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480
/dev/video0: Immediate exit requested
`;

/**
 * An ffmpeg stand-in for a machine without a camera: it answers the format probe with `formats`
 * (logging each probe), records the capture argv, then streams a real test pattern.
 */
async function fakeFfmpeg(name: string, formats: string, { slowProbe = false } = {}): Promise<{ path: string; argv: () => Promise<string[]>; probes: () => Promise<number> }> {
  const base = join(dir, name);
  await writeFile(`${base}.formats`, formats);
  const script = `#!/bin/sh
for a in "$@"; do
  if [ "$a" = "-list_formats" ]; then
    echo probe >> '${base}.probes'
    ${slowProbe ? 'exec sleep 5' : ''}
    cat '${base}.formats' >&2
    exit 1
  fi
done
printf '%s\\n' "$@" > '${base}.argv'
exec ${FFMPEG} -hide_banner -loglevel error -nostdin -f lavfi -i testsrc=size=160x120:rate=30 -f mjpeg pipe:1
`;
  await writeFile(base, script);
  await chmod(base, 0o755);
  return {
    path: base,
    argv: async () => (await readFile(`${base}.argv`, 'utf8')).trim().split('\n'),
    probes: async () => (await readFile(`${base}.probes`, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
  };
}


test('camera().start() passes MJPEG through (-input_format mjpeg -c:v copy -bsf:v mjpeg2jpeg) when the probe offers it', async (t) => {
  const fake = await fakeFfmpeg('uvc', UVC_FORMATS);
  const source = camera({ device: NOT_A_CAMERA, ffmpegPath: fake.path, width: 640, height: 480, fps: 15 });
  t.after(() => source.stop());
  const { sink, frames } = frameCollector();
  await source.start(sink);
  assert.ok(frames.length >= 1);
  assert.deepEqual([frames[0]!.width, frames[0]!.height], [160, 120]);
  assert.equal(
    (await fake.argv()).join(' '),
    `-hide_banner -loglevel error -nostdin -f v4l2 -input_format mjpeg -video_size 640x480 -framerate 15 -i ${NOT_A_CAMERA} -map 0:v:0 -c:v copy -bsf:v mjpeg2jpeg -f mjpeg pipe:1`,
  );
});

test('camera().start() decodes and encodes when the camera offers only raw formats, and probes once', async (t) => {
  const fake = await fakeFfmpeg('raw', RAW_FORMATS);
  const source = camera({ device: NOT_A_CAMERA, ffmpegPath: fake.path, quality: 100 });
  t.after(() => source.stop());
  await source.start(frameCollector().sink);
  const argv = (await fake.argv()).join(' ');
  assert.ok(!argv.includes('-input_format'), argv);
  assert.ok(argv.includes('-pix_fmt yuvj420p -q:v 2'), argv);
  await source.stop();
  await source.start(frameCollector().sink);
  assert.equal(await fake.probes(), 1, 'the formats of a camera are probed once');
});

test('camera() re-encodes an MJPEG camera, still reading its MJPEG, when a quality or an unlisted size is asked, and says so once', async (t) => {
  const fake = await fakeFfmpeg('uvc-asked', UVC_FORMATS);
  const said: string[] = [];
  const logger = { debug() {}, info: (m: string) => said.push(m), warn() {}, error() {} };
  const withQuality = camera({ device: NOT_A_CAMERA, ffmpegPath: fake.path, width: 640, height: 480, quality: 50, logger });
  t.after(() => withQuality.stop());
  await withQuality.start(frameCollector().sink);
  assert.equal(
    (await fake.argv()).join(' '),
    `-hide_banner -loglevel error -nostdin -f v4l2 -input_format mjpeg -video_size 640x480 -i ${NOT_A_CAMERA} -map 0:v:0 -vf scale=640:480 -pix_fmt yuvj420p -q:v 17 -f mjpeg pipe:1`,
  );
  await withQuality.stop();
  await withQuality.start(frameCollector().sink);
  assert.deepEqual(said, [`${NOT_A_CAMERA} (camera): re-encoding its MJPEG (quality 50 was asked); leave out the size and quality to pass it through at no CPU cost`]);

  const otherSize = camera({ device: NOT_A_CAMERA, ffmpegPath: fake.path, width: 800, height: 600, logger });
  t.after(() => otherSize.stop());
  await otherSize.start(frameCollector().sink);
  const argv = (await fake.argv()).join(' ');
  assert.match(argv, /-input_format mjpeg -video_size 800x600 .* -vf scale=800:600 /);
  assert.ok(!argv.includes('-c:v copy'), argv);
  assert.match(said[1]!, /re-encoding its MJPEG \(its MJPEG comes in 1280x720, 640x480, not 800x600\)/);
});

test('camera().stop() during the format probe makes start() reject with CLOSED', async (t) => {
  const fake = await fakeFfmpeg('slow', UVC_FORMATS, { slowProbe: true });
  const source = camera({ device: NOT_A_CAMERA, ffmpegPath: fake.path });
  t.after(() => source.stop());
  const starting = source.start(frameCollector().sink);
  await sleep(200);
  const stopped = Date.now();
  await source.stop();
  assert.ok(Date.now() - stopped < 3000, 'stop() did not wait for the 5 s probe');
  await assert.rejects(starting, (err: unknown) => isCamcastError(err, 'CLOSED'));
});

test('camera().start() with the real ffmpeg on a non-V4L2 device rejects with ffmpeg\'s reason', async (t) => {
  const source = camera({ device: NOT_A_CAMERA, ffmpegPath: FFMPEG });
  t.after(() => source.stop());
  await assert.rejects(source.start(frameCollector().sink), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
    assert.match(err.message, /^\/dev\/null \(camera\): ffmpeg exited with code 1 before the first frame: .*Inappropriate ioctl/);
    return true;
  });
});

test('camera().check() rejects SOURCE_NOT_FOUND listing the cameras present', async () => {
  const source = camera({ device: '/dev/video99', ffmpegPath: FFMPEG });
  await assert.rejects(source.check!(), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_NOT_FOUND'));
    assert.match(err.message, /^\/dev\/video99 not found; cameras present: (none|\/dev\/video\d+(, \/dev\/video\d+)*)$/);
    return true;
  });
  await assert.rejects(camera({ device: '99', ffmpegPath: FFMPEG }).start(frameCollector().sink), (err: unknown) =>
    isCamcastError(err, 'SOURCE_NOT_FOUND'),
  );
});

test('camera().check() rejects a regular file as not a camera', async () => {
  const path = join(dir, 'plain-file');
  await writeFile(path, 'x');
  await assert.rejects(camera({ device: path }).check!(), (err: unknown) => isCamcastError(err, 'SOURCE_NOT_FOUND') && /not a camera/.test(err.message));
});

test('camera() takes a bare index as /dev/videoN and names it in its description', () => {
  assert.equal(cameraDevicePath('3'), '/dev/video3');
  assert.equal(cameraDevicePath('/dev/v4l/by-id/usb-cam'), '/dev/v4l/by-id/usb-cam');
  assert.equal(camera({ device: '42' }).description, '/dev/video42 (camera)');
  assert.equal(camera({ device: '0' }).kind, 'camera');
  assert.throws(() => camera({ device: '0', fps: -1 }), (err: unknown) => isCamcastError(err, 'BAD_OPTION'));
});

test('listCameras() lists videoN entries in numeric order and [] for a missing directory', async () => {
  const devices = await mkdtemp(join(dir, 'dev-'));
  for (const name of ['video10', 'video2', 'video0', 'videoX', 'media0']) await writeFile(join(devices, name), '');
  assert.deepEqual(await listCameras({ dir: devices }), ['video0', 'video2', 'video10'].map((n) => join(devices, n)));
  assert.deepEqual(await listCameras({ dir: join(dir, 'nope') }), []);
});

test('camera().check() rejects a character device that is not a video4linux device (/dev/null)', { skip: process.platform !== 'linux' && 'major 81 is Linux\'s' }, async () => {
  await assert.rejects(camera({ device: NOT_A_CAMERA, ffmpegPath: FFMPEG }).check!(), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_NOT_FOUND'), String(err));
    assert.match(err.message, /^\/dev\/null is not a camera \(not a video4linux device\); cameras present: /);
    return true;
  });
});

test('camera().check(signal) rejects with the reason of a signal that has aborted', async () => {
  const reason = new Error('interrupted');
  await assert.rejects(camera({ device: '/dev/video99', ffmpegPath: FFMPEG }).check!(AbortSignal.abort(reason)), (err: unknown) => err === reason);
});
