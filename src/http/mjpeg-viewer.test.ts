import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { describe, test } from 'node:test';
import type { Frame } from '../frame.js';
import { MjpegViewer } from './mjpeg-viewer.js';
import { MultipartEncoder } from './multipart-encoder.js';
import { WriteScheduler } from './write-scheduler.js';

/** Just enough of a ServerResponse: records each write and holds its callback. */
class FakeResponse {
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
const frame = (seq: number): Frame => ({ jpeg, seq, capturedAt: 1_700_000_000_000 + seq });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

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

  test('with a scheduler, frame() writes on a later turn and a frame replaced before it counts as dropped', async () => {
    const { res, viewer: v } = viewer(new MultipartEncoder(), new WriteScheduler());
    v.frame(frame(1));
    v.frame(frame(2));
    assert.equal(res.writes.length, 0, 'nothing written inside the broadcaster call');
    await turn();
    assert.equal(res.writes.length, 1);
    assert.match(res.writes[0]!.chunk.toString('latin1', 0, 200), /X-Frame-Seq: 2\r\n/);
    assert.equal(v.info().framesDropped, 1);
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
});
