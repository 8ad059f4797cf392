// @ts-check
// Frames drawn by code, pushed 30 times a second: a live chart of two waves, as raw RGB pixels.
//   npm run build && node examples/drawn-frames.mjs    then open http://127.0.0.1:8080/
import { createServer, isCamcastError, push } from 'camcast';

const width = 320;
const height = 240;
const source = push();
const server = createServer({ source, port: Number(process.env.PORT ?? 8080) });
const listening = await server.listen().catch(async (/** @type {unknown} */ error) => {
  // One line saying what to do (the port is taken, say), not an unhandled rejection's stack.
  console.error(isCamcastError(error, 'PORT_IN_USE') ? `${error.message} with PORT=N` : error instanceof Error ? error.message : String(error));
  await server.close();
  process.exit(1);
});
console.log(`drawn frames at ${listening.url}`);

// One buffer, redrawn each time: push() copies raw pixels, so it can be reused at once.
const pixels = Buffer.alloc(width * height * 3);
const timer = setInterval(() => {
  draw(performance.now() / 1000);
  source.push({ data: pixels, width, height, channels: 3 });
}, 1000 / 30);

/** @param {number} t seconds */
function draw(t) {
  pixels.fill(16);
  for (let x = 0; x < width; x += 40) line(x, 0, x, height, 60);
  for (let y = 0; y < height; y += 40) line(0, y, width, y, 60);
  for (let x = 0; x < width; x++) {
    const phase = x / 40 - t * 2;
    dot(x, height / 2 - Math.sin(phase) * height * 0.35, [255, 160, 0]);
    dot(x, height / 2 - Math.cos(phase * 0.5) * height * 0.2, [0, 200, 255]);
  }
}

/** @param {number} x @param {number} y @param {readonly number[]} rgb */
function dot(x, y, rgb) {
  for (let dy = -1; dy <= 1; dy++) {
    const row = Math.round(y) + dy;
    if (row < 0 || row >= height) continue;
    pixels.set(rgb, (row * width + x) * 3);
  }
}

/** @param {number} x0 @param {number} y0 @param {number} x1 @param {number} y1 @param {number} v */
function line(x0, y0, x1, y1, v) {
  for (let y = y0; y < Math.min(y1 + 1, height); y++) {
    for (let x = x0; x < Math.min(x1 + 1, width); x++) pixels.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    clearInterval(timer);
    await server.close();
  });
}
