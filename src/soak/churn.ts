/**
 * `npm run soak`: 10,000 viewer connect/disconnect cycles against a live camcast, then prints
 * open fds, active handles and RSS before and after. The test suite runs the same churn at a
 * smaller count with assertions (src/churn.test.ts).
 */
import sharp from 'sharp';
import { push } from '../sources/push.js';
import { createServer } from '../stream-server.js';
import { runChurn } from '../testing/churn.js';
import { openFdCount } from '../testing/processes.js';

const cycles = Number(process.argv[2] ?? 10_000);

function snapshot() {
  (globalThis as { gc?: () => void }).gc?.();
  const handles: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) handles[type] = (handles[type] ?? 0) + 1;
  const mem = process.memoryUsage();
  const mb = (n: number) => +(n / 1048576).toFixed(1);
  return { fds: openFdCount(), rssMB: mb(mem.rss), heapUsedMB: mb(mem.heapUsed), externalMB: mb(mem.external), handles };
}

const source = push();
const server = createServer({ source, host: '127.0.0.1', port: 0, idleTimeoutMs: 0 });
const { port } = await server.listen();
const data = Buffer.alloc(640 * 360 * 3, 0).map((_, i) => (i * 7919) % 251);
const jpeg = await sharp(data, { raw: { width: 640, height: 360, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
const pusher = setInterval(() => source.push(jpeg), 33);
await runChurn({ port, cycles: 50 });
await new Promise((r) => setTimeout(r, 200));
const before = snapshot();
const started = Date.now();
const result = await runChurn({ port, cycles, concurrency: 16 });
for (let i = 0; i < 100 && server.live.viewerCount > 0; i++) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, 500));
const after = snapshot();
clearInterval(pusher);
await server.close();
console.log(JSON.stringify({ result, seconds: (Date.now() - started) / 1000, before, after, viewersLeft: server.live.viewerCount }, null, 2));
