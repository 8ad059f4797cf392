import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isCamcastError } from '../errors.js';
import {
  cameraArgs,
  fileArgs,
  listFormatsArgs,
  parseV4l2Formats,
  probeFileArgs,
  qualityToQscale,
  urlArgs,
  validateEncodeOptions,
} from './ffmpeg-args.js';

const G = '-hide_banner -loglevel error -nostdin';
const OUT = '-f mjpeg pipe:1';
const ENC_DEFAULT = '-pix_fmt yuvj420p -q:v 8';

/** Table rows compare the argv joined by spaces for readability; a separate test pins tokens. */
const rows: Array<[string, () => string[], string]> = [
  ['camera passthrough, no options', () => cameraArgs({ device: '/dev/video0', passthrough: true }),
    `${G} -f v4l2 -input_format mjpeg -i /dev/video0 -map 0:v:0 -c:v copy -bsf:v mjpeg2jpeg ${OUT}`],
  ['camera passthrough asks the camera for size and rate', () => cameraArgs({ device: '/dev/video2', passthrough: true, width: 1280, height: 720, fps: 15, quality: 50 }),
    `${G} -f v4l2 -input_format mjpeg -video_size 1280x720 -framerate 15 -i /dev/video2 -map 0:v:0 -c:v copy -bsf:v mjpeg2jpeg ${OUT}`],
  ['camera encode, no options', () => cameraArgs({ device: '/dev/video0', passthrough: false }),
    `${G} -f v4l2 -i /dev/video0 -map 0:v:0 ${ENC_DEFAULT} ${OUT}`],
  ['camera encode with size, fps and quality', () => cameraArgs({ device: '/dev/video0', passthrough: false, width: 640, height: 480, fps: 10, quality: 100 }),
    `${G} -f v4l2 -video_size 640x480 -i /dev/video0 -map 0:v:0 -vf fps=10,scale=640:480 -pix_fmt yuvj420p -q:v 2 ${OUT}`],
  ['camera encode with width only gives no size hint', () => cameraArgs({ device: '/dev/video0', passthrough: false, width: 320 }),
    `${G} -f v4l2 -i /dev/video0 -map 0:v:0 -vf scale=320:-2 ${ENC_DEFAULT} ${OUT}`],
  ['file loops by default', () => fileArgs({ path: '/videos/a.mp4' }),
    `${G} -re -stream_loop -1 -i file:/videos/a.mp4 -map 0:v:0 ${ENC_DEFAULT} ${OUT}`],
  ['file played once with height and quality', () => fileArgs({ path: 'clip.mkv', loop: false, height: 240, quality: 1 }),
    `${G} -re -i file:clip.mkv -map 0:v:0 -vf scale=-2:240 -pix_fmt yuvj420p -q:v 31 ${OUT}`],
  ['rtsp over tcp', () => urlArgs({ url: 'rtsp://user:pw@cam.local:554/stream1', fps: 5 }),
    `${G} -rtsp_transport tcp -i rtsp://user:pw@cam.local:554/stream1 -map 0:v:0 -vf fps=5 ${ENC_DEFAULT} ${OUT}`],
  ['rtsps over tcp', () => urlArgs({ url: 'RTSPS://cam/s' }),
    `${G} -rtsp_transport tcp -i RTSPS://cam/s -map 0:v:0 ${ENC_DEFAULT} ${OUT}`],
  ['http with the default read timeout', () => urlArgs({ url: 'http://cam/video.mp4' }),
    `${G} -rw_timeout 10000000 -i http://cam/video.mp4 -map 0:v:0 ${ENC_DEFAULT} ${OUT}`],
  ['https with a custom read timeout', () => urlArgs({ url: 'https://cam/snap.jpg', ioTimeoutMs: 2500, width: 100, height: 50 }),
    `${G} -rw_timeout 2500000 -i https://cam/snap.jpg -map 0:v:0 -vf scale=100:50 ${ENC_DEFAULT} ${OUT}`],
  ['file probe decodes one frame of the first video stream', () => probeFileArgs('/videos/a b.mp4'),
    `${G} -i file:/videos/a b.mp4 -map 0:v:0 -frames:v 1 -f framecrc -`],
  ['list formats uses loglevel info', () => listFormatsArgs('/dev/video0'),
    '-hide_banner -loglevel info -nostdin -f v4l2 -list_formats all -i /dev/video0'],
];

for (const [name, make, expected] of rows) {
  test(`ffmpeg argv for ${name}`, () => {
    assert.equal(make().join(' '), expected);
  });
}

test('fileArgs() keeps a path with spaces and quotes as one argument', () => {
  const args = fileArgs({ path: `/tmp/my "clip" $HOME.mp4` });
  assert.equal(args[args.indexOf('-i') + 1], `file:/tmp/my "clip" $HOME.mp4`);
  assert.ok(args.every((a) => typeof a === 'string' && a.length > 0));
});

test('urlArgs() throws BAD_OPTION for a scheme ffmpeg should not be handed', () => {
  for (const url of ['file:///etc/passwd', 'ftp://x/y', 'not a url']) {
    assert.throws(() => urlArgs({ url }), (err: unknown) => isCamcastError(err, 'BAD_OPTION') && err.message.includes(url));
  }
});

test('qualityToQscale() maps 1..100 onto 31..2, monotonically decreasing', () => {
  assert.equal(qualityToQscale(1), 31);
  assert.equal(qualityToQscale(100), 2);
  assert.equal(qualityToQscale(80), 8);
  let previous = Infinity;
  for (let q = 1; q <= 100; q++) {
    const scale = qualityToQscale(q);
    assert.ok(scale <= previous && scale >= 2 && scale <= 31, `quality ${q} -> ${scale}`);
    previous = scale;
  }
  assert.ok(qualityToQscale(10) > qualityToQscale(90));
});

test('validateEncodeOptions() throws BAD_OPTION naming the option and its range', () => {
  validateEncodeOptions({});
  validateEncodeOptions({ width: 640, height: 480, fps: 0.5, quality: 1 });
  const bad: Array<[object, string]> = [
    [{ width: 0 }, 'width must be an integer from 16 to 16384, got 0'],
    [{ height: 10.5 }, 'height must be an integer from 16 to 16384, got 10.5'],
    [{ fps: 0 }, 'fps must be a number above 0 and at most 240, got 0'],
    [{ fps: Number.NaN }, 'fps must be a number above 0 and at most 240, got NaN'],
    [{ quality: 101 }, 'quality must be an integer from 1 to 100, got 101'],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => validateEncodeOptions(options), (err: unknown) => isCamcastError(err, 'BAD_OPTION') && err.message === message);
  }
});

/** What `ffmpeg -f v4l2 -list_formats all -i /dev/video0` prints for a typical UVC webcam. */
const UVC_SAMPLE = `[video4linux2,v4l2 @ 0x5581d3b6f4c0] Compressed:       mjpeg :          Motion-JPEG : 1280x720 960x540 848x480 640x480 640x360 424x240 320x240 320x180 160x120
[video4linux2,v4l2 @ 0x5581d3b6f4c0] Raw       :     yuyv422 :           YUYV 4:2:2 : 640x480 640x360 424x240 320x240 320x180 160x120 1280x720
/dev/video0: Immediate exit requested
`;

const RAW_ONLY_SAMPLE = `[video4linux2,v4l2 @ 0x55d0] Raw       :     yuyv422 :           YUYV 4:2:2 : {32-1920, 2}x{32-1080, 2}
[video4linux2,v4l2 @ 0x55d0] Compressed:       mjpeg :          Motion-JPEG : Emulated : 640x480
[video4linux2,v4l2 @ 0x55d0] Compressed:        h264 :                H.264 : 1920x1080
/dev/video1: Immediate exit requested
`;

test('parseV4l2Formats() finds MJPEG offered by a UVC webcam, with its sizes', () => {
  const { formats, mjpeg } = parseV4l2Formats(UVC_SAMPLE);
  assert.equal(mjpeg, true);
  assert.deepEqual(
    formats.map((f) => [f.kind, f.name, f.description, f.emulated, f.sizes.length]),
    [
      ['compressed', 'mjpeg', 'Motion-JPEG', false, 9],
      ['raw', 'yuyv422', 'YUYV 4:2:2', false, 7],
    ],
  );
  assert.equal(formats[0]!.sizes[0], '1280x720');
});

test('parseV4l2Formats() says no MJPEG for raw and H.264 cameras and for emulated MJPEG', () => {
  const { formats, mjpeg } = parseV4l2Formats(RAW_ONLY_SAMPLE);
  assert.equal(mjpeg, false);
  assert.deepEqual(formats[0]!.sizes, ['{32-1920, 2}x{32-1080, 2}']);
  assert.equal(formats[1]!.emulated, true);
  assert.deepEqual(formats[1]!.sizes, ['640x480']);
  assert.equal(formats[2]!.name, 'h264');
});

test('parseV4l2Formats() returns nothing for an error instead of a list', () => {
  const failed = '[video4linux2,v4l2 @ 0x5] Cannot open video device /dev/video0: No such file or directory\n/dev/video0: No such file or directory\n';
  assert.deepEqual(parseV4l2Formats(failed), { formats: [], mjpeg: false });
});
