import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { jpegEncoder } from '../raster/encode-jpeg.js';
import { testPattern } from '../sources/test-pattern.js';
import { createServer } from '../stream-server.js';
import { fetchBuffer, openMjpeg } from '../testing/mjpeg-client.js';
import { fakeRpicam } from '../testing/fake-rpicam.js';
import { Notifier } from '../testing/notifier.js';
import { pidsMatching } from '../testing/processes.js';
import { selfSignedCertificate } from '../testing/self-signed.js';
import { makeClip } from '../testing/test-clip.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

interface Run {
  readonly stderr: () => string;
  readonly stdout: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves with the first stderr match of `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): void;
}

function run(t: TestContext, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  let stdout = '';
  const changes = new Notifier();
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    changes.notify();
  });
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  void exited.then(() => {
    clearTimeout(killer);
    changes.notify();
  });
  return {
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    kill: (signal = 'SIGTERM') => child.kill(signal),
    waitFor(pattern, timeoutMs = 15_000) {
      return changes.until(
        () => {
          const match = pattern.exec(stderr);
          if (match) return match;
          if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} without ${pattern}: ${stderr}`);
          return undefined;
        },
        timeoutMs,
        () => new Error(`no ${pattern} in stderr: ${stderr}`),
      );
    },
  };
}

/** One line, no stack trace, naming the problem. */
function assertOneLineError(text: string, pattern: RegExp): void {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got: ${text}`);
  assert.match(lines[0]!, /^camcast: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(text, /\n\s+at /, 'no stack trace');
}

describe('camcast CLI', () => {
  test('a bad flag value exits 2 with one line saying what to do', async (t) => {
    const r = run(t, ['--port', 'abc']);
    assert.equal(await r.exited, 2);
    assertOneLineError(r.stderr(), /--port must be a whole number from 0 to 65535 \(got 'abc'\); see camcast --help/);
  });

  test('an unknown flag exits 2 with one line', async (t) => {
    const r = run(t, ['--frobnicate']);
    assert.equal(await r.exited, 2);
    assertOneLineError(r.stderr(), /Unknown option '--frobnicate'/);
  });

  test('--help prints the usage and exits 0', async (t) => {
    const r = run(t, ['--help']);
    assert.equal(await r.exited, 0);
    assert.match(r.stdout(), /Usage: camcast/);
    assert.match(r.stdout(), /--source SPEC/);
  });

  test('a missing camera exits 1 and lists the cameras that exist', async (t) => {
    const r = run(t, ['--source', '/dev/video97', '--port', '0']);
    assert.equal(await r.exited, 1);
    // Only the error: which ffmpeg would have run is said once the source checks out.
    assertOneLineError(r.stderr(), /\/dev\/video97.*not found.*(cameras present|none)/i);
  });

  test('an unreadable file exits 1 with one line', async (t) => {
    const r = run(t, ['--source', '/nonexistent/clip.mp4', '--port', '0']);
    assert.equal(await r.exited, 1);
    assert.match(r.stderr().trim().split('\n').at(-1)!, /^camcast: .*\/nonexistent\/clip\.mp4/);
    assert.doesNotMatch(r.stderr(), /\n\s+at /);
  });

  test('a file behind a folder it may not enter, or unreadable itself, exits 1 saying so, not "not found"', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'camcast-cli-perm-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'clip.mp4'), 'not really a video');
    chmodSync(join(dir, 'clip.mp4'), 0o000);
    const locked = join(dir, 'locked');
    execFileSync('mkdir', ['-m', '000', locked]);
    // Root reads anything; without these two capabilities it is held to the modes like anyone.
    const asUser = process.getuid?.() === 0 ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search', '--'] : [];
    const cli = (source: string) => {
      const [command, ...args] = [...asUser, process.execPath, MAIN, '--source', source, '--port', '0'];
      return spawnSync(command!, args, { encoding: 'utf8', timeout: 20_000 });
    };
    const behind = cli(join(locked, 'clip.mp4'));
    assert.equal(behind.status, 1);
    assert.match(behind.stderr.trim().split('\n').at(-1)!, /^camcast: video file .*\/locked\/clip\.mp4 cannot be reached: permission denied on a folder in its path$/);
    const unreadable = cli(join(dir, 'clip.mp4'));
    assert.equal(unreadable.status, 1);
    assert.match(unreadable.stderr.trim().split('\n').at(-1)!, /^camcast: .*clip\.mp4 is not readable: check its permissions$/);
    assert.doesNotMatch(behind.stderr + unreadable.stderr, /\n\s+at /, 'no stack trace');
  });

  test('a port in use exits 1 with one line that suggests --port', async (t) => {
    const blocker = net.createServer();
    t.after(() => new Promise<void>((r) => blocker.close(() => r())));
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    const r = run(t, ['--source', 'test', '--port', String(port)]);
    assert.equal(await r.exited, 1);
    assertOneLineError(r.stderr(), new RegExp(`port ${port} on 127.0.0.1 is already in use.*--port`));
  });

  test('with no camera, auto streams the test pattern and says why; SIGTERM exits 0', async (t) => {
    const r = run(t, ['--port', '0', '--size', '160x120']);
    const [, url] = await r.waitFor(/viewer page (http:\/\/127\.0\.0\.1:\d+\/)/);
    if (existsSync('/dev/video0')) {
      assert.match(r.stderr(), /camera found at \/dev\/video0/);
    } else {
      assert.match(r.stderr(), /streaming test pattern 160x120 @ 30 fps \(no camera at \/dev\/video0\)/);
      const snap = await fetchBuffer(`${url}snapshot.jpg`);
      assert.equal(snap.status, 200);
      assert.equal(snap.headers['content-type'], 'image/jpeg');
    }
    r.kill('SIGTERM');
    assert.equal(await r.exited, 0);
  });

  test('the startup lines say what was asked of the picture, what a flag cannot do here, and what --token needs', async (t) => {
    const r = run(t, ['--source', 'test', '--size', '160x120', '--quality', '50', '--no-loop', '--insecure', '--token', 'abcdefgh12', '--port', '0']);
    await r.waitFor(/Authorization: Bearer TOKEN/);
    const text = r.stderr();
    assert.match(text, /warning: --no-loop applies to video files only: ignored for test pattern 160x120 @ 30 fps\n/);
    assert.match(text, /warning: --insecure applies to https:\/\/ sources only: ignored for test pattern 160x120 @ 30 fps\n/);
    assert.match(text, /streaming test pattern 160x120 @ 30 fps \(chosen with --source\), asked for quality 50\n/);
    assert.match(text, /with --token, add \?token=TOKEN to these URLs/);
    assert.doesNotMatch(text, /abcdefgh12/, 'the token itself stays out of the log');
    r.kill('SIGTERM');
    assert.equal(await r.exited, 0);
  });

  test('a file source says the size, rate and quality it was asked for', async (t) => {
    const { path: clip } = makeClip(t);
    const r = run(t, ['--source', clip, '--size', '160x120', '--fps', '5', '--port', '0']);
    await r.waitFor(/viewer page http/);
    assert.match(r.stderr(), /^\S+ ffmpeg: .* \(from [^)]+\)$/m);
    assert.match(r.stderr(), /streaming .*clip\.mp4 \(file, looping\) \(chosen with --source\), asked for 160x120, 5 fps\n/);
    r.kill('SIGTERM');
    assert.equal(await r.exited, 0);
  });

  test('an unknown CAMCAST_JPEG_ENCODER is said, not silently ignored', async (t) => {
    const r = run(t, ['--source', 'test', '--port', '0'], { CAMCAST_JPEG_ENCODER: 'turbo' });
    await r.waitFor(/viewer page/);
    assert.match(r.stderr(), /warning: CAMCAST_JPEG_ENCODER=turbo is no choice camcast knows \(only "sharp" forces sharp\): using /);
    r.kill('SIGTERM');
    assert.equal(await r.exited, 0);
  });

  test('-v says which JPEG encoder is in use, and CAMCAST_JPEG_ENCODER=sharp switches it', async (t) => {
    const turbo = run(t, ['--source', 'test', '--port', '0', '-v']);
    await turbo.waitFor(/viewer page http/);
    assert.match(turbo.stderr(), new RegExp(`JPEG encoder for pictures camcast makes: ${jpegEncoder}`));
    turbo.kill('SIGTERM');
    const forced = run(t, ['--source', 'test', '--port', '0', '-v'], { CAMCAST_JPEG_ENCODER: 'sharp' });
    await forced.waitFor(/viewer page http/);
    assert.match(forced.stderr(), /JPEG encoder for pictures camcast makes: sharp/);
    forced.kill('SIGTERM');
    assert.equal(await turbo.exited, 0);
    assert.equal(await forced.exited, 0);
  });

  test('an https:// camera with a self-signed certificate is refused with a hint, and streamed with --insecure', async (t) => {
    const upstream = createServer({ source: testPattern({ width: 160, height: 120 }), port: 0, tls: selfSignedCertificate() });
    t.after(() => upstream.close());
    const { url } = await upstream.listen();
    const refused = run(t, ['--source', `${url}stream.mjpg`, '--port', '0']);
    assert.equal(await refused.exited, 1);
    assertOneLineError(refused.stderr(), /its certificate is not trusted \(self-signed certificate\): if this is your camera, add --insecure/);
    const insecure = run(t, ['--source', `${url}stream.mjpg`, '--insecure', '--port', '0']);
    const [, local] = await insecure.waitFor(/viewer page (http:\/\/127\.0\.0\.1:\d+\/)/);
    const snap = await fetchBuffer(`${local}snapshot.jpg`);
    assert.equal(snap.status, 200);
    assert.equal(snap.headers['content-type'], 'image/jpeg');
    assert.doesNotMatch(insecure.stderr(), /--insecure applies/);
    insecure.kill('SIGTERM');
    assert.equal(await insecure.exited, 0);
  });

  test('an unreachable URL exits 1 with one line naming it', async (t) => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    await new Promise<void>((r) => blocker.close(() => r()));
    const r = run(t, ['--source', `http://127.0.0.1:${port}/stream.mjpg`, '--port', '0']);
    assert.equal(await r.exited, 1);
    const last = r.stderr().trim().split('\n').at(-1)!;
    assert.match(last, new RegExp(`^camcast: cannot reach http://127\\.0\\.0\\.1:${port}/stream\\.mjpg`));
    assert.doesNotMatch(r.stderr(), /\n\s+at /);
  });

  test('SIGINT while the startup check waits on a silent URL exits 0 without waiting for the check', async (t) => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.resume(); // reads (and ignores) the request, so the peer's close is seen
    });
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      silent.close();
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const connected = new Promise<net.Socket>((resolve) => silent.once('connection', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const r = run(t, ['--source', `http://127.0.0.1:${port}/stream`, '--port', '0']);
    const checking = await connected;
    const closed = new Promise<void>((resolve) => checking.once('close', () => resolve()));
    r.kill('SIGINT');
    assert.equal(await r.exited, 0);
    assert.match(r.stderr(), /SIGINT: shutting down/);
    assert.doesNotMatch(r.stderr(), /cannot reach|no answer/, 'the check was abandoned, not timed out');
    await closed;
  });

  test('--start-timeout sets how long a source may take to deliver its first frame', async (t) => {
    // An MJPEG upstream that answers, starts a part and never finishes it.
    const upstream = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace; boundary=frame' });
      res.write('--frame\r\nContent-Type: image/jpeg\r\n');
    });
    t.after(() => {
      upstream.closeAllConnections();
      upstream.close();
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const source = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}/stream`;
    const r = run(t, ['--source', source, '--port', '0', '--start-timeout', '1.5']);
    const [, url] = await r.waitFor(/viewer page (http:\/\/127\.0\.0\.1:\d+\/)/);
    const viewer = openMjpeg(`${url}stream.mjpg`);
    t.after(() => viewer.destroy());
    await r.waitFor(/no frame within 1\.5 s/);
    // The viewer stays connected and is shown the "no signal" picture meanwhile.
    await viewer.waitForParts(1);
    r.kill('SIGTERM');
    assert.equal(await r.exited, 0);
  });

  test('--stall-timeout 0 leaves a silent source alone: no watch of its own restarts its ffmpeg', async (t) => {
    const { dir, path: clip } = makeClip(t);
    const r = run(t, ['--source', clip, '--port', '0', '--stall-timeout', '0']);
    const [, url] = await r.waitFor(/viewer page (http:\/\/127\.0\.0\.1:\d+\/)/);
    const viewer = openMjpeg(`${url}stream.mjpg`);
    t.after(() => viewer.destroy());
    await viewer.waitForParts(3);
    // The CLI's own command line names the clip too; only ffmpeg's starts with ffmpeg's path.
    const ffmpegPids = () => pidsMatching(dir).filter((pid) => /ffmpeg/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]!));
    const [pid] = ffmpegPids();
    assert.ok(pid, 'ffmpeg runs for the clip');
    t.after(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    });
    process.kill(pid, 'SIGSTOP');
    // Past FfmpegProcess's own 10 s stall watch and its 2 s grace (SIGTERM waits while stopped):
    // nothing but --stall-timeout may restart the source.
    await new Promise((resolve) => setTimeout(resolve, 13_000));
    const status = JSON.parse((await fetchBuffer(`${url}api/status`)).body.toString()) as { source: { state: string; restarts: number; lastError: string | null } };
    assert.equal(status.source.state, 'live');
    assert.equal(status.source.restarts, 0);
    assert.equal(status.source.lastError, null);
    assert.deepEqual(ffmpegPids(), [pid], 'the same ffmpeg, not a replacement');
    process.kill(pid, 'SIGCONT');
    await viewer.waitForParts(viewer.parts.length + 3);
    r.kill('SIGTERM');
    assert.equal(await r.exited, 0);
  });

  test('--source picam streams a Pi camera module through rpicam-vid, without ffmpeg in the startup lines', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'camcast-cli-picam-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const fake = fakeRpicam(dir);
    const r = run(t, ['--source', 'picam:1', '--size', '640x480', '--port', '0'], { PATH: `${dir}${delimiter}${process.env['PATH']}` });
    const [, url] = await r.waitFor(/viewer page (http:\/\/127\.0\.0\.1:\d+\/)/);
    assert.match(r.stderr(), /streaming Pi camera 1 \(chosen with --source\), asked for 640x480/);
    assert.doesNotMatch(r.stderr(), /ffmpeg:/);
    const snap = await fetchBuffer(`${url}snapshot.jpg`);
    assert.equal(snap.status, 200);
    assert.equal(snap.headers['content-type'], 'image/jpeg');
    assert.deepEqual(fake.argv().slice(0, 2), ['--camera', '1']);
    const status = JSON.parse((await fetchBuffer(`${url}api/status`)).body.toString()) as { source: { kind: string } };
    assert.equal(status.source.kind, 'picamera');
    r.kill('SIGTERM');
    assert.equal(await r.exited, 0);
    assert.deepEqual(pidsMatching(fake.path), [], 'rpicam-vid stopped');
  });

  test('--source picam without a camera module, or without rpicam-vid, exits 1 with one line saying what to do', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'camcast-cli-picam-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const noModule = run(t, ['--source', 'picam', '--port', '0'], { PATH: dir });
    assert.equal(await noModule.exited, 1);
    assertOneLineError(noModule.stderr(), /neither rpicam-vid nor libcamera-vid is installed: on Raspberry Pi OS, sudo apt install rpicam-apps/);
    fakeRpicam(dir, { list: 'No cameras available!\n' });
    const noCamera = run(t, ['--source', 'picam', '--port', '0'], { PATH: dir });
    assert.equal(await noCamera.exited, 1);
    assertOneLineError(noCamera.stderr(), /rpicam-vid --list-cameras finds no camera module: check its ribbon cable/);
  });

  test('listening beyond loopback without --auth or --token prints a warning; with --token it does not', async (t) => {
    const open = run(t, ['--source', 'test', '--host', '0.0.0.0', '--port', '0']);
    await open.waitFor(/viewer page/);
    assert.match(open.stderr(), /warning: listening on 0\.0\.0\.0 without authentication[\s\S]*viewer page/);
    // Not http://0.0.0.0:PORT/, which opens nothing in most browsers.
    assert.match(open.stderr(), /viewer page http:\/\/127\.0\.0\.1:\d+\/ /);
    open.kill('SIGTERM');
    assert.equal(await open.exited, 0);
    const guarded = run(t, ['--source', 'test', '--host', '0.0.0.0', '--port', '0', '--token', 'abcdefgh12345']);
    await guarded.waitFor(/viewer page/);
    assert.doesNotMatch(guarded.stderr(), /without authentication/);
    guarded.kill('SIGTERM');
    assert.equal(await guarded.exited, 0);
  });
});

