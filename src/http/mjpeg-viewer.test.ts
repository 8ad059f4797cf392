import { EventEmitter } from 'node:events';
import assert from 'node:assert/strict';
import http, { ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { Frame } from '../frame.js';
import { MjpegViewer } from './mjpeg-viewer.js';
import { MultipartEncoder } from './multipart-encoder.js';
import { until } from '../testing/fake-source.js';
import { openMjpeg, type MjpegClient } from '../testing/mjpeg-client.js';
import { WriteScheduler, type ScheduledWriter } from './write-scheduler.js';

/** Just enough of a ServerResponse: records each write and holds its callback. */
class FakeResponse extends EventEmitter {
  readonly writes: { chunk: Buffer; done: (error?: Error | null) => void }[] = [];
  socket: { bytesWritten: number } | null = null;
  writableLength = 0;
  destroyed = false;
  write(chunk: Buffer, done: (error?: Error | null) => void): boolean {
    this.writes.push({ chunk, done });
    return true;
  }
  end(): void {}
}

const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(50_000, 7), Buffer.from([0xff, 0xd9])]);
// 30 fps apart, as a camera sends them.
const frame = (seq: number): Frame => ({ jpeg, seq, capturedAt: 1_700_000_000_000 + seq * 33 });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
const seqOf = (part: Buffer) => /X-Frame-Seq: (\d+)\r\n/.exec(part.toString('latin1', 0, 200))?.[1];

/** A scheduler whose turns the test gives one at a time, and whose busy time it sets. */
class ManualScheduler {
  readonly turns: ScheduledWriter[] = [];
  busy = 0;
  busyMs(): number {
    return this.busy;
  }
  schedule(writer: ScheduledWriter): void {
    this.turns.push(writer);
  }
  next(): void {
    this.turns.shift()!.flush();
  }
  asScheduler(): WriteScheduler {
    return this as unknown as WriteScheduler;
  }
}

function viewer(encoder: MultipartEncoder, scheduler?: WriteScheduler, id = 1) {
  const res = new FakeResponse();
  return { res, viewer: new MjpegViewer(res as unknown as ServerResponse, encoder, { id, scheduler }) };
}

describe('MjpegViewer', () => {
  test('frame() hands every viewer the identical part Buffer: no per-viewer copy of the JPEG', () => {
    const encoder = new MultipartEncoder();
    const viewers = Array.from({ length: 100 }, (_, i) => viewer(encoder, undefined, i + 1));
    for (const seq of [1, 2]) {
      const f = frame(seq);
      for (const v of viewers) v.viewer.frame(f);
      const parts = viewers.map((v) => v.res.writes.at(-1)!.chunk);
      assert.ok(parts.every((p) => p === parts[0]), `frame ${seq}: one Buffer object for all 100 viewers`);
      assert.ok(parts[0]!.includes(jpeg), 'the part carries the JPEG');
      for (const v of viewers) v.res.writes.at(-1)!.done();
    }
    assert.notEqual(viewers[0]!.res.writes[0]!.chunk, viewers[0]!.res.writes[1]!.chunk, 'a new part per frame');
  });

  test('frame() keeps one pending frame while a part is in flight and counts the ones it replaces', () => {
    const { res, viewer: v } = viewer(new MultipartEncoder());
    v.frame(frame(1));
    for (const seq of [2, 3, 4]) v.frame(frame(seq));
    assert.equal(res.writes.length, 1, 'one part in flight, no queue of writes');
    assert.equal(v.info().framePending, true);
    res.writes[0]!.done();
    assert.equal(res.writes.length, 2);
    assert.match(res.writes[1]!.chunk.toString('latin1', 0, 200), /X-Frame-Seq: 4\r\n/, 'the newest frame went next');
    assert.deepEqual([v.info().framesSent, v.info().framesDropped, v.info().framePending], [2, 2, false]);
  });

  test('with a scheduler, frame() writes on a later turn; a newer frame waits behind the one in line and the newest of those wins', async () => {
    const { res, viewer: v } = viewer(new MultipartEncoder(), new WriteScheduler());
    v.frame(frame(1));
    v.frame(frame(2));
    v.frame(frame(3));
    assert.equal(res.writes.length, 0, 'nothing written inside the broadcaster call');
    assert.equal(v.info().framesDropped, 1, 'frame 2, replaced behind frame 1');
    await turn();
    assert.equal(res.writes.length, 1, 'one part in flight');
    assert.equal(seqOf(res.writes[0]!.chunk), '1', 'the frame in line kept its turn');
    res.writes[0]!.done();
    await turn();
    assert.deepEqual(res.writes.map((w) => seqOf(w.chunk)), ['1', '3']);
    assert.deepEqual([v.info().framesSent, v.info().framesDropped, v.info().framePending], [2, 1, false]);
  });

  test('a server busy for over two frame intervals (past its limit) hands a queued viewer the newest frame instead', async () => {
    // A scheduler that has not been idle for 10 s: holding frames back would only add latency.
    const overloaded = new ManualScheduler();
    overloaded.busy = 10_000;
    const { res, viewer: v } = viewer(new MultipartEncoder(), overloaded.asScheduler());
    v.frame(frame(1));
    v.frame(frame(2));
    v.frame(frame(3));
    assert.equal(overloaded.turns.length, 1, 'queued once');
    overloaded.next();
    assert.deepEqual(res.writes.map((w) => seqOf(w.chunk)), ['3']);
    assert.deepEqual([v.info().framesDropped, v.info().framePending], [2, false]);
  });

  test('a frame that waited behind the one in line gives way to a newer one once the server is past its limit', () => {
    const scheduler = new ManualScheduler();
    const { res, viewer: v } = viewer(new MultipartEncoder(), scheduler.asScheduler());
    v.frame(frame(1));
    // Frames are 33 ms apart: busy for under 66 ms is at most one frame behind.
    scheduler.busy = 40;
    v.frame(frame(2));
    scheduler.busy = 80;
    v.frame(frame(3));
    scheduler.next();
    // Frame 3 took frame 1's turn; frame 2, behind it, would have gone out after the newer one.
    assert.deepEqual(res.writes.map((w) => seqOf(w.chunk)), ['3']);
    assert.equal(scheduler.turns.length, 0, 'nothing queued behind it');
    assert.deepEqual([v.info().framesDropped, v.info().framePending], [2, false]);
  });

  test('a frame that waited behind the one in line queues again behind the viewers already waiting', () => {
    const scheduler = new ManualScheduler();
    const encoder = new MultipartEncoder();
    const order: string[] = [];
    const a = viewer(encoder, scheduler.asScheduler(), 1);
    const b = viewer(encoder, scheduler.asScheduler(), 2);
    for (const [name, v] of [['a', a], ['b', b]] as const) {
      const write = v.res.write.bind(v.res);
      v.res.write = (chunk, done) => {
        order.push(`${name}${seqOf(chunk)}`);
        return write(chunk, done);
      };
    }
    // Frame 1 reaches both; frame 2 comes before either got its turn, as when a fan-out runs
    // past the next frame.
    a.viewer.frame(frame(1));
    b.viewer.frame(frame(1));
    a.viewer.frame(frame(2));
    b.viewer.frame(frame(2));
    assert.equal(scheduler.turns.length, 2, 'each queued once');
    scheduler.next();
    assert.deepEqual(order, ['a1']);
    assert.equal(scheduler.turns.length, 2, 'a queued again, behind b');
    // Its socket takes part 1 at once; frame 2 still waits for a's turn, after b's frame 1.
    a.res.writes[0]!.done();
    assert.deepEqual(order, ['a1']);
    scheduler.next();
    b.res.writes[0]!.done();
    scheduler.next();
    scheduler.next();
    assert.deepEqual(order, ['a1', 'b1', 'a2', 'b2'], 'each got both frames, frame 1 to everyone first');
    assert.equal(scheduler.turns.length, 0);
    assert.equal(a.viewer.info().framesDropped + b.viewer.info().framesDropped, 0);
  });

  test('a viewer whose part is still in flight when its turn comes again keeps only the newest frame, until the socket takes the part', () => {
    const scheduler = new ManualScheduler();
    const { res, viewer: v } = viewer(new MultipartEncoder(), scheduler.asScheduler());
    v.frame(frame(1));
    v.frame(frame(2));
    scheduler.next();
    // Part 1 went at the turn and frame 2 queued again; frame 3 comes while it waits.
    v.frame(frame(3));
    assert.equal(v.info().framesDropped, 0, 'frame 3 waits behind frame 2');
    // The socket has not taken part 1 when the turn comes: only the newest frame may wait for it.
    scheduler.next();
    assert.deepEqual(res.writes.map((w) => seqOf(w.chunk)), ['1']);
    assert.deepEqual([v.info().framesDropped, v.info().framePending], [1, true]);
    assert.equal(scheduler.turns.length, 0, 'not queued: the write callback sends it');
    // Still in flight: a newer frame replaces the waiting one, as for any slow viewer.
    v.frame(frame(4));
    assert.equal(v.info().framesDropped, 2);
    res.writes[0]!.done();
    assert.deepEqual(res.writes.map((w) => seqOf(w.chunk)), ['1', '4']);
    assert.deepEqual([v.info().framesSent, v.info().framesDropped, v.info().framePending], [2, 2, false]);
  });

  test('close() forgets the frame in line and the one behind it', () => {
    const scheduler = new ManualScheduler();
    const { res, viewer: v } = viewer(new MultipartEncoder(), scheduler.asScheduler());
    v.frame(frame(1));
    v.frame(frame(2));
    assert.equal(v.info().framePending, true);
    v.close();
    assert.equal(v.info().framePending, false);
    scheduler.next();
    assert.equal(res.writes.length, 0);
  });

  test('frame() ignores a frame it already has and frames after close()', async () => {
    const { res, viewer: v } = viewer(new MultipartEncoder());
    const f = frame(5);
    v.frame(f);
    v.frame(f);
    res.writes[0]!.done();
    v.close();
    v.frame(frame(6));
    assert.equal(res.writes.length, 1);
    assert.equal(v.info().framesDropped, 0);
  });

  test('a frame without a part (its bytes hold the delimiter) is dropped and the next one goes out', () => {
    const { res, viewer: v } = viewer(new MultipartEncoder());
    const comment = Buffer.from('--camcastframe');
    v.frame({ jpeg: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0, comment.length + 2]), comment, Buffer.from([0xff, 0xd9])]), seq: 1, capturedAt: 0 });
    assert.equal(res.writes.length, 0);
    v.frame(frame(2));
    assert.equal(res.writes.length, 1);
    assert.deepEqual([v.info().framesSent, v.info().framesDropped], [1, 1]);
  });

  test('a write called back after its socket was destroyed sends nothing more and counts nothing more', () => {
    const { res, viewer: v } = viewer(new MultipartEncoder());
    v.frame(frame(1));
    v.frame(frame(2));
    // What Node does when a socket is destroyed under a write: the callback, with no error.
    res.destroyed = true;
    res.writes[0]!.done(null);
    assert.equal(res.writes.length, 1, 'no write to a destroyed response');
    assert.deepEqual([v.info().framesSent, v.info().framePending], [1, false]);
    // A frame before the response's 'close' reaches the HTTP layer is neither written nor counted.
    v.frame(frame(3));
    assert.equal(res.writes.length, 1);
    assert.deepEqual([v.info().framesSent, v.info().framePending], [1, false]);
  });

  test("bytesSent counts from the stream's start on its socket and never goes down", () => {
    const res = new FakeResponse();
    // A kept-alive connection that carried the viewer page first.
    res.socket = { bytesWritten: 7000 };
    const v = new MjpegViewer(res as unknown as ServerResponse, new MultipartEncoder(), { id: 1 });
    assert.equal(v.info().bytesSent, 0);
    res.socket.bytesWritten = 57_000;
    assert.equal(v.info().bytesSent, 50_000);
    // A destroyed socket drops what it still buffered from its count.
    res.socket.bytesWritten = 20_000;
    assert.equal(v.info().bytesSent, 50_000);
  });

  test('a stream queued behind another request on its connection counts its bytes from when it gets the socket', () => {
    const res = new FakeResponse();
    const v = new MjpegViewer(res as unknown as ServerResponse, new MultipartEncoder(), { id: 1 });
    const socket = { bytesWritten: 3000 };
    res.socket = socket;
    res.emit('socket', socket);
    socket.bytesWritten = 53_000;
    assert.equal(v.info().bytesSent, 50_000);
  });

  test('limitSending(0) holds the newest frame back, a part goes while any allowance is left, and undefined lifts it', () => {
    const { res, viewer: v } = viewer(new MultipartEncoder());
    v.limitSending(0);
    v.frame(frame(1));
    assert.equal(res.writes.length, 0, 'held back');
    v.frame(frame(2));
    assert.deepEqual([v.heldBack, v.info().framesDropped, v.info().framePending], [2, 1, true]);
    const partBytes = new MultipartEncoder().part(frame(2))!.length;
    // Less than a part: the newest goes anyway (a large frame must not wait forever), then none.
    v.limitSending(10);
    assert.equal(res.writes.length, 1, 'the newest frame goes');
    assert.equal(seqOf(res.writes[0]!.chunk), '2');
    assert.equal(v.partBytes, partBytes);
    res.writes[0]!.done();
    v.frame(frame(3));
    assert.equal(res.writes.length, 1, 'the allowance is spent: the next waits');
    assert.equal(v.waitingMs(1000), 0);
    assert.equal(v.waitingMs(31_000), 30_000, 'held with its allowance spent, its queue not going down');
    v.limitSending(undefined);
    assert.equal(res.writes.length, 2);
    assert.equal(seqOf(res.writes[1]!.chunk), '3');
  });

  test('waitingMs() counts a viewer held back while its queue does not drain, and drained() restarts the count', () => {
    const { res, viewer: v } = viewer(new MultipartEncoder());
    v.limitSending(0);
    assert.equal(v.waitingMs(1000), 0, 'nothing waits yet');
    v.frame(frame(1));
    assert.equal(v.waitingMs(1000), 0);
    assert.equal(v.waitingMs(31_000), 30_000, 'held, its queue not going down');
    v.drained(20_000);
    assert.equal(v.waitingMs(31_000), 11_000, 'still reading, however slowly');
    v.limitSending(undefined);
    res.writes[0]!.done();
    assert.equal(v.waitingMs(40_000), 0, 'sent, nothing in flight');
  });
});

describe('MjpegViewer on a real connection', () => {
  /** A server whose one stream is a viewer the test feeds; `prepare` may wrap the response first. */
  async function serveOneViewer(t: TestContext, prepare: (res: ServerResponse) => void = () => {}) {
    const encoder = new MultipartEncoder();
    let resolveViewer: (v: { viewer: MjpegViewer; res: ServerResponse }) => void;
    const served = new Promise<{ viewer: MjpegViewer; res: ServerResponse }>((resolve) => (resolveViewer = resolve));
    const server = http.createServer((req, res) => {
      res.useChunkedEncodingByDefault = false;
      res.writeHead(200, { 'Content-Type': encoder.contentType, Connection: 'close' });
      prepare(res);
      res.write(encoder.preamble);
      resolveViewer({ viewer: new MjpegViewer(res, encoder, { id: 1 }), res });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const client = openMjpeg(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    t.after(() => client.destroy());
    return { client, ...(await served) };
  }

  async function sendFrames(viewer: MjpegViewer, client: MjpegClient, count: number) {
    for (let seq = 1; seq <= count; seq++) {
      viewer.frame(frame(seq));
      await client.waitForParts(seq);
    }
  }

  test('after the first part, parts go straight to the socket, whole and in order', async (t) => {
    let throughResponse = 0;
    const original = ServerResponse.prototype.write;
    const { viewer, client, res } = await serveOneViewer(t);
    ServerResponse.prototype.write = function (this: ServerResponse, ...args: unknown[]) {
      if (this === res) throughResponse++;
      return (original as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof original;
    t.after(() => {
      ServerResponse.prototype.write = original;
    });
    await sendFrames(viewer, client, 10);
    assert.equal(throughResponse, 1, 'only the first part went through res.write()');
    assert.deepEqual(client.parts.map((p) => p.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.ok(client.parts.every((p) => p.body.equals(jpeg)));
    assert.equal(viewer.info().framesSent, 10);
  });

  test('a client that shuts its side of the connection ends the stream quietly: no write after end, no clientError', async (t) => {
    const encoder = new MultipartEncoder();
    const clientErrors: Error[] = [];
    let served: { viewer: MjpegViewer; res: ServerResponse } | undefined;
    const server = http.createServer((req, res) => {
      res.useChunkedEncodingByDefault = false;
      res.writeHead(200, { 'Content-Type': encoder.contentType, Connection: 'close' });
      res.write(encoder.preamble);
      served = { viewer: new MjpegViewer(res, encoder, { id: 1 }), res };
    });
    server.on('clientError', (error) => clientErrors.push(error));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      server.closeAllConnections();
      server.close();
    });
    const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    t.after(() => client.destroy());
    let received = 0;
    client.on('data', (chunk: Buffer) => (received += chunk.length));
    client.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await until(() => served !== undefined, 'the stream');
    const { viewer, res } = served!;
    // Two parts, so the second went straight to the socket.
    viewer.frame(frame(1));
    await until(() => viewer.info().framePending === false && received > jpeg.length, 'part 1');
    viewer.frame(frame(2));
    await until(() => received > 2 * jpeg.length, 'part 2');
    client.end();
    // Node ends its side of a connection the client shut: the socket takes nothing more.
    await until(() => res.socket?.writable === false, 'the server to end its side');
    viewer.frame(frame(3));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(clientErrors.map((e) => e.message), []);
    assert.equal(viewer.info().framesSent, 2, 'frame 3 was not written');
    viewer.frame(frame(4));
    assert.equal(viewer.info().framePending, false, 'the viewer is closed');
  });

  test("a response whose write() someone replaced (a framework's middleware) gets every part through it", async (t) => {
    let throughWrapper = 0;
    const { viewer, client } = await serveOneViewer(t, (res) => {
      const write = res.write;
      res.write = function (this: ServerResponse, ...args: unknown[]) {
        throughWrapper++;
        return (write as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof write;
    });
    await sendFrames(viewer, client, 5);
    assert.equal(throughWrapper, 6, 'the preamble and all 5 parts');
    assert.deepEqual(client.parts.map((p) => p.seq), [1, 2, 3, 4, 5]);
  });
});
