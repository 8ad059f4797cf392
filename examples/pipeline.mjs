// @ts-check
// A processing pipeline: frames from a camera -> your code (here greyscale + edge detection with
// sharp) -> a second stream; both shown side by side on one page.
//   npm run build && node examples/pipeline.mjs [source]    then open http://127.0.0.1:3000/
import http from 'node:http';
import sharp from 'sharp';
import { push, stream } from 'camcast';

const camera = stream(process.argv[2] ?? 'auto');
const edges = push();
// Its frames come from the camera, which has its own stall detection and "no signal" picture.
const processed = stream(edges, { stallTimeoutMs: 0 });

/**
 * Greyscale, then a Laplacian kernel: flat areas go black, edges light up.
 * @param {Buffer} jpeg
 */
async function detectEdges(jpeg) {
  const { data, info } = await sharp(jpeg)
    .greyscale()
    .convolve({ width: 3, height: 3, kernel: [-1, -1, -1, -1, 8, -1, -1, -1, -1] })
    .raw()
    .toBuffer({ resolveWithObject: true });
  // Raw pixels: camcast encodes them off the event loop, the newest frame winning.
  return { data, width: info.width, height: info.height, channels: /** @type {const} */ (1) };
}

// Watch the camera only while someone watches the edges (a stream or a snapshot): the
// processed stream starts with its first viewer and is stopped after its last.
/** @type {(() => void) | undefined} */
let unsubscribe;
let busy = false;
processed.on('state', (state) => {
  if (state === 'starting' && !unsubscribe) {
    unsubscribe = camera.subscribe(async (frame) => {
      if (busy) return; // still working on an older frame: skip this one, a newer one comes
      busy = true;
      try {
        edges.push(frame.noSignal ? frame.jpeg : await detectEdges(frame.jpeg));
      } finally {
        busy = false;
      }
    });
  } else if (state === 'stopped' && unsubscribe) {
    unsubscribe();
    unsubscribe = undefined;
  }
});

const page = `<!doctype html><meta charset="utf-8"><title>camcast pipeline</title>
<style>body{display:flex;gap:12px;margin:12px;background:#111;color:#ccc;font:14px sans-serif}
figure{margin:0}img{width:min(640px,46vw);background:#222}</style>
<figure><img src="camera.mjpg" alt="camera"><figcaption>camera</figcaption></figure>
<figure><img src="edges.mjpg" alt="edges"><figcaption>edges</figcaption></figure>`;

/** @type {Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>} */
const routes = {
  '/': (_req, res) => res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page),
  '/camera.mjpg': camera.mjpeg,
  '/camera.jpg': camera.snapshot,
  '/edges.mjpg': processed.mjpeg,
  '/edges.jpg': processed.snapshot,
};
const server = http.createServer((req, res) => {
  const route = routes[new URL(req.url ?? '/', 'http://localhost').pathname];
  if (route) route(req, res);
  else res.writeHead(404).end();
});
const port = Number(process.env.PORT ?? 3000);
server.listen(port, '127.0.0.1', () => {
  const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`camera and edges at http://127.0.0.1:${bound}/`);
});
// A failed listen (a port in use) is an 'error' event: unhandled, it ends the process with a
// stack trace. Say it in one line, close both captures and exit non-zero instead.
server.once('error', async (/** @type {NodeJS.ErrnoException} */ error) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `port ${port} on 127.0.0.1 is already in use: stop the program using it or pick another port with PORT=N`
      : `cannot listen on 127.0.0.1:${port}: ${error.message}`,
  );
  await processed.close();
  await camera.close();
  process.exitCode = 1;
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await processed.close(); // first: it stops watching the camera
    await camera.close();
    server.close();
  });
}
