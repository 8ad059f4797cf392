import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { isCamcastError } from '../errors.js';
import { file, firstFfmpegError, isStillImage, NO_VIDEO } from './file.js';
import { frameCollector } from '../testing/frame-collector.js';
import { until } from '../testing/fake-source.js';

const FFMPEG = '/usr/bin/ffmpeg';
let dir = '';

/** A short test video made by ffmpeg itself. */
async function makeClip(name: string, seconds: number): Promise<string> {
  const path = join(dir, name);
  await promisify(execFile)(FFMPEG, [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'lavfi', '-i', `testsrc=duration=${seconds}:size=160x120:rate=25`,
    '-c:v', 'mpeg4', '-y', path,
  ]);
  return path;
}

let clip2s = '';
let clipShort = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'camcast-file-'));
  [clip2s, clipShort] = await Promise.all([makeClip('two-seconds.mp4', 2), makeClip('short.mp4', 0.4)]);
});
after(() => rm(dir, { recursive: true, force: true }));



test('file({ loop: false }).start() plays a 2 s clip at about real rate, then calls sink.ended()', async (t) => {
  const source = file({ path: clip2s, loop: false, ffmpegPath: FFMPEG });
  t.after(() => source.stop());
  const { sink, frames, failed, ended } = frameCollector();
  const started = performance.now();
  await source.start(sink);
  await until(() => ended() > 0, 'sink.ended()', 10_000);
  const elapsed = performance.now() - started;
  assert.deepEqual(failed, []);
  assert.equal(ended(), 1);
  assert.ok(frames.length >= 45 && frames.length <= 55, `${frames.length} frames for 2 s at 25 fps`);
  // -re: not faster than 3x real time (without it, 50 tiny frames take a few milliseconds).
  assert.ok(elapsed >= 2000 / 3, `played in ${elapsed.toFixed(0)} ms`);
  assert.deepEqual([frames[0]!.width, frames[0]!.height], [160, 120]);
  assert.ok(frames.every((f) => f.jpeg.readUInt16BE(0) === 0xffd8 && typeof f.capturedAt === 'number'));
});

test('file().start() loops by default past the end of the clip until stop()', async (t) => {
  const source = file({ path: clipShort, ffmpegPath: FFMPEG, width: 80 });
  t.after(() => source.stop());
  const { sink, frames, failed, ended } = frameCollector();
  await source.start(sink);
  await until(() => frames.length >= 25, '25 frames (2.5 passes of a 10-frame clip)', 10_000);
  await source.stop();
  const count = frames.length;
  await sleep(150);
  assert.equal(frames.length, count, 'no frame after stop()');
  assert.equal(ended(), 0);
  assert.deepEqual(failed, []);
  assert.deepEqual([frames[0]!.width, frames[0]!.height], [80, 60], 'width 80 keeps the aspect ratio');
});

test('file().check() rejects SOURCE_NOT_FOUND for a missing file and SOURCE_START_FAILED for a directory', async () => {
  await assert.rejects(
    file({ path: join(dir, 'missing.mp4'), ffmpegPath: FFMPEG }).check!(),
    (err: unknown) => isCamcastError(err, 'SOURCE_NOT_FOUND') && err.message.includes('missing.mp4 not found'),
  );
  const sub = join(dir, 'a-directory');
  await mkdir(sub, { recursive: true });
  await assert.rejects(
    file({ path: sub, ffmpegPath: FFMPEG }).check!(),
    (err: unknown) => isCamcastError(err, 'SOURCE_START_FAILED') && err.message.includes('is not a regular file'),
  );
  await file({ path: clip2s, ffmpegPath: FFMPEG }).check!();
});

test('file().check() rejects a file that is not a video with ffmpeg\'s first reason, naming the file', async () => {
  const garbage = join(dir, 'garbage-check.mp4');
  await writeFile(garbage, 'garbage\n'); // echo garbage > bad.mp4
  const empty = join(dir, 'empty.bin');
  await writeFile(empty, '');
  for (const [path, reason] of [[garbage, 'moov atom not found'], [empty, 'Invalid data found when processing input']] as const) {
    await assert.rejects(file({ path, ffmpegPath: FFMPEG }).check!(), (err: unknown) => {
      assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
      assert.equal(err.message, `${path} is not a video ffmpeg can play: ${reason}; give a complete video file`);
      return true;
    });
  }
});

test('file().check() rejects a file with audio only as having no video stream', async () => {
  const path = join(dir, 'audio-only.mp4');
  await promisify(execFile)(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'sine=duration=0.5', '-c:a', 'aac', '-y', path]);
  await assert.rejects(file({ path, ffmpegPath: FFMPEG }).check!(), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
    assert.equal(err.message, `${path} has no video stream (audio only?): give a video file`);
    return true;
  });
});

/** An ffmpeg that never answers, recording its pid: exec keeps the pid for sleep. */
async function hangingFfmpeg(name: string): Promise<{ path: string; pid: () => Promise<number> }> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\necho $$ > '${path}.pid'\nexec sleep 30\n`);
  await chmod(path, 0o755);
  return { path, pid: async () => Number(await readFile(`${path}.pid`, 'utf8')) };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('file().check() kills a probe that takes longer than probeTimeoutMs and says so', async () => {
  const fake = await hangingFfmpeg('hanging-ffmpeg');
  await assert.rejects(file({ path: clip2s, ffmpegPath: fake.path, probeTimeoutMs: 300 }).check!(), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
    assert.match(err.message, /two-seconds\.mp4: ffmpeg decoded no video frame from it within 0\.3 s/);
    return true;
  });
  assert.equal(isRunning(await fake.pid()), false, 'the probe is gone when check() settles');
});

test('file().check(signal) aborted during the probe rejects at once with the reason and kills ffmpeg', async () => {
  const fake = await hangingFfmpeg('aborted-ffmpeg');
  const abort = new AbortController();
  const reason = new Error('interrupted');
  setTimeout(() => abort.abort(reason), 100);
  const started = performance.now();
  await assert.rejects(file({ path: clip2s, ffmpegPath: fake.path }).check!(abort.signal), (err: unknown) => err === reason);
  assert.ok(performance.now() - started < 600, `settled after ${(performance.now() - started).toFixed(0)} ms`);
  assert.equal(isRunning(await fake.pid()), false, 'the probe is gone when check() settles');
  await assert.rejects(file({ path: clip2s, ffmpegPath: FFMPEG }).check!(AbortSignal.abort()), (err: unknown) => (err as Error).name === 'AbortError');
});

test('file().check() rejects FFMPEG_NOT_FOUND when ffmpegPath cannot be run', async () => {
  await assert.rejects(file({ path: clip2s, ffmpegPath: join(dir, 'no-such-ffmpeg') }).check!(), (err: unknown) =>
    isCamcastError(err, 'FFMPEG_NOT_FOUND') && /no-such-ffmpeg.*ENOENT/.test(err.message),
  );
});

test('firstFfmpegError() gives the first line that says what is wrong, without tags and the file prefix', () => {
  const rows: Array<[string, string | undefined]> = [
    ['[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55aaee7a68c0] moov atom not found\nfile:/v/a.mp4: Invalid data found when processing input\n', 'moov atom not found'],
    ['file:/v/a.mp4: Invalid data found when processing input\n', 'Invalid data found when processing input'],
    ["Stream map '0:v:0' matches no streams.\nTo ignore this, add a trailing '?' to the map.\n", NO_VIDEO],
    ['\r\n  \n[h264 @ 0xabc] Decoder (codec h264) not found\n', 'Decoder (codec h264) not found'],
    ['', undefined],
  ];
  for (const [stderr, expected] of rows) assert.equal(firstFfmpegError(stderr, '/v/a.mp4'), expected, stderr);
});

test('file().start() rejects SOURCE_START_FAILED with ffmpeg\'s reason for a file that is not a video', async (t) => {
  // Not a .txt: ffmpeg plays text files as ANSI art.
  const path = join(dir, 'garbage.mp4');
  await writeFile(path, Buffer.alloc(4096, 0x5a));
  const source = file({ path, ffmpegPath: FFMPEG });
  t.after(() => source.stop());
  await assert.rejects(source.start(frameCollector().sink), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
    assert.match(err.message, /garbage\.mp4.*ffmpeg exited with code \d+ before the first frame: .*Invalid data/);
    return true;
  });
});

test('file().start() rejects with the exit code and stderr of whatever ffmpegPath runs', async (t) => {
  const fake = join(dir, 'not-ffmpeg');
  await writeFile(fake, '#!/bin/sh\necho "fake ffmpeg refuses" >&2\nexit 3\n');
  await chmod(fake, 0o755);
  const source = file({ path: clip2s, ffmpegPath: fake });
  t.after(() => source.stop());
  await assert.rejects(source.start(frameCollector().sink), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'));
    assert.match(err.message, /exited with code 3 before the first frame: fake ffmpeg refuses/);
    return true;
  });
});

test('file() throws BAD_OPTION at once for an out-of-range encode option', () => {
  assert.throws(() => file({ path: clip2s, quality: 0 }), (err: unknown) => isCamcastError(err, 'BAD_OPTION'));
});

test('file().stop() during start() makes start() reject with CLOSED and leaves nothing running', async (t) => {
  const source = file({ path: clip2s, ffmpegPath: FFMPEG });
  t.after(() => source.stop());
  const starting = source.start(frameCollector().sink);
  await source.stop();
  await assert.rejects(starting, (err: unknown) => isCamcastError(err, 'CLOSED'));
});

/** A still picture made by ffmpeg, in `format` (mjpeg, png, bmp), under any name. */
async function makePicture(name: string, format: string): Promise<string> {
  const path = join(dir, name);
  await promisify(execFile)(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc=size=160x120', '-frames:v', '1', '-f', format === 'mjpeg' ? 'mjpeg' : 'image2', '-c:v', format, '-y', path]);
  return path;
}

/** Three JPEGs in a row, as ffmpeg -f mjpeg writes a video. */
async function makeMjpegVideo(name: string): Promise<string> {
  const path = join(dir, name);
  await promisify(execFile)(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-frames:v', '3', '-f', 'mjpeg', '-y', path]);
  return path;
}

test('isStillImage() knows a JPEG, PNG or BMP by its first bytes, whatever its name; a video or GIF is none', async () => {
  const table: Array<[string, boolean]> = [
    [await makePicture('photo.dat', 'mjpeg'), true],
    [await makePicture('picture.png', 'png'), true],
    [await makePicture('picture.bmp', 'bmp'), true],
    [await makePicture('animation.gif', 'gif'), false],
    // JPEGs one after another: an MJPEG video, as rpicam-vid or ffmpeg -f mjpeg write it.
    [await makeMjpegVideo('recording.mjpeg'), false],
    [clip2s, false],
    [join(dir, 'missing.jpg'), false],
  ];
  for (const [path, still] of table) assert.equal(await isStillImage(path), still, path);
});

test('file().start() shows a still image for as long as it runs, at the asked rate; with loop off, once', async (t) => {
  const picture = await makePicture('snapshot.jpg', 'mjpeg');
  const slow = file({ path: picture, ffmpegPath: FFMPEG });
  t.after(() => slow.stop());
  assert.equal(slow.frameIntervalMs, undefined, 'not known before start()');
  await slow.start(frameCollector().sink);
  assert.equal(slow.frameIntervalMs, 1000, 'a picture without fps: one frame a second, told for stall detection');
  await slow.stop();
  const source = file({ path: picture, ffmpegPath: FFMPEG, fps: 10 });
  t.after(() => source.stop());
  await source.check!();
  const { sink, frames, failed, ended } = frameCollector();
  await source.start(sink);
  // ffmpeg would read a one-frame input once and exit: the picture keeps coming instead.
  await until(() => frames.length >= 5, 'five frames of the one picture', 5000);
  assert.deepEqual([frames[0]!.width, frames[0]!.height], [160, 120]);
  assert.equal(failed.length + ended(), 0);
  await source.stop();
  const once = file({ path: picture, ffmpegPath: FFMPEG, loop: false });
  t.after(() => once.stop());
  const played = frameCollector();
  await once.start(played.sink);
  await until(() => played.ended() === 1, 'the end after one frame', 5000);
  assert.equal(played.frames.length, 1);
});

test('file().check() blames the program, not the file, when ffmpegPath is no ffmpeg', async () => {
  for (const program of ['/usr/bin/ffprobe', '/bin/true']) {
    await assert.rejects(file({ path: clip2s, ffmpegPath: program }).check!(), (error: unknown) => {
      assert.ok(isCamcastError(error, 'FFMPEG_NOT_FOUND'), String(error));
      assert.match(error.message, new RegExp(`^${program} does not behave as ffmpeg \\(.*\\): point FFMPEG_PATH \\(or ffmpegPath\\) at ffmpeg itself$`));
      return true;
    });
  }
});
