import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Broadcaster } from '../broadcaster.js';
import type { Frame } from '../frame.js';
import { describeError } from '../errors.js';
import { NO_CACHE_HEADERS, sendError, sendText } from './responses.js';

/**
 * GET /snapshot.jpg: one whole JPEG of the newest live frame. On an idle capture it starts the
 * source (as a brief viewer) and waits, within a bound, for a fresh frame; a 503 says why not,
 * at once when the source has failed and will not try again within that bound.
 */
export async function serveSnapshot(req: IncomingMessage, res: ServerResponse, broadcaster: Broadcaster, timeoutMs: number): Promise<void> {
  let frame: Frame | undefined = broadcaster.latest;
  // A failed source gets no new frame before its next attempt: when that is beyond the wait,
  // say why at once (and when to ask again) instead of holding the request for nothing.
  const retryInMs = (broadcaster.retryAt ?? 0) - Date.now();
  if (broadcaster.state === 'retrying' && retryInMs >= timeoutMs) {
    const why = broadcaster.lastError ? describeError(broadcaster.lastError) : 'it failed';
    const seconds = Math.ceil(retryInMs / 1000);
    // Still a look at the stream: a client that only polls snapshots keeps the failed capture
    // (and its backoff) alive instead of restarting it from the first delay.
    broadcaster.keepWarm();
    sendText(res, 503, `camcast: no picture: ${why}; the next attempt is in ${seconds} s`, { 'Retry-After': seconds });
    return;
  }
  if (frame && !frame.noSignal && broadcaster.state === 'live') {
    // Served from the running capture: keep it running for the next poll, as a viewer would.
    broadcaster.keepWarm();
  } else {
    const aborter = new AbortController();
    const abort = () => aborter.abort();
    res.once('close', abort);
    try {
      frame = await broadcaster.nextFrame({ timeoutMs, signal: aborter.signal });
    } catch (error) {
      // A failed source's next attempt may be seconds away: that is when to ask again.
      const retryInS = Math.ceil(((broadcaster.retryAt ?? 0) - Date.now()) / 1000);
      if (!res.destroyed) sendError(res, error, retryInS > 1 ? { 'Retry-After': retryInS } : {});
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
