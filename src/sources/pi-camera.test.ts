import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { isCamcastError } from '../errors.js';
import { frameCollector } from '../testing/frame-collector.js';
import { fakeRpicam, TWO_CAMERAS } from '../testing/fake-rpicam.js';
import { pidsMatching } from '../testing/processes.js';
import { openSource } from './index.js';
import { parsePiCameraList, piCamera, piCameraArgs, piCameraNode } from './pi-camera.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'camcast-picam-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `body` with PATH holding only `dir`, as if rpicam-vid were installed there and nowhere else. */
function onlyOnPath(t: TestContext, dir: string): void {
  const saved = process.env['PATH'];
  process.env['PATH'] = dir;
  t.after(() => {
    process.env['PATH'] = saved;
  });
}

test('piCameraArgs() streams MJPEG to stdout until stopped, flushed per frame, at quality 80 unless asked', () => {
  const table: Array<[Parameters<typeof piCameraArgs>[0], string]> = [
    [{}, '--camera 0 --timeout 0 --nopreview --verbose 0 --codec mjpeg --flush --quality 80 --output -'],
    [
      { camera: 1, width: 1280, height: 720, fps: 15, quality: 60 },
      '--camera 1 --timeout 0 --nopreview --verbose 0 --codec mjpeg --flush --width 1280 --height 720 --framerate 15 --quality 60 --output -',
    ],
    [{ fps: 7.5 }, '--camera 0 --timeout 0 --nopreview --verbose 0 --codec mjpeg --flush --framerate 7.5 --quality 80 --output -'],
  ];
  for (const [options, argv] of table) assert.equal(piCameraArgs(options).join(' '), argv);
});

test('parsePiCameraList() reads each camera index and sensor; "No cameras available!" is none', () => {
  assert.deepEqual(parsePiCameraList(TWO_CAMERAS), [
    { index: 0, model: 'imx708' },
    { index: 1, model: 'ov5647' },
  ]);
  assert.deepEqual(parsePiCameraList('No cameras available!\n'), []);
});

test('piCameraNode() names the Pi camera interfaces behind a video node, through links, and nothing else', (t) => {
  const dir = tempDir(t);
  const sys = join(dir, 'sys');
  const node = (name: string, driver: string) => {
    mkdirSync(join(sys, name), { recursive: true });
    writeFileSync(join(sys, name, 'name'), `${driver}\n`);
    writeFileSync(join(dir, name), '');
    return join(dir, name);
  };
  assert.equal(piCameraNode(node('video0', 'unicam-image'), { sysDir: sys }), 'unicam-image');
  assert.equal(piCameraNode(node('video1', 'rp1-cfe-csi2_ch0'), { sysDir: sys }), 'rp1-cfe-csi2_ch0');
  assert.equal(piCameraNode(node('video2', 'HD Pro Webcam C920'), { sysDir: sys }), undefined);
  symlinkSync(join(dir, 'video0'), join(dir, 'by-id-link'));
  assert.equal(piCameraNode(join(dir, 'by-id-link'), { sysDir: sys }), 'unicam-image');
  assert.equal(piCameraNode(join(dir, 'video9'), { sysDir: sys }), undefined);
});

test('piCamera().start() runs rpicam-vid with piCameraArgs() and delivers its JPEGs; stop() ends the process', async (t) => {
  const dir = tempDir(t);
  const fake = fakeRpicam(dir);
  const source = piCamera({ rpicamPath: fake.path, camera: 1, width: 640, height: 480, fps: 15 });
  t.after(() => source.stop());
  assert.equal(source.kind, 'picamera');
  assert.equal(source.description, 'Pi camera 1');
  const { sink, frames } = frameCollector();
  await source.start(sink);
  assert.ok(frames.length >= 1);
  assert.deepEqual([frames[0]!.width, frames[0]!.height], [160, 120]);
  assert.deepEqual(fake.argv(), piCameraArgs({ camera: 1, width: 640, height: 480, fps: 15 }));
  assert.equal(pidsMatching(dir).length, 1, 'one capture process');
  await source.stop();
  assert.deepEqual(pidsMatching(dir), [], 'none left after stop()');
});

test('piCamera() finds rpicam-vid on the PATH, else libcamera-vid, and names the one it runs in its errors', async (t) => {
  const dir = tempDir(t);
  fakeRpicam(dir, { name: 'libcamera-vid', fail: { stderr: 'ERROR: *** no cameras available ***', code: 255 } });
  onlyOnPath(t, dir);
  const source = piCamera();
  t.after(() => source.stop());
  await assert.rejects(source.start(frameCollector().sink), (error: unknown) => {
    assert.ok(isCamcastError(error, 'SOURCE_START_FAILED'));
    assert.equal(error.message, 'Pi camera 0: libcamera-vid exited with code 255 before the first frame: ERROR: *** no cameras available ***');
    return true;
  });
  const newest = fakeRpicam(dir);
  const newer = piCamera();
  t.after(() => newer.stop());
  await newer.start(frameCollector().sink);
  assert.deepEqual(newest.argv(), piCameraArgs({}));
  await newer.stop();
});

test('piCamera().check() says what to install when neither program is there', async (t) => {
  onlyOnPath(t, tempDir(t));
  await assert.rejects(piCamera().check!(), (error: unknown) => {
    assert.ok(isCamcastError(error, 'SOURCE_NOT_FOUND'));
    assert.match(error.message, /neither rpicam-vid nor libcamera-vid is installed: on Raspberry Pi OS, sudo apt install rpicam-apps/);
    return true;
  });
  await assert.rejects(piCamera({ rpicamPath: '/nonexistent/rpicam-vid' }).check!(), /rpicamPath \/nonexistent\/rpicam-vid is not an executable file/);
});

test('piCamera().check() passes a listed camera, and names the cameras present for one that is not', async (t) => {
  const dir = tempDir(t);
  const fake = fakeRpicam(dir);
  await piCamera({ rpicamPath: fake.path, camera: 1 }).check!();
  await assert.rejects(piCamera({ rpicamPath: fake.path, camera: 2 }).check!(), (error: unknown) => {
    assert.ok(isCamcastError(error, 'SOURCE_NOT_FOUND'));
    assert.equal(error.message, 'Pi camera 2 not found; cameras present: 0 (imx708), 1 (ov5647)');
    return true;
  });
  const none = fakeRpicam(dir, { name: 'no-camera', list: 'No cameras available!\n' });
  await assert.rejects(piCamera({ rpicamPath: none.path }).check!(), /no-camera --list-cameras finds no camera module: check its ribbon cable/);
});

test('piCamera().check() aborts with the signal, leaving no listing process behind', async (t) => {
  const dir = tempDir(t);
  const slow = join(dir, 'slow-rpicam');
  // Its own path stays in its command line, so the check below can see it.
  writeFileSync(slow, `#!/bin/sh\nexec '${process.execPath}' -e 'setTimeout(() => {}, 30000)' '${slow}'\n`, { mode: 0o755 });
  const abort = new AbortController();
  const checking = piCamera({ rpicamPath: slow }).check!(abort.signal);
  setTimeout(() => {
    assert.equal(pidsMatching(dir).length, 1, 'the listing runs');
    abort.abort(new Error('stopped by the test'));
  }, 300);
  await assert.rejects(checking, /stopped by the test/);
  assert.deepEqual(pidsMatching(dir), []);
});

test('piCamera() refuses bad options before anything runs', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ camera: -1 }, /camera must be a whole number from 0 to 63 \(got -1\)/],
    [{ camera: 'front' }, /camera must be a whole number from 0 to 63 \(got 'front'\)/],
    [{ width: 1280 }, /width and height together, or neither/],
    [{ quality: 0 }, /quality must be an integer from 1 to 100/],
    [{ rpicamPath: '' }, /rpicamPath must be a non-empty string/],
    [{ startTimeoutMs: -1 }, /startTimeoutMs/],
    ['picam', /piCamera\(\) takes an options object/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => piCamera(options as never), (error: unknown) => isCamcastError(error, 'BAD_OPTION') && message.test(error.message), String(message));
  }
});

test('openSource() opens picam and picam:N as Pi cameras, and auto picks one where /dev/video0 is its interface', (t) => {
  assert.equal(openSource('picam').source.description, 'Pi camera 0');
  assert.equal(openSource('picam:1').source.description, 'Pi camera 1');
  assert.equal(openSource('picam:1').source.kind, 'picamera');
  const dir = tempDir(t);
  const sys = join(dir, 'sys');
  mkdirSync(join(sys, 'video0'), { recursive: true });
  writeFileSync(join(dir, 'video0'), '');
  writeFileSync(join(sys, 'video0', 'name'), 'unicam-image\n');
  const pi = openSource('auto', { defaultCamera: join(dir, 'video0'), sysDir: sys });
  assert.equal(pi.source.kind, 'picamera');
  assert.equal(pi.reason, `a Pi camera module found (${join(dir, 'video0')} is unicam-image)`);
  writeFileSync(join(sys, 'video0', 'name'), 'HD Pro Webcam C920\n');
  assert.equal(openSource('auto', { defaultCamera: join(dir, 'video0'), sysDir: sys }).source.kind, 'camera');
});
