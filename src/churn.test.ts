import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import { push } from './sources/push.js';
import { createServer } from './stream-server.js';
import { runChurn } from './testing/churn.js';
import { delay, until } from './testing/fake-source.js';
import { openFdCount } from './testing/processes.js';

/** Resources keeping the event loop alive, by type (TCPSocketWrap, Timeout, ...). */
function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

describe('viewer churn', () => {
  test('600 connect/disconnect cycles, a third cut mid-frame, leave no fds, sockets, timers or subscribers behind', async (t) => {
    const source = push();
    const server = createServer({ source, host: '127.0.0.1', port: 0, idleTimeoutMs: 0 });
    t.after(() => server.close());
    const { port } = await server.listen();
    // Big frames, so that a hang-up after the first chunk lands inside a frame.
    const data = Buffer.alloc(320 * 240 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    const jpeg = await sharp(data, { raw: { width: 320, height: 240, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
    const pusher = setInterval(() => source.push(jpeg), 20);
    t.after(() => clearInterval(pusher));
    await until(() => server.broadcaster.state === 'live' || source.push(jpeg), 'capture running');

    await runChurn({ port, cycles: 30 });
    await until(() => server.live.viewerCount === 0, 'warm-up viewers gone');
    await delay(100);
    global.gc?.();
    const fdsBefore = openFdCount();
    const resourcesBefore = resources();
    const rssBefore = process.memoryUsage().rss;
    const listenersBefore = server.broadcaster.listenerCount('frame');

    const result = await runChurn({ port, cycles: 600 });
    assert.equal(result.failed, 0, JSON.stringify(result));
    assert.ok(result.cutMidFrame >= 150 && result.cutEarly >= 150 && result.cutAfterFrames >= 150, JSON.stringify(result));

    await until(() => server.live.viewerCount === 0 && server.broadcaster.subscriberCount === 0, 'every viewer forgotten', 10_000);
    await until(() => openFdCount() <= fdsBefore + 2, `fds back to ${fdsBefore} (now ${openFdCount()})`, 10_000);
    const after = resources();
    for (const type of ['TCPSocketWrap', 'TCPWrap', 'Timeout']) {
      assert.ok((after[type] ?? 0) <= (resourcesBefore[type] ?? 0) + 1, `${type}: ${resourcesBefore[type] ?? 0} before, ${after[type] ?? 0} after`);
    }
    assert.equal(server.broadcaster.listenerCount('frame'), listenersBefore);
    const growth = process.memoryUsage().rss - rssBefore;
    assert.ok(growth < 64 * 1024 * 1024, `RSS grew ${(growth / 1048576).toFixed(1)} MB over 600 cycles`);
    const status = server.broadcaster.status();
    assert.equal(status.subscribers, 0);
  });
});
