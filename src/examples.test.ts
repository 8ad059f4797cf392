import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { fetchBuffer, openMjpeg } from './testing/mjpeg-client.js';

// Each example is run as a user would run it: `node examples/<name>.mjs`, importing 'camcast'
// by name (the package resolves itself through its own "exports", i.e. dist/).
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../examples/', import.meta.url));

interface Example {
  /** The first http:// URL the example printed. */
  readonly url: string;
  /** SIGTERM, then the exit code (null if it had to be killed). */
  stop(): Promise<number | null>;
}

async function runExample(t: TestContext, name: string, args: string[] = []): Promise<Example> {
  const child = spawn(process.execPath, [`${EXAMPLES}${name}`, ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`${name} printed no URL within 20 s: ${output}`))), 20_000);
    const check = () => {
      const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(output);
      if (match) finish(() => resolve(match[0]));
    };
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout.off('data', check);
      settle();
    };
    child.stdout.on('data', check);
    void exited.then((code) => finish(() => reject(new Error(`${name} exited ${code}: ${output}`))));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

/** Runs an example to its end (killed after 20 s): its exit code and everything it printed. */
function runToExit(name: string, args: string[], port: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`${EXAMPLES}${name}`, ...args], { cwd: ROOT, env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
}

/** The mean over pixels of how far apart R, G and B are: about 0 for grey, large for colour bars. */
async function colourfulness(jpeg: Buffer): Promise<number> {
  const { data, info } = await sharp(jpeg).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  let sum = 0;
  for (let i = 0; i < data.length; i += 3) sum += Math.max(data[i]!, data[i + 1]!, data[i + 2]!) - Math.min(data[i]!, data[i + 1]!, data[i + 2]!);
  return sum / (data.length / 3);
}

function watch(t: TestContext, url: string) {
  const client = openMjpeg(url);
  t.after(() => client.destroy());
  return client;
}

describe('examples/', () => {
  test('every example type-checks against the published types (tsc --checkJs)', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.mjs'));
    assert.deepEqual(files.sort(), ['drawn-frames.mjs', 'express-camera.mjs', 'pipeline.mjs'], 'each example has a test here');
    const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
    const flags = ['--noEmit', '--allowJs', '--checkJs', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node'];
    const result = spawnSync(process.execPath, [tsc, ...flags, ...files.map((f) => `examples/${f}`)], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  test('express-camera.mjs serves the stream at /cam, a snapshot, the status and a page, and exits on SIGTERM', async (t) => {
    const example = await runExample(t, 'express-camera.mjs', ['test']);
    const page = await fetchBuffer(example.url);
    assert.match(page.body.toString(), /<img src="cam"/);
    const client = watch(t, `${example.url}cam`);
    const parts = await client.waitForParts(3);
    assert.ok(parts[2]!.seq > parts[0]!.seq, 'live frames');
    assert.equal((await sharp(parts[2]!.body).metadata()).format, 'jpeg');
    const shot = await fetchBuffer(`${example.url}cam.jpg`);
    assert.equal(shot.status, 200);
    assert.equal(shot.headers['content-type'], 'image/jpeg');
    const status = JSON.parse((await fetchBuffer(`${example.url}cam/status`)).body.toString());
    assert.equal(status.source.kind, 'test');
    assert.equal(status.viewers.count, 1);
    assert.equal(await example.stop(), 0, 'close() left nothing behind, so the process ended by itself');
  });

  test('pipeline.mjs streams the camera and its edges side by side, and exits on SIGTERM', async (t) => {
    const example = await runExample(t, 'pipeline.mjs', ['test']);
    const page = (await fetchBuffer(example.url)).body.toString();
    assert.match(page, /<img src="camera\.mjpg"/);
    assert.match(page, /<img src="edges\.mjpg"/);
    const edges = watch(t, `${example.url}edges.mjpg`);
    const camera = watch(t, `${example.url}camera.mjpg`);
    const [edgeParts, cameraParts] = await Promise.all([edges.waitForParts(3), camera.waitForParts(3)]);
    const edgeJpeg = edgeParts[2]!.body;
    const cameraJpeg = cameraParts[2]!.body;
    const edgeMeta = await sharp(edgeJpeg).metadata();
    assert.deepEqual([edgeMeta.width, edgeMeta.height], [640, 480]);
    assert.ok((await colourfulness(edgeJpeg)) < 2, 'the processed stream is grey');
    assert.ok((await colourfulness(cameraJpeg)) > 10, 'the camera stream is in colour');
    // Edge detection leaves flat areas black: far darker than the picture it came from.
    const edgeMean = (await sharp(edgeJpeg).stats()).channels[0]!.mean;
    const cameraMean = (await sharp(cameraJpeg).greyscale().stats()).channels[0]!.mean;
    assert.ok(edgeMean < cameraMean / 2, `edges mean ${edgeMean}, camera mean ${cameraMean}`);
    const shot = await fetchBuffer(`${example.url}edges.jpg`);
    assert.equal(shot.status, 200);
    assert.ok((await colourfulness(shot.body)) < 2, 'the edges snapshot is grey');
    assert.equal(await example.stop(), 0);
  });

  test('every example given a port in use prints one line saying what to do and exits 1', async (t) => {
    const busy = createNetServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    t.after(() => busy.close());
    const { port } = busy.address() as AddressInfo;
    const runs = await Promise.all([
      runToExit('express-camera.mjs', ['test'], port),
      runToExit('pipeline.mjs', ['test'], port),
      runToExit('drawn-frames.mjs', [], port),
    ]);
    for (const { code, output } of runs) {
      assert.equal(output, `port ${port} on 127.0.0.1 is already in use: stop the program using it or pick another port with PORT=N\n`);
      assert.equal(code, 1, output);
    }
  });

  test('drawn-frames.mjs streams pushed 320x240 drawings that change, and exits on SIGTERM', async (t) => {
    const example = await runExample(t, 'drawn-frames.mjs');
    const client = watch(t, `${example.url}stream.mjpg`);
    const parts = await client.waitForParts(3);
    const meta = await sharp(parts[2]!.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 320, 240]);
    assert.notDeepEqual(parts[1]!.body, parts[2]!.body, 'each frame is a new drawing');
    const status = JSON.parse((await fetchBuffer(`${example.url}api/status`)).body.toString());
    assert.equal(status.source.kind, 'push');
    assert.equal(await example.stop(), 0);
  });
});
