import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { launchChromium } from '../../testing/chromium.js';
import { requireCommand } from '../../testing/client-process.js';
import { delay } from '../../testing/fake-source.js';
import { fetchBuffer, openMjpeg } from '../../testing/mjpeg-client.js';

/** The snippet from docs/integrations.md, as a user copies it. */
const SNIPPET = new URL('../../../docs/examples/nginx-camcast.conf', import.meta.url);

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Starts nginx in the foreground on 127.0.0.1 with the docs' location block pointed at `upstreamPort`. */
async function startNginx(t: TestContext, upstreamPort: number): Promise<string> {
  const nginx = requireCommand('nginx', 'nginx');
  const dir = mkdtempSync(join(tmpdir(), 'camcast-nginx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const snippet = readFileSync(SNIPPET, 'utf8');
  assert.match(snippet, /proxy_pass http:\/\/127\.0\.0\.1:8080\/;/, 'the snippet proxies to camcast on its default port');
  writeFileSync(join(dir, 'camcast.conf'), snippet.replaceAll('127.0.0.1:8080', `127.0.0.1:${upstreamPort}`));
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    // One process (no master and workers), so killing it leaves nothing behind.
    `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    include ${dir}/camcast.conf;
  }
}
`,
  );
  const child = spawn(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (exited) break;
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) return base;
    await delay(100);
  }
  let log = '';
  try {
    log = readFileSync(join(dir, 'error.log'), 'utf8');
  } catch {}
  throw new Error(`nginx did not start: ${stderr}${log}`);
}

describe('camcast behind nginx at /webcam/ (docs/examples/nginx-camcast.conf)', () => {
  test('the page, the stream and the snapshot work through the proxy under /webcam/', async (t) => {
    const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 15 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { port } = await server.listen();
    const base = await startNginx(t, port);

    // OctoPrint's and Mainsail's default URLs, and camcast's own.
    for (const path of ['/webcam/?action=stream', '/webcam/stream.mjpg']) {
      const client = openMjpeg(base + path);
      t.after(() => client.destroy());
      const res = await client.response;
      assert.equal(res.statusCode, 200, path);
      const parts = await client.waitForParts(10);
      assert.ok(parts.every((p, i) => i === 0 || p.seq > parts[i - 1]!.seq), `${path}: frames in order`);
      client.destroy();
    }
    for (const path of ['/webcam/?action=snapshot', '/webcam/snapshot.jpg']) {
      const res = await fetchBuffer(base + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers['content-type'], 'image/jpeg', path);
      assert.equal(Number(res.headers['content-length']), res.body.length, path);
      assert.equal((await sharp(res.body).metadata()).width, 320);
    }
    // nginx sends a bare /webcam to /webcam/, where the page's relative links resolve.
    const bare = await fetchBuffer(`${base}/webcam`);
    assert.equal(bare.status, 301);
    assert.match(bare.headers.location!, /\/webcam\/$/);

    // The page loads its stream, snapshots and status through the prefix, as a person sees it.
    const { browser, close } = await launchChromium();
    t.after(close);
    const page = await browser.newPage();
    const outside: string[] = [];
    page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      if (!path.startsWith('/webcam/')) outside.push(path);
    });
    await page.goto(`${base}/webcam/`);
    await page.waitForFunction(() => (document.getElementById('video') as HTMLImageElement).naturalWidth === 320, undefined, { timeout: 15_000 });
    await page.waitForFunction(() => document.getElementById('state')!.textContent === 'live', undefined, { timeout: 10_000 });
    await page.waitForFunction(() => /^[1-9][\d.]* fps$/.test(document.getElementById('fps')!.textContent ?? ''), undefined, { timeout: 10_000 });
    const href = await page.evaluate(() => (document.getElementById('snapshot') as HTMLAnchorElement).href);
    assert.equal(new URL(href).pathname, '/webcam/snapshot.jpg');
    assert.deepEqual(outside.filter((p) => p !== '/favicon.ico'), [], 'every request of the page stays under /webcam/');
  });

  test("with trustProxy 'loopback' /api/status lists the address nginx forwards, not nginx's", async (t) => {
    const server = createServer({ source: testPattern({ width: 64, height: 48, fps: 15 }), host: '127.0.0.1', port: 0, trustProxy: 'loopback' });
    t.after(() => server.close());
    const { port } = await server.listen();
    const base = await startNginx(t, port);
    // Here the viewer is on 127.0.0.1 too, as trusted as nginx: it plays a proxy further out,
    // whose X-Forwarded-For nginx extends ($proxy_add_x_forwarded_for) and camcast reads.
    const client = openMjpeg(`${base}/webcam/stream.mjpg`, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
    t.after(() => client.destroy());
    await client.waitForParts(1);
    const status = JSON.parse((await fetchBuffer(`${base}/webcam/api/status`)).body.toString());
    assert.deepEqual(status.viewers.list.map((v: { remoteAddress: string }) => v.remoteAddress), ['203.0.113.7']);
  });
});
