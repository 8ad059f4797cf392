import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Broadcaster } from '../broadcaster.js';
import type { Frame } from '../frame.js';
import { NO_CACHE_HEADERS, sendError } from './responses.js';

/**
 * GET /snapshot.jpg: one whole JPEG of the newest live frame. On an idle capture it starts the
 * source (as a brief viewer) and waits, within a bound, for a fresh frame; a 503 says why not.
 */
export async function serveSnapshot(req: IncomingMessage, res: ServerResponse, broadcaster: Broadcaster, timeoutMs: number): Promise<void> {
  let frame: Frame | undefined = broadcaster.latest;
  if (!frame || frame.noSignal || broadcaster.state !== 'live') {
    const aborter = new AbortController();
    const abort = () => aborter.abort();
    res.once('close', abort);
    try {
      frame = await broadcaster.nextFrame({ timeoutMs, signal: aborter.signal });
    } catch (error) {
      if (!res.destroyed) sendError(res, error);
      return;
    } finally {
      res.off('close', abort);
    }
  }
  if (res.destroyed) return;
  res.writeHead(200, {
    'Content-Type': 'image/jpeg',
    'Content-Length': frame.jpeg.length,
    'Content-Disposition': 'inline; filename="snapshot.jpg"',
    'X-Timestamp': (frame.capturedAt / 1000).toFixed(6),
    'X-Frame-Seq': frame.seq,
    ...NO_CACHE_HEADERS,
  });
  res.end(req.method === 'HEAD' ? undefined : frame.jpeg);
}
