import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { testPattern } from '../sources/test-pattern.js';
import { createServer } from '../stream-server.js';
import { connectionKey, readSendQueues } from './send-queue.js';

/**
 * A viewer reading 100 KB/s through a small receive buffer, as a slow network would deliver:
 * Node cannot set SO_RCVBUF, and a large one would hold the backlog on the viewer's side, out of
 * the server's reach. Prints its port, then the X-Frame-Seq of every part it read.
 */
const SLOW_READER = `
import socket, sys, time, re, json
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.connect(("127.0.0.1", int(sys.argv[1])))
print("port", s.getsockname()[1], flush=True)
s.sendall(b"GET /stream.mjpg HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n")
seqs, tail, end = [], b"", time.time() + float(sys.argv[2])
while time.time() < end:
    chunk = s.recv(4096)
    if not chunk:
        break
    text = tail + chunk
    seqs += [int(m) for m in re.findall(rb"X-Frame-Seq: (\\d+)\\r\\n", text)]
    tail = text[-40:]
    time.sleep(len(chunk) / 100000)
print(json.dumps(seqs), flush=True)
`;

test('a viewer that reads slower than the stream gets newer frames, not a kernel queue of minutes of past', async (t) => {
  const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 30, quality: 90 }), port: 0, host: '127.0.0.1' });
  t.after(() => server.close());
  const { port } = await server.listen();
  const reader = spawn('python3', ['-c', SLOW_READER, String(port), '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => reader.kill('SIGKILL'));
  let out = '';
  reader.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<void>((resolve) => reader.once('exit', () => resolve()));
  while (!/^port \d+\n/.test(out)) await new Promise((resolve) => setTimeout(resolve, 20));
  const key = connectionKey('127.0.0.1', Number(/^port (\d+)/.exec(out)![1]), port);
  // The kernel queue the server holds for this viewer, read as SendQueueWatch reads it.
  const queued: number[] = [];
  const started = Date.now();
  while (Date.now() - started < 9000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const reading = await readSendQueues(new Set([port]));
    assert.ok(reading, '/proc/net/tcp is readable (Linux)');
    if (Date.now() - started > 4000) queued.push(reading.queues.get(key) ?? 0);
  }
  assert.equal(server.live.viewerCount, 1, 'still watching: a slow reader is not cut');
  await exited;
  const seqs = JSON.parse(out.split('\n')[1]!) as number[];
  assert.ok(seqs.length > 10, `${seqs.length} frames arrived`);
  // Without the watch the queue grows by the stream's rate less the reader's, toward Linux's 4 MB.
  const most = Math.max(...queued);
  assert.ok(most < 1024 * 1024, `the kernel held up to ${most} bytes for the viewer: ${queued.join(', ')}`);
  // The viewer skips frames to stay near the present rather than being sent every one.
  const skipped = seqs.at(-1)! - seqs[0]! + 1 - seqs.length;
  assert.ok(skipped > 0, `skipped ${skipped} of ${seqs.at(-1)! - seqs[0]! + 1}`);
});
