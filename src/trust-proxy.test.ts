import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseCliArgs } from './cli/args.js';
import { isCamcastError } from './errors.js';
import type { ViewerInfo } from './http/mjpeg-viewer.js';
import { stream, type LiveStreamOptions } from './live-stream.js';
import { testPattern } from './sources/test-pattern.js';
import { createServer, type StreamServerOptions } from './stream-server.js';
import { FakeSource, until } from './testing/fake-source.js';
import { fetchBuffer, openMjpeg } from './testing/mjpeg-client.js';

const MAIN = fileURLToPath(new URL('./cli/main.js', import.meta.url));
/** What a client on 127.0.0.1 is seen as, as today: IPv4, or IPv4-mapped on a dual-stack socket. */
const LOCAL = /^(?:::ffff:)?127\.0\.0\.1$/;

async function start(t: TestContext, options: StreamServerOptions = {}) {
  const server = createServer({ source: testPattern({ width: 64, height: 48, fps: 20 }), host: '127.0.0.1', port: 0, ...options });
  t.after(() => server.close());
  const address = await server.listen();
  return { server, url: address.url };
}

/** Opens a stream with X-Forwarded-For and returns the one viewer /api/status lists. */
async function viewerSeenWith(t: TestContext, url: string, forwardedFor: string): Promise<{ remoteAddress: string | null }> {
  const client = openMjpeg(`${url}stream.mjpg`, { headers: { 'X-Forwarded-For': forwardedFor } });
  t.after(() => client.destroy());
  await client.waitForParts(1);
  const status = JSON.parse((await fetchBuffer(`${url}api/status`)).body.toString());
  assert.equal(status.viewers.count, 1);
  return status.viewers.list[0];
}

function refusedWith(pattern: RegExp) {
  return (e: unknown) => isCamcastError(e, 'BAD_OPTION') && pattern.test(e.message) && !e.message.includes('\n');
}

describe('trustProxy: viewer addresses behind a reverse proxy', () => {
  test('without trustProxy an X-Forwarded-For header is ignored: /api/status shows the socket address', async (t) => {
    const { url } = await start(t);
    const viewer = await viewerSeenWith(t, url, '203.0.113.7');
    assert.match(String(viewer.remoteAddress), LOCAL);
  });

  test("trustProxy 'loopback': a stream opened with X-Forwarded-For 203.0.113.7 shows 203.0.113.7 in /api/status, viewers() and viewer-joined", async (t) => {
    const { server, url } = await start(t, { trustProxy: 'loopback' });
    const joined: ViewerInfo[] = [];
    server.on('viewer-joined', (v) => joined.push(v));
    const viewer = await viewerSeenWith(t, url, '203.0.113.7');
    assert.equal(viewer.remoteAddress, '203.0.113.7');
    assert.equal(server.live.viewers()[0]!.remoteAddress, '203.0.113.7');
    assert.equal(joined[0]!.remoteAddress, '203.0.113.7');
  });

  test("trustProxy 'loopback': an X-Forwarded-For entry that is no address ('unknown', with a port, any text) is not shown; the proxy's address is", async (t) => {
    for (const forwardedFor of ['unknown', '203.0.113.7:5555', '<b>hi</b>']) {
      const { url } = await start(t, { trustProxy: 'loopback' });
      const viewer = await viewerSeenWith(t, url, forwardedFor);
      assert.match(String(viewer.remoteAddress), LOCAL, forwardedFor);
    }
  });

  test("trustProxy 'loopback' with X-Forwarded-For '198.51.100.1, 203.0.113.7': the right-most untrusted entry (203.0.113.7) wins", async (t) => {
    const { url } = await start(t, { trustProxy: 'loopback' });
    const viewer = await viewerSeenWith(t, url, '198.51.100.1, 203.0.113.7');
    assert.equal(viewer.remoteAddress, '203.0.113.7');
  });

  test('a trust list naming the next proxy too walks one more hop to the left', async (t) => {
    const { url } = await start(t, { trustProxy: ['loopback', '203.0.113.0/24'] });
    const viewer = await viewerSeenWith(t, url, '198.51.100.1, 203.0.113.7');
    assert.equal(viewer.remoteAddress, '198.51.100.1');
  });

  test("a trust list that does not include the peer ('10.0.0.0/8') ignores X-Forwarded-For", async (t) => {
    const { url } = await start(t, { trustProxy: '10.0.0.0/8' });
    const viewer = await viewerSeenWith(t, url, '203.0.113.7');
    assert.match(String(viewer.remoteAddress), LOCAL);
  });

  test("stream() mounted on an app with trustProxy 'loopback' sees the forwarded address; without it, the socket's", async (t) => {
    const trusting = stream(new FakeSource(), { trustProxy: 'loopback', idleTimeoutMs: 0 });
    const plain = stream(new FakeSource(), { idleTimeoutMs: 0 });
    t.after(() => Promise.all([trusting.close(), plain.close()]));
    const app = http.createServer((req, res) => (req.url === '/trusting' ? trusting : plain).mjpeg(req, res));
    t.after(() => new Promise<void>((resolve) => app.close(() => resolve()).closeAllConnections()));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(app.address() as AddressInfo).port}/`;
    for (const path of ['trusting', 'plain']) {
      const client = openMjpeg(`${base}${path}`, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
      t.after(() => client.destroy());
      await client.response;
    }
    await until(() => trusting.viewerCount === 1 && plain.viewerCount === 1, 'both streams open');
    assert.equal(trusting.viewers()[0]!.remoteAddress, '203.0.113.7');
    assert.match(String(plain.viewers()[0]!.remoteAddress), LOCAL);
  });

  test('a bad trustProxy entry or a non-string is one BAD_OPTION line naming it, from createServer() and stream(), before anything starts', () => {
    const source = new FakeSource();
    const bad: Array<[unknown, RegExp]> = [
      ['localhost', /^trustProxy: 'localhost' is not an address \(192\.168\.1\.2, ::1\), a CIDR subnet \(10\.0\.0\.0\/8, fd00::\/8\) or one of loopback, linklocal, uniquelocal$/],
      ['loopback, 10.0.0.0/33', /^trustProxy: '10\.0\.0\.0\/33' is not an address/],
      [['loopback', 'fe80::/129'], /^trustProxy: 'fe80::\/129' is not an address/],
      ['loopback,', /^trustProxy has an empty entry \(got 'loopback,'\)/],
      ['', /^trustProxy has an empty entry/],
      [5, /^trustProxy must be a comma-separated string or a list of strings, each an address .*, e\.g\. 'loopback' \(got 5\)$/],
      [['loopback', 3], /^trustProxy must be a comma-separated string or a list of strings.*\(got 3 in the list\)$/],
      [{}, /^trustProxy must be .*\(got an object\)$/],
      [true, /^trustProxy must be .*\(got true\)$/],
    ];
    for (const [trustProxy, message] of bad) {
      assert.throws(() => createServer({ source, trustProxy } as StreamServerOptions), refusedWith(message), `createServer ${JSON.stringify(trustProxy)}`);
      assert.throws(() => stream(source, { trustProxy } as LiveStreamOptions), refusedWith(message), `stream ${JSON.stringify(trustProxy)}`);
    }
    assert.equal(source.starts, 0);
  });

  test('trustProxy accepts addresses, subnets, the three names, lists and comma-separated strings; null and [] trust nobody', async () => {
    const source = new FakeSource();
    for (const trustProxy of ['loopback', 'linklocal, uniquelocal', '192.168.1.2,::1', ['10.0.0.0/8', 'fd00::/8'], ['loopback,172.16.0.0/12'], [], null]) {
      await stream(source, { trustProxy } as LiveStreamOptions).close();
    }
  });
});

describe('--trust-proxy', () => {
  test('parseCliArgs reads a comma-separated list of addresses, subnets and names; the default trusts nobody', () => {
    assert.equal(parseCliArgs([]).trustProxy, undefined);
    assert.deepEqual(parseCliArgs(['--trust-proxy', 'loopback']).trustProxy, ['loopback']);
    assert.deepEqual(parseCliArgs(['--trust-proxy', 'loopback, 10.0.0.0/8,fd00::/8']).trustProxy, ['loopback', '10.0.0.0/8', 'fd00::/8']);
    assert.deepEqual(parseCliArgs(['--trust-proxy=linklocal,uniquelocal,192.168.1.2']).trustProxy, ['linklocal', 'uniquelocal', '192.168.1.2']);
    // Given twice, the lists add up, as with --cors.
    assert.deepEqual(parseCliArgs(['--trust-proxy', 'loopback', '--trust-proxy', '10.0.0.0/8']).trustProxy, ['loopback', '10.0.0.0/8']);
  });

  const bad: Array<[string[], RegExp]> = [
    [['--trust-proxy', 'nginx'], /^--trust-proxy: 'nginx' is not an address \(192\.168\.1\.2, ::1\), a CIDR subnet \(10\.0\.0\.0\/8, fd00::\/8\) or one of loopback, linklocal, uniquelocal$/],
    [['--trust-proxy', 'loopback,10.0.0.0/99'], /^--trust-proxy: '10\.0\.0\.0\/99' is not an address/],
    [['--trust-proxy', 'loopback,,::1'], /^--trust-proxy has an empty entry \(got 'loopback,,::1'\)/],
    [['--trust-proxy', '-1'], /^--trust-proxy: '-1' is not an address/],
    [['--trust-proxy'], /^--trust-proxy needs a value/],
  ];
  for (const [argv, message] of bad) {
    test(`parseCliArgs rejects ${argv.join(' ')} with one BAD_OPTION line`, () => {
      assert.throws(() => parseCliArgs(argv), refusedWith(message));
    });
  }

  test('camcast --trust-proxy with a bad entry exits 2 with one line and no stack trace', () => {
    const r = spawnSync(process.execPath, [MAIN, '--trust-proxy', 'loopback,proxy.local'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^camcast: --trust-proxy: 'proxy\.local' is not an address .*\n$/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('camcast --trust-proxy loopback shows the forwarded address in /api/status', async (t) => {
    const child = spawn(process.execPath, [MAIN, '--source', 'test', '--size', '64x48', '--port', '0', '--trust-proxy', 'loopback'], { stdio: ['ignore', 'ignore', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    let url: string | undefined;
    await until(() => (url = /viewer page (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1]) !== undefined, 'the viewer page line', 15_000);
    const viewer = await viewerSeenWith(t, url!, '203.0.113.7');
    assert.equal(viewer.remoteAddress, '203.0.113.7');
  });
});
