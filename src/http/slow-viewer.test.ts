import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { testPattern } from '../sources/test-pattern.js';
import { createServer } from '../stream-server.js';
import { connectionKey, readSendQueues } from './send-queue.js';

const READ_BYTES_PER_SECOND = 100_000;

test('a viewer that reads slower than the stream gets newer frames, not a kernel queue of minutes of past', async (t) => {
  const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 30, quality: 90 }), port: 0, host: '127.0.0.1' });
  t.after(() => server.close());
  const { port } = await server.listen();
  const client = net.connect(port, '127.0.0.1');
  t.after(() => client.destroy());
  await new Promise<void>((resolve) => client.once('connect', resolve));
  client.write('GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  // Reads at a steady, slow rate: pause after each chunk for as long as its bytes take.
  const seqs: number[] = [];
  let tail = '';
  client.on('data', (chunk: Buffer) => {
    const text = tail + chunk.toString('latin1');
    for (const match of text.matchAll(/X-Frame-Seq: (\d+)\r\n/g)) seqs.push(Number(match[1]));
    tail = text.slice(-40);
    client.pause();
    setTimeout(() => client.resume(), (chunk.length / READ_BYTES_PER_SECOND) * 1000);
  });
  const key = connectionKey(client.localAddress!, client.localPort!, port);
  // The kernel queue the server holds for this viewer, read as SendQueueWatch reads it.
  const queued: number[] = [];
  const started = Date.now();
  while (Date.now() - started < 10_000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const queues = await readSendQueues(new Set([port]));
    assert.ok(queues, '/proc/net/tcp is readable (Linux)');
    if (Date.now() - started > 5000) queued.push(queues.get(key) ?? 0);
  }
  assert.ok(seqs.length > 10, `${seqs.length} frames arrived`);
  // Without the watch the queue grows by the stream's rate less the reader's, toward Linux's 4 MB.
  const most = Math.max(...queued);
  assert.ok(most < 1024 * 1024, `the kernel held ${most} bytes for the viewer`);
  // The viewer skips frames to stay near the present rather than being sent every one.
  const skipped = seqs.at(-1)! - seqs[0]! + 1 - seqs.length;
  assert.ok(skipped > 0, `skipped ${skipped} of ${seqs.at(-1)! - seqs[0]! + 1}`);
  assert.equal(server.live.viewerCount, 1, 'still watching: a slow reader is not cut');
});
