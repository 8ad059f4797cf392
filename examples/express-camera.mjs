// @ts-check
// An Express app that serves a camera at /cam (the test pattern on a machine without one).
//   npm run build && node examples/express-camera.mjs [source]    then open http://127.0.0.1:3000/
// `source` is anything --source takes: auto (default), test, 0, /dev/video2, clip.mp4, rtsp://...
import express from 'express';
import { stream } from 'camcast';

const cam = stream(process.argv[2] ?? 'auto');
const app = express();
app.get('/cam', cam.mjpeg);
app.get('/cam.jpg', cam.snapshot);
app.get('/cam/status', cam.status);
app.get('/', (_req, res) => {
  res.type('html').send('<!doctype html><title>camcast + Express</title><img src="cam" alt="live camera">');
});

const port = Number(process.env.PORT ?? 3000);
// Express 5 hands a failed listen (a port in use) to this callback: say so in one line, close
// the capture and exit non-zero, rather than crash on server.address() being null.
const server = app.listen(port, '127.0.0.1', async (error) => {
  if (error) {
    console.error(listenError(error, port));
    await cam.close();
    process.exitCode = 1;
    return;
  }
  const { port: bound } = /** @type {import('node:net').AddressInfo} */ (server.address());
  console.log(`camera at http://127.0.0.1:${bound}/`);
});

/** @param {NodeJS.ErrnoException} error @param {number} port */
function listenError(error, port) {
  if (error.code === 'EADDRINUSE') return `port ${port} on 127.0.0.1 is already in use: stop the program using it or pick another port with PORT=N`;
  return `cannot listen on 127.0.0.1:${port}: ${error.message}`;
}

// Close the capture first (it ends the open streams), then the server: the process then exits
// by itself, with no camera, socket or timer left behind.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    await cam.close();
    server.close();
  });
}
