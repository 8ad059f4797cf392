import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import { isCamcastError } from './errors.js';
import { testPattern } from './sources/test-pattern.js';
import { createServer, type StreamServerOptions } from './stream-server.js';
import { fetchBuffer, openMjpeg } from './testing/mjpeg-client.js';
import { seededRandom } from './testing/seeded-random.js';
import { selfSignedCertificate } from './testing/self-signed.js';

async function start(t: TestContext, options: StreamServerOptions = {}) {
  const server = createServer({ source: testPattern({ width: 64, height: 48, fps: 20 }), host: '127.0.0.1', port: 0, ...options });
  t.after(() => server.close());
  const address = await server.listen();
  return { server, url: address.url, port: address.port };
}

function rawRequest(port: number, bytes: string | Buffer, { waitMs = 5000 } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.once('close', () => resolve(text));
    socket.once('error', (e) => (text ? resolve(text) : reject(e)));
    // A hard deadline, not an idle timeout: a stream answer never goes idle.
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, waitMs);
    socket.once('close', () => clearTimeout(timer));
  });
}

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('access control', () => {
  test('--auth: every route needs Basic credentials except /api/health', async (t) => {
    const { url } = await start(t, { auth: { username: 'admin', password: 's3cret' } });
    for (const path of ['', 'stream.mjpg', 'snapshot.jpg', 'api/status', 'metrics', '?action=stream', 'nope']) {
      const res = await fetchBuffer(`${url}${path}`);
      assert.equal(res.status, 401, path);
      assert.match(res.headers['www-authenticate']!, /^Basic realm="camcast"/);
    }
    const wrong = await fetchBuffer(`${url}api/status`, 'GET', { Authorization: basic('admin', 's3cre') });
    assert.equal(wrong.status, 401);
    const right = await fetchBuffer(`${url}api/status`, 'GET', { Authorization: basic('admin', 's3cret') });
    assert.equal(right.status, 200);
    // Prometheus scrapes with the same credentials (basic_auth in its scrape config).
    assert.equal((await fetchBuffer(`${url}metrics`, 'GET', { Authorization: basic('admin', 's3cret') })).status, 200);
    const health = await fetchBuffer(`${url}api/health`);
    assert.equal(health.status, 200);
  });

  test('--token: ?token= (for <img>) and Bearer are accepted, nothing else', async (t) => {
    const { url } = await start(t, { token: 'abcdef123456' });
    assert.equal((await fetchBuffer(`${url}snapshot.jpg`)).status, 401);
    assert.equal((await fetchBuffer(`${url}snapshot.jpg?token=abcdef12345`)).status, 401);
    const viaQuery = await fetchBuffer(`${url}snapshot.jpg?token=abcdef123456`);
    assert.equal(viaQuery.status, 200);
    assert.equal(viaQuery.headers['content-type'], 'image/jpeg');
    const viaBearer = await fetchBuffer(`${url}api/status`, 'GET', { Authorization: 'Bearer abcdef123456' });
    assert.equal(viaBearer.status, 200);
    const client = openMjpeg(`${url}stream.mjpg?token=abcdef123456`);
    t.after(() => client.destroy());
    await client.waitForParts(2);
  });

  test('--cors ORIGIN sets the headers a fetch() reader needs; off by default', async (t) => {
    const plain = await start(t);
    const noCors = await fetchBuffer(`${plain.url}api/status`, 'GET', { Origin: 'https://dash.example' });
    assert.equal(noCors.headers['access-control-allow-origin'], undefined);

    const { url } = await start(t, { cors: 'https://dash.example' });
    const res = await fetchBuffer(`${url}snapshot.jpg`, 'GET', { Origin: 'https://dash.example' });
    assert.equal(res.headers['access-control-allow-origin'], 'https://dash.example');
    assert.match(res.headers['access-control-expose-headers']!, /X-Timestamp/);
    const preflight = await fetchBuffer(`${url}stream.mjpg`, 'OPTIONS', {
      Origin: 'https://dash.example',
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'authorization',
    });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers['access-control-allow-methods']!, /GET/);
    assert.match(preflight.headers['access-control-allow-headers']!, /Authorization/i);
  });

  test('cors is normalised to the origin a browser sends; with Basic auth, credentials are allowed', async (t) => {
    const { url } = await start(t, { cors: 'https://dash.example:443/', auth: { username: 'admin', password: 's3cret' } });
    const res = await fetchBuffer(`${url}api/health`, 'GET', { Origin: 'https://dash.example' });
    assert.equal(res.headers['access-control-allow-origin'], 'https://dash.example');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    const any = await start(t, { cors: '*', auth: { username: 'admin', password: 's3cret' } });
    const anyRes = await fetchBuffer(`${any.url}api/health`, 'GET', { Origin: 'https://dash.example' });
    assert.equal(anyRes.headers['access-control-allow-origin'], '*');
    assert.equal(anyRes.headers['access-control-allow-credentials'], undefined, "browsers refuse credentials with '*'");
  });

  test('cors with two origins: each gets its own Allow-Origin on GET and preflight, a third none, all Vary: Origin', async (t) => {
    const { url } = await start(t, { cors: ['http://ha.local:8123', 'https://grafana.example/'] });
    const preflightHeaders = { 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' };
    for (const origin of ['http://ha.local:8123', 'https://grafana.example']) {
      const res = await fetchBuffer(`${url}snapshot.jpg`, 'GET', { Origin: origin });
      assert.equal(res.status, 200, origin);
      assert.equal(res.headers['access-control-allow-origin'], origin);
      assert.match(res.headers['access-control-expose-headers']!, /X-Timestamp/, origin);
      assert.equal(res.headers.vary, 'Origin', origin);
      const preflight = await fetchBuffer(`${url}stream.mjpg`, 'OPTIONS', { Origin: origin, ...preflightHeaders });
      assert.equal(preflight.status, 204, origin);
      assert.equal(preflight.headers['access-control-allow-origin'], origin);
      assert.match(preflight.headers['access-control-allow-methods']!, /\bGET\b/, origin);
      assert.match(preflight.headers['access-control-allow-headers']!, /\bauthorization\b/i, origin);
      assert.equal(preflight.headers.vary, 'Origin', origin);
    }
    // Another origin, a near miss (the default port spelled out is not what a browser sends) and
    // no Origin at all: the answer itself, but nothing that lets a page read it.
    const strangers: Array<Record<string, string>> = [{ Origin: 'https://evil.example' }, { Origin: 'https://grafana.example:443' }, {}];
    for (const headers of strangers) {
      const what = JSON.stringify(headers);
      const res = await fetchBuffer(`${url}snapshot.jpg`, 'GET', headers);
      assert.equal(res.status, 200, what);
      assert.deepEqual(Object.keys(res.headers).filter((name) => name.startsWith('access-control-')), [], what);
      assert.equal(res.headers.vary, 'Origin', what);
      const preflight = await fetchBuffer(`${url}stream.mjpg`, 'OPTIONS', { ...headers, ...preflightHeaders });
      assert.equal(preflight.status, 204, what);
      assert.equal(preflight.headers.allow, 'GET, HEAD, OPTIONS', what);
      assert.deepEqual(Object.keys(preflight.headers).filter((name) => name.startsWith('access-control-')), [], what);
      assert.equal(preflight.headers.vary, 'Origin', what);
    }
    // The stream and the status answer the same way.
    const client = openMjpeg(`${url}stream.mjpg`, { headers: { Origin: 'https://grafana.example' } });
    t.after(() => client.destroy());
    const stream = await client.response;
    assert.equal(stream.headers['access-control-allow-origin'], 'https://grafana.example');
    assert.equal(stream.headers.vary, 'Origin');
    const status = await fetchBuffer(`${url}api/status`, 'GET', { Origin: 'https://evil.example' });
    assert.equal(status.headers['access-control-allow-origin'], undefined);
    assert.equal(status.headers.vary, 'Origin');
  });

  test('cors with two origins and Basic auth: credentials are allowed for those origins only', async (t) => {
    const { url } = await start(t, { cors: ['http://ha.local:8123', 'https://grafana.example'], auth: { username: 'admin', password: 's3cret' } });
    const allowed = await fetchBuffer(`${url}api/health`, 'GET', { Origin: 'http://ha.local:8123' });
    assert.equal(allowed.headers['access-control-allow-origin'], 'http://ha.local:8123');
    assert.equal(allowed.headers['access-control-allow-credentials'], 'true');
    const other = await fetchBuffer(`${url}api/health`, 'GET', { Origin: 'https://evil.example' });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    assert.equal(other.headers['access-control-allow-credentials'], undefined);
    // A 401 to an allowed origin is readable, so the page can tell the user to log in.
    const denied = await fetchBuffer(`${url}snapshot.jpg`, 'GET', { Origin: 'https://grafana.example' });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers['access-control-allow-origin'], 'https://grafana.example');
    assert.equal(denied.headers['access-control-allow-credentials'], 'true');
  });

  test('cors with one origin or * answers every request the same, whatever its Origin, as before lists', async (t) => {
    for (const [cors, expected] of [
      ['https://dash.example/', 'https://dash.example'],
      [['https://dash.example', 'HTTPS://DASH.example:443'], 'https://dash.example'],
      ['*', '*'],
      [['*'], '*'],
    ] as const) {
      const { url } = await start(t, { cors });
      const requests: Array<Record<string, string>> = [{ Origin: 'https://dash.example' }, { Origin: 'https://evil.example' }, {}];
      for (const headers of requests) {
        const what = `${JSON.stringify(cors)} ${JSON.stringify(headers)}`;
        const res = await fetchBuffer(`${url}snapshot.jpg`, 'GET', headers);
        assert.equal(res.headers['access-control-allow-origin'], expected, what);
        assert.match(res.headers['access-control-expose-headers']!, /X-Timestamp/, what);
        assert.equal(res.headers.vary, 'Origin', what);
        const preflight = await fetchBuffer(`${url}stream.mjpg`, 'OPTIONS', { ...headers, 'Access-Control-Request-Method': 'GET' });
        assert.equal(preflight.headers['access-control-allow-origin'], expected, what);
        assert.match(preflight.headers['access-control-allow-methods']!, /\bGET\b/, what);
      }
    }
  });

  test('a 401 names only the ways this server accepts, with the matching challenge', async (t) => {
    const basicOnly = await start(t, { auth: { username: 'admin', password: 's3cret' } });
    const b = await fetchBuffer(`${basicOnly.url}snapshot.jpg`);
    assert.match(b.body.toString(), /log in with the user name and password\n$/);
    assert.doesNotMatch(b.body.toString(), /token/);
    const tokenOnly = await start(t, { token: 'abcdef123456' });
    const k = await fetchBuffer(`${tokenOnly.url}snapshot.jpg`);
    assert.match(k.body.toString(), /\?token=/);
    assert.doesNotMatch(k.body.toString(), /log in/);
    assert.equal(k.headers['www-authenticate'], 'Bearer realm="camcast"');
    const both = await start(t, { auth: { username: 'admin', password: 's3cret' }, token: 'abcdef123456' });
    const e = await fetchBuffer(`${both.url}snapshot.jpg`);
    assert.match(e.body.toString(), /log in .*, or add \?token=/);
    assert.match(e.headers['www-authenticate']!, /^Basic /);
  });

  test('--tls-cert/--tls-key serve HTTPS', async (t) => {
    const { cert, key } = selfSignedCertificate();
    const { url } = await start(t, { tls: { cert, key } });
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    const body = await new Promise<{ status: number; type: string; length: number }>((resolve, reject) => {
      https
        .get(`${url}snapshot.jpg`, { ca: cert, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type']!, length: Buffer.concat(chunks).length }));
        })
        .once('error', reject);
    });
    assert.equal(body.status, 200);
    assert.equal(body.type, 'image/jpeg');
    assert.ok(body.length > 100);
  });

  test('plain http:// sent to the HTTPS port is told to use https:// (in plain HTTP), and HTTPS still works', async (t) => {
    const { cert, key } = selfSignedCertificate();
    const { port, server } = await start(t, { tls: { cert, key } });
    const answer = await rawRequest(port, 'GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: a-browser/1.0 with some more header bytes\r\n\r\n');
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(answer, /\r\n\r\ncamcast: this port speaks HTTPS: use https:\/\/ instead of http:\/\/\n$/);
    assert.equal(server.live.viewerCount, 0);
    // Other bad handshakes get TLS's own alert and are closed: nobody reads plain text there.
    assert.doesNotMatch(await rawRequest(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])), /HTTP|camcast/);
    const good = await new Promise<number>((resolve, reject) => {
      https.get(`https://127.0.0.1:${port}/api/health`, { ca: cert, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      }).once('error', reject);
    });
    assert.equal(good, 200);
  });

  test('a certificate and key that do not match fail with one BAD_OPTION line', () => {
    assert.throws(() => createServer({ source: testPattern(), tls: { cert: 'nope', key: 'nope' } }), (error: any) => {
      assert.equal(error.code, 'BAD_OPTION');
      assert.match(error.message, /TLS certificate or key was rejected/);
      return true;
    });
  });
});

describe('hostile and broken requests', () => {
  test('a slowloris client is cut by the headers timeout while a viewer keeps streaming', async (t) => {
    const { url, port } = await start(t, { headersTimeoutMs: 500 });
    const viewer = openMjpeg(`${url}stream.mjpg`);
    t.after(() => viewer.destroy());
    await viewer.waitForParts(1);
    const socket = net.connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    socket.write('GET /stream.mjpg HTTP/1.1\r\nHost: x\r\n');
    const dripper = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100);
    t.after(() => clearInterval(dripper));
    let reply = '';
    socket.on('data', (c: Buffer) => (reply += c.toString()));
    await new Promise<void>((resolve, reject) => {
      socket.once('close', () => resolve());
      setTimeout(() => reject(new Error('the slow client was never cut')), 8000).unref();
    });
    clearInterval(dripper);
    assert.match(reply, /^HTTP\/1\.1 408/);
    const before = viewer.parts.length;
    await viewer.waitForParts(before + 2);
  });

  test('a requestTimeoutMs below the headers timeout\'s default cuts an unfinished request at its own time; a headersTimeoutMs above it is refused', async (t) => {
    const { port } = await start(t, { requestTimeoutMs: 600 });
    // Cut within the 5 s this client waits, so not by the 10 s of the headers timeout's default.
    const reply = await rawRequest(port, 'GET /api/status HTTP/1.1\r\nHost: x\r\n', { waitMs: 5000 });
    assert.match(reply, /^HTTP\/1\.1 408/);
    assert.throws(
      () => createServer({ source: testPattern(), headersTimeoutMs: 2000, requestTimeoutMs: 1000 }),
      (e: unknown) => isCamcastError(e, 'BAD_OPTION') && /headersTimeoutMs \(2000\) cannot be longer than requestTimeoutMs \(1000\)/.test(e.message),
    );
  });

  test('oversized headers get 431 and malformed requests 400, and other viewers are untouched', async (t) => {
    const { url, port } = await start(t);
    const viewer = openMjpeg(`${url}stream.mjpg`);
    t.after(() => viewer.destroy());
    await viewer.waitForParts(1);
    const huge = await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431/);
    const garbage = await rawRequest(port, 'BLAH\x00\x01 nonsense\r\n\r\n');
    assert.match(garbage, /^HTTP\/1\.1 400/);
    const badVersion = await rawRequest(port, 'GET / HTTP/9.9\r\n\r\n');
    assert.match(badVersion, /^HTTP\/1\.1 (400|505)/);
    const before = viewer.parts.length;
    await viewer.waitForParts(before + 2);
  });

  test('a request that offers an upgrade (curl --http2 sends "Upgrade: h2c") is served as the plain request it also is', async (t) => {
    const { port } = await start(t);
    for (const upgrade of ['h2c', 'websocket']) {
      const reply = await rawRequest(port, `GET /api/status HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: ${upgrade}\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n`);
      assert.match(reply, /^HTTP\/1\.1 200 /, upgrade);
      assert.match(reply, /"viewers"/, upgrade);
    }
    const stream = await rawRequest(port, 'GET /stream.mjpg HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n', { waitMs: 1500 });
    assert.match(stream, /^HTTP\/1\.1 200 [\s\S]*Content-Type: multipart\/x-mixed-replace[\s\S]*Content-Type: image\/jpeg/);
    const connect = await rawRequest(port, 'CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n');
    assert.match(connect, /^HTTP\/1\.1 405 /, 'CONNECT is still answered, not dropped');
    assert.match(connect, /\r\nAllow: GET, HEAD, OPTIONS\r\n/, 'a 405 names the methods there are');
  });

  test('random paths, methods, headers and query strings only ever get 4xx (bounded fuzz)', async (t) => {
    const { url, port } = await start(t, { snapshotTimeoutMs: 2000 });
    const random = seededRandom(12345);
    const rand = (n: number) => Math.floor(random() * n);
    const pick = <T>(xs: readonly T[]) => xs[rand(xs.length)]!;
    const chars = 'abc/._-%?&=;:~!$\'()*+,@[]{}|\\^`"<> \t01235AZ\u00e9';
    const junk = (n: number) => Array.from({ length: n }, () => chars[rand(chars.length)]).join('');
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'FOO', 'get'];
    const paths = ['/', '/stream.mjpg', '/snapshot.jpg', '/api/status', '/..', '//x', '/%00', '/%zz', '/api/', '/?action=', '/?action=nope'];
    const statuses = new Map<number, number>();
    for (let i = 0; i < 150; i++) {
      const method = pick(methods);
      const path = pick(paths) + (rand(2) ? `?${junk(rand(30))}` : '') + (rand(3) === 0 ? junk(rand(10)).replace(/[ \t]/g, '') : '');
      const headers = Array.from({ length: rand(4) }, () => `${pick(['X-A', 'Range', 'Accept', 'Authorization', 'Content-Length', 'Transfer-Encoding'])}: ${junk(rand(20)).replace(/[\r\n]/g, '')}`);
      const raw = `${method} ${path.replace(/[ \t]/g, '%20')} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.map((h) => `${h}\r\n`).join('')}Connection: close\r\n\r\n`;
      const reply = await rawRequest(port, raw, { waitMs: 300 });
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(reply)?.[1] ?? 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const okStream = status === 200 && /^(GET|HEAD) /.test(raw);
      assert.ok(okStream || (status >= 400 && status < 500) || status === 204 || status === 503, `status ${status} for ${JSON.stringify(raw.slice(0, 120))}`);
    }
    assert.ok((statuses.get(0) ?? 0) === 0, 'every request got an answer');
    const res = await fetchBuffer(`${url}api/status`);
    assert.equal(res.status, 200, 'still serving after the fuzz');
  });

  test('a path with its letters percent-escaped is the same path; an escaped slash or @ is not decoded', async (t) => {
    const { url } = await start(t);
    const status = await fetchBuffer(`${url}api/st%61tus`);
    assert.equal(status.status, 200);
    assert.match(String(status.headers['content-type']), /^application\/json/);
    const head = await fetchBuffer(`${url}%73tream.mjpg`, 'HEAD');
    assert.equal(head.status, 200);
    assert.match(String(head.headers['content-type']), /^multipart\/x-mixed-replace/);
    assert.equal((await fetchBuffer(`${url}api%2Fstatus`)).status, 404);
  });
});
