import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { openCvRead } from '../../testing/python-clients.js';

describe('OpenCV as a client', () => {
  for (const path of ['stream.mjpg', '?action=stream']) {
    test(`cv2.VideoCapture("/${path}") decodes 30 frames of 320x240`, async (t) => {
      const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 30 }), host: '127.0.0.1', port: 0 });
      t.after(() => server.close());
      const { url } = await server.listen();
      const result = await openCvRead(t, url + path, 30);
      assert.ok(result.opened, 'VideoCapture opened the URL');
      assert.equal(result.shapes.length, 30, `decoded ${result.shapes.length} frames (backend ${result.backend})`);
      for (const shape of result.shapes) assert.deepEqual(shape, [240, 320, 3]);
      // The test pattern changes every frame; a client stuck on one picture would decode copies.
      assert.ok(result.distinct >= 20, `${result.distinct} different pictures among 30`);
    });
  }
});
