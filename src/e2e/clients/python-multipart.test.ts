import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { fetchBuffer } from '../../testing/mjpeg-client.js';
import { aiohttpReadParts, homeAssistantStill } from '../../testing/python-clients.js';

async function start(t: TestContext) {
  const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 30 }), host: '127.0.0.1', port: 0 });
  t.after(() => server.close());
  return (await server.listen()).url;
}

describe('strict multipart readers and Home Assistant', () => {
  for (const path of ['stream.mjpg', '?action=stream', 'api/stream.mjpeg']) {
    test(`aiohttp.MultipartReader reads 30 parts from /${path}`, async (t) => {
      const url = await start(t);
      const { contentType, parts } = await aiohttpReadParts(t, url + path, 30);
      assert.match(contentType, /^multipart\/x-mixed-replace; boundary=/);
      assert.equal(parts.length, 30);
      let seq = 0;
      for (const part of parts) {
        assert.equal(part.contentType, 'image/jpeg');
        assert.equal(Number(part.contentLength), part.size, 'Content-Length is the body size');
        assert.deepEqual([part.head, part.tail], ['ffd8', 'ffd9'], 'each body is one whole JPEG');
        assert.ok(Number(part.timestamp) > 0);
        assert.ok(Number(part.seq) > seq, 'frames in order');
        seq = Number(part.seq);
      }
    });
  }

  test("Home Assistant's still-from-stream method (first FF D8 ... FF D9) yields a whole 320x240 JPEG", async (t) => {
    const url = await start(t);
    const image = await homeAssistantStill(t, `${url}stream.mjpg`);
    assert.ok(image.length > 0, 'found a JPEG in the stream');
    // failOn 'warning' rejects a truncated or corrupt JPEG instead of decoding what it can.
    const { info } = await sharp(image, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [320, 240]);
  });

  test('the still_image_url (/snapshot.jpg) is image/jpeg with Content-Length and decodes', async (t) => {
    const url = await start(t);
    const res = await fetchBuffer(`${url}snapshot.jpg`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'image/jpeg');
    assert.equal(Number(res.headers['content-length']), res.body.length);
    const { info } = await sharp(res.body, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [320, 240]);
  });
});
