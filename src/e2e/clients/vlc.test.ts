import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { delay } from '../../testing/fake-source.js';
import { requireCommand } from '../../testing/client-process.js';

interface Probe {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
}

/** Counts the video frames in a (possibly still growing) MPEG-TS file by decoding all of it. */
function probe(ffprobe: string, file: string): Probe | undefined {
  const result = spawnSync(ffprobe, ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,nb_read_frames', '-of', 'json', file], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  const stream = result.status === 0 ? (JSON.parse(result.stdout) as { streams?: Record<string, unknown>[] }).streams?.[0] : undefined;
  if (!stream) return undefined;
  return { width: Number(stream.width), height: Number(stream.height), frames: Number(stream.nb_read_frames) };
}

/** VLC refuses to run as root; when we are root it runs as nobody. */
function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'nobody'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

describe('VLC as a client', () => {
  test('VLC decodes at least 30 frames of 320x240 from /stream.mjpg (re-encoded to a file and counted)', async (t) => {
    const cvlc = requireCommand('cvlc', 'vlc');
    const ffprobe = requireCommand('ffprobe', 'ffmpeg');
    const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 30 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { url } = await server.listen();
    const dir = mkdtempSync(join(tmpdir(), 'camcast-vlc-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const user = unprivileged();
    if (user) chownSync(dir, user.uid, user.gid);
    const out = join(dir, 'out.ts');
    // VLC's transcode decodes every MJPEG frame and encodes it as MPEG-2 video: the frames and
    // their size in the file are what VLC decoded.
    const child = spawn(cvlc, ['-q', '--no-audio', `${url}stream.mjpg`, '--sout', `#transcode{vcodec=mp2v,vb=2000}:std{access=file,mux=ts,dst=${out}}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir, XDG_CONFIG_HOME: dir, XDG_CACHE_HOME: dir },
      ...user,
    });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    let exited = false;
    child.once('exit', () => (exited = true));

    let result: Probe | undefined;
    for (let i = 0; i < 40 && !exited; i++) {
      await delay(500);
      const size = (() => {
        try {
          return statSync(out).size;
        } catch {
          return 0;
        }
      })();
      if (size < 64 * 1024) continue;
      result = probe(ffprobe, out);
      if (result && result.frames >= 45) break;
    }
    child.kill('SIGTERM');
    assert.ok(!exited || result, `VLC exited early: ${stderr}`);
    // The file is read after VLC stopped, so every frame it wrote counts.
    await new Promise((resolve) => (exited ? resolve(undefined) : child.once('exit', resolve)));
    result = probe(ffprobe, out);
    assert.ok(result, `no video in VLC's output: ${stderr}`);
    assert.deepEqual([result.width, result.height], [320, 240]);
    assert.ok(result.frames >= 30, `VLC decoded ${result.frames} frames: ${stderr}`);
  });
});
