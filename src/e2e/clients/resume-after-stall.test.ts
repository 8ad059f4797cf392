import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { delay } from '../../testing/fake-source.js';
import { resumingViewer } from '../../testing/python-clients.js';

/** A frame captured this long before the viewer resumed still counts as fresh (one frame interval plus scheduling). */
const SLACK_S = 0.5;
const PAUSE_S = 5;

describe('a viewer that stops reading and resumes', () => {
  test('GET /stream.mjpg after a 5 s pause brings a frame captured after the resume once the kernel buffers are read', async (t) => {
    const server = createServer({ source: testPattern({ width: 320, height: 240, fps: 30 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { port } = await server.listen();

    const run = resumingViewer(t, port, '/stream.mjpg', PAUSE_S);
    // Watch the server side while the client pauses: it must drop frames for it, which shows
    // that the kernel buffers did fill and camcast's own backlog limit was in play.
    let dropped = 0;
    let finished = false;
    void run.finally(() => (finished = true)).catch(() => {});
    for (let i = 0; i < 400 && !finished; i++) {
      for (const viewer of server.live.viewers()) dropped = Math.max(dropped, viewer.framesDropped);
      await delay(50);
    }
    const { before, paused, after } = await run;

    assert.equal(before.length, 3);
    assert.ok(paused.serverQueue !== null && paused.clientQueue !== null, 'the connection was found in /proc/net/tcp');
    assert.ok(dropped > 0, `camcast dropped frames for the paused viewer (${dropped}), so its kernel buffers were full`);

    const fresh = after.findIndex((p) => p.timestamp >= paused.resumedAt - SLACK_S);
    assert.ok(fresh >= 0, `no frame captured after the resume among ${after.length} parts`);
    const freshPart = after[fresh]!;
    // The bound: everything ahead of the first fresh frame was already in the kernel (the
    // server's send queue and the client's receive queue, measured at the end of the pause) or
    // is the one part camcast had in flight when the socket filled up. camcast itself keeps
    // only the newest frame waiting, so it adds at most that one part of backlog; a server
    // that queued every frame would put seconds of video (~1 MB here) in between.
    const largestPart = Math.max(...[...before, ...after].map((p) => p.size));
    const buffered = paused.received + paused.serverQueue! + paused.clientQueue!;
    assert.ok(
      freshPart.offset <= buffered + largestPart,
      `fresh frame at byte ${freshPart.offset}, beyond what the kernel held (${buffered}) plus one part (${largestPart})`,
    );
    // Everything before it is the stale backlog from the start of the pause; after it, the
    // stream stays live.
    for (const part of after.slice(0, fresh)) assert.ok(part.timestamp < paused.resumedAt - SLACK_S);
    const live = after.slice(fresh);
    assert.ok(live.length >= 5, `${live.length} fresh parts read`);
    for (let i = 1; i < live.length; i++) {
      assert.ok(live[i]!.seq > live[i - 1]!.seq, 'frames in order');
      assert.ok(live[i]!.timestamp >= paused.resumedAt - SLACK_S, 'no stale frame after a fresh one');
    }
    t.diagnostic(`stale parts from the kernel buffers: ${fresh} (server send queue ${paused.serverQueue} B, client receive queue ${paused.clientQueue} B); frames dropped by camcast: ${dropped}; first fresh frame captured ${(freshPart.timestamp - paused.resumedAt).toFixed(3)} s after the resume`);
  });
});
