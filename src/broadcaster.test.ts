import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Broadcaster, type BroadcasterOptions } from './broadcaster.js';
import { isCamcastError } from './errors.js';
import type { Frame } from './frame.js';
import sharp from 'sharp';
import { push } from './sources/push.js';
import type { Source } from './sources/source.js';
import { delay, FakeSource, tinyJpeg, until } from './testing/fake-source.js';

function setup(t: { after: (fn: () => Promise<void>) => void }, options: ConstructorParameters<typeof Broadcaster>[1] = {}) {
  const source = new FakeSource();
  const broadcaster = new Broadcaster(source, { idleTimeoutMs: 50, stallTimeoutMs: 0, ...options });
  t.after(() => broadcaster.close());
  return { source, broadcaster };
}

describe('Broadcaster', () => {
  test('subscribe() starts the source once and every subscriber gets every frame', async (t) => {
    const { source, broadcaster } = setup(t);
    const a: Frame[] = [];
    const b: Frame[] = [];
    broadcaster.subscribe({ frame: (f) => a.push(f) });
    broadcaster.subscribe({ frame: (f) => b.push(f) });
    await until(() => source.running, 'source start');
    assert.equal(source.starts, 1);
    source.emit();
    source.emit();
    assert.deepEqual(a.map((f) => f.seq), [1, 2]);
    assert.equal(a[0], b[0], 'the same frame object, not a copy');
    assert.equal(broadcaster.latest?.seq, 2);
    assert.equal(broadcaster.state, 'live');
  });

  test('the source stops idleTimeoutMs after the last subscriber leaves and restarts on the next', async (t) => {
    const { source, broadcaster } = setup(t, { idleTimeoutMs: 80 });
    const unsubscribe = broadcaster.subscribe({ frame() {} });
    await until(() => source.running, 'start');
    unsubscribe();
    await delay(30);
    assert.ok(source.running, 'still running within the linger');
    await until(() => !source.running, 'stop after the idle timeout');
    assert.equal(broadcaster.state, 'stopped');
    assert.equal(broadcaster.latest, undefined, 'no stale frame once stopped');
    broadcaster.subscribe({ frame() {} });
    await until(() => source.running, 'restart');
    assert.equal(source.starts, 2);
  });

  test('a subscriber arriving within the linger reuses the running capture', async (t) => {
    const { source, broadcaster } = setup(t, { idleTimeoutMs: 100 });
    const unsubscribe = broadcaster.subscribe({ frame() {} });
    await until(() => source.running, 'start');
    unsubscribe();
    broadcaster.subscribe({ frame() {} });
    await delay(150);
    assert.equal(source.starts, 1);
    assert.ok(source.running);
  });

  test('keepWarm() starts the linger again for a running capture, and starts nothing', async (t) => {
    const { source, broadcaster } = setup(t, { idleTimeoutMs: 150 });
    broadcaster.keepWarm();
    await delay(30);
    assert.equal(source.starts, 0, 'an idle capture stays idle');
    broadcaster.subscribe({ frame() {} })();
    await until(() => source.running, 'start');
    for (let i = 0; i < 5; i++) {
      await delay(60);
      broadcaster.keepWarm();
    }
    assert.ok(source.running, 'still running 300 ms on, past two lingers');
    assert.equal(broadcaster.subscriberCount, 0);
    await until(() => !source.running, 'the stop once nobody looks');
  });

  test('idleTimeoutMs 0 keeps capturing with no subscriber', async (t) => {
    const { source, broadcaster } = setup(t, { idleTimeoutMs: 0 });
    broadcaster.subscribe({ frame() {} })();
    await until(() => source.running, 'start');
    await delay(100);
    assert.ok(source.running);
  });

  test('a throwing subscriber or listener does not keep the frame from the others', async (t) => {
    const { source, broadcaster } = setup(t);
    const got: number[] = [];
    broadcaster.on('frame', () => {
      throw new Error('listener bug');
    });
    broadcaster.subscribe({
      frame() {
        throw new Error('subscriber bug');
      },
    });
    broadcaster.subscribe({ frame: (f) => got.push(f.seq) });
    await until(() => source.running, 'start');
    source.emit();
    source.emit();
    assert.deepEqual(got, [1, 2]);
  });

  test('each frame starts the fan-out at a different subscriber, so none is always told last', async (t) => {
    const { source, broadcaster } = setup(t);
    const subscribers = 10;
    const frames = 200;
    const order: number[][] = [];
    for (let id = 0; id < subscribers; id++) {
      broadcaster.subscribe({
        frame: (f) => {
          (order[f.seq - 1] ??= []).push(id);
        },
      });
    }
    await until(() => source.running, 'start');
    for (let i = 0; i < frames; i++) source.emit();
    assert.equal(order.length, frames);
    const last = new Array<number>(subscribers).fill(0);
    for (const told of order) {
      assert.deepEqual([...told].sort((a, b) => a - b), [...Array(subscribers).keys()], 'every subscriber, once per frame');
      last[told.at(-1)!]!++;
    }
    // Evenly spread: each one is last about frames / subscribers = 20 times.
    for (const [id, times] of last.entries()) assert.ok(times >= 15 && times <= 25, `subscriber ${id} was last ${times} times`);
  });

  test('a subscriber that leaves during a fan-out is not told of that frame', async (t) => {
    const { source, broadcaster } = setup(t);
    const told: string[] = [];
    let unsubscribeB = () => {};
    broadcaster.subscribe({
      frame: () => {
        told.push('a');
        unsubscribeB();
      },
    });
    unsubscribeB = broadcaster.subscribe({ frame: () => told.push('b') });
    await until(() => source.running, 'start');
    for (let i = 0; i < 5; i++) source.emit();
    // b hears of frames only while a has not run first in that frame's fan-out.
    assert.equal(told.filter((x) => x === 'a').length, 5);
    assert.ok(told.indexOf('b') === -1 || told.indexOf('b') < told.indexOf('a'), told.join(','));
    assert.ok(told.filter((x) => x === 'b').length <= 1, told.join(','));
  });

  test('nextFrame() starts an idle source, resolves with a fresh frame and lingers like a viewer', async (t) => {
    const { source, broadcaster } = setup(t, { idleTimeoutMs: 100 });
    const next = broadcaster.nextFrame({ timeoutMs: 2000 });
    await until(() => source.running, 'start');
    source.emit();
    const frame = await next;
    assert.equal(frame.seq, 1);
    assert.equal(broadcaster.subscriberCount, 0);
    assert.ok(source.running, 'lingers after the snapshot');
    await until(() => !source.running, 'stop after linger');
  });

  test('nextFrame() rejects with NO_FRAME and the reason after its timeout', async (t) => {
    const { source, broadcaster } = setup(t, { restartDelaysMs: [20] });
    source.startError = new Error('device unplugged');
    const next = broadcaster.nextFrame({ timeoutMs: 300 });
    // The first attempt fails; the retry starts but sends nothing, as a camera that never answers.
    await until(() => source.starts >= 1, 'the first attempt');
    source.startError = undefined;
    await assert.rejects(next, (error: unknown) => {
      assert.ok(isCamcastError(error, 'NO_FRAME'));
      assert.match(error.message, /^no frame from fake source within 0.3 s: device unplugged$/);
      return true;
    });
  });

  test('nextFrame() rejects at once when the source fails and its next attempt is beyond the timeout', async (t) => {
    const { source, broadcaster } = setup(t, { restartDelaysMs: [10_000] });
    source.startError = new Error('device unplugged');
    const asked = Date.now();
    await assert.rejects(broadcaster.nextFrame({ timeoutMs: 5000 }), (error: unknown) => {
      assert.ok(isCamcastError(error, 'NO_FRAME'));
      assert.match(error.message, /^no picture: device unplugged; the next attempt is in (9|10) s$/);
      return true;
    });
    assert.ok(Date.now() - asked < 2500, 'well before the 5 s timeout');
    assert.equal(broadcaster.listenerCount('state'), 0, 'its listener is gone');
  });

  test('end of the source ends every subscriber', async (t) => {
    const { source, broadcaster } = setup(t);
    let ended = 0;
    broadcaster.subscribe({ frame() {}, end: () => ended++ });
    broadcaster.subscribe({ frame() {}, end: () => ended++ });
    await until(() => source.running, 'start');
    source.end();
    assert.equal(ended, 2);
    assert.equal(broadcaster.state, 'ended');
  });

  test('status() counts frames and subscribers', async (t) => {
    const { source, broadcaster } = setup(t);
    broadcaster.subscribe({ frame() {} });
    await until(() => source.running, 'start');
    for (let i = 0; i < 5; i++) source.emit();
    const s = broadcaster.status();
    assert.equal(s.frames, 5);
    assert.equal(s.subscribers, 1);
    assert.equal(s.state, 'live');
    assert.equal(s.width, 2);
  });

  test('status() keeps the last real frame\'s time and size through "no signal" pictures and after the capture stops', async (t) => {
    const { source, broadcaster } = setup(t, { idleTimeoutMs: 20, restartDelaysMs: [60_000] });
    const unsubscribe = broadcaster.subscribe({ frame() {} });
    await until(() => source.running, 'start');
    source.emit();
    const live = broadcaster.status();
    assert.equal(live.lastFrameAt, broadcaster.latest?.capturedAt);
    assert.deepEqual([live.width, live.height], [2, 2]);
    source.fail(new Error('unplugged'));
    await until(() => broadcaster.latest?.noSignal === true, 'a "no signal" picture');
    const failing = broadcaster.status();
    assert.equal(failing.lastFrameAt, live.lastFrameAt, 'a "no signal" picture is not a frame from the source');
    assert.deepEqual([failing.width, failing.height], [2, 2]);
    unsubscribe();
    await until(() => broadcaster.state === 'stopped', 'stopped');
    assert.equal(broadcaster.latest, undefined);
    const stopped = broadcaster.status();
    assert.equal(stopped.lastFrameAt, live.lastFrameAt);
    assert.deepEqual([stopped.width, stopped.height], [2, 2]);
  });

  test('status() reports fps while live and 0 as soon as capture stops, not a decaying rate', async (t) => {
    const { source, broadcaster } = setup(t, { idleTimeoutMs: 20 });
    const unsubscribe = broadcaster.subscribe({ frame() {} });
    await until(() => source.running, 'start');
    for (let i = 0; i < 5; i++) {
      source.emit();
      await delay(10);
    }
    assert.ok(broadcaster.status().fps > 0, 'a rate while live');
    unsubscribe();
    await until(() => !source.running, 'stop');
    assert.equal(broadcaster.status().state, 'stopped');
    assert.equal(broadcaster.status().fps, 0);
  });

  test('close() is idempotent, stops the source and refuses new subscribers', async (t) => {
    const { source, broadcaster } = setup(t);
    broadcaster.subscribe({ frame() {} });
    await until(() => source.running, 'start');
    await Promise.all([broadcaster.close(), broadcaster.close()]);
    assert.equal(source.running, false);
    assert.throws(() => broadcaster.subscribe({ frame() {} }), /closed/);
  });

  test('nextFrame() with a timeout of 0 or less rejects with BAD_OPTION, starting nothing', async (t) => {
    const { source, broadcaster } = setup(t);
    for (const timeoutMs of [0, -1, Number.NaN]) {
      await assert.rejects(
        broadcaster.nextFrame({ timeoutMs }),
        (e: unknown) => isCamcastError(e, 'BAD_OPTION') && /^timeoutMs must be a number from 1 to 2147483647 \(got (0|-1|NaN)\)$/.test(e.message),
      );
    }
    assert.equal(source.starts, 0);
    assert.equal(broadcaster.subscriberCount, 0);
  });

  test('new Broadcaster() refuses what is not a Source, and options out of range, with one BAD_OPTION line', () => {
    const build = (source: unknown, options?: unknown) => () => new Broadcaster(source as FakeSource, options as BroadcasterOptions);
    const bad: Array<[() => unknown, RegExp]> = [
      [build(undefined), /^new Broadcaster\(\) takes a Source \(an object with start\(\) and stop\(\)\), e\.g\. new Broadcaster\(testPattern\(\)\) \(got undefined\)$/],
      [build(null), /^new Broadcaster\(\) takes a Source .*\(got null\)$/],
      [build({}), /^new Broadcaster\(\) takes a Source .*\(got an object\)$/],
      [build('test'), /^new Broadcaster\(\) takes a Source \(an object with start\(\) and stop\(\)\), not a spec string: open one with openSource\('test'\)\.source, or use stream\('test'\)$/],
      [build(new FakeSource(), null), /^new Broadcaster\(\) takes an options object, e\.g\. new Broadcaster\(source, \{ idleTimeoutMs: 0 \}\) \(got null\)$/],
      [build(new FakeSource(), { idleTimeoutMs: -1 }), /^idleTimeoutMs must be a number from 0 to/],
      [build(new FakeSource(), { stallTimeoutMs: Number.NaN }), /^stallTimeoutMs must be a number from 0 to/],
      [build(new FakeSource(), { restartDelaysMs: [0] }), /^each of restartDelaysMs must be a number from 1 to/],
      [build(new FakeSource(), { restartDelaysMs: [] }), /^restartDelaysMs must be a non-empty list/],
      [build(new FakeSource(), { logger: {} }), /^logger must have debug, info, warn and error functions/],
    ];
    for (const [call, message] of bad) {
      assert.throws(call, (e: unknown) => isCamcastError(e, 'BAD_OPTION') && message.test(e.message), String(call));
    }
  });

  test('idleTimeoutMs 0 and stallTimeoutMs 0 (never stop, never restart a silent source) stay valid', async (t) => {
    const { source, broadcaster } = setup(t, { idleTimeoutMs: 0, stallTimeoutMs: 0, restartDelaysMs: [20, 30, 50] });
    broadcaster.startCapture();
    await until(() => source.running, 'start');
  });

  test('a second Broadcaster on a source an open one owns is refused; closing the owner frees it', async (t) => {
    const { source, broadcaster } = setup(t);
    assert.throws(
      () => new Broadcaster(source),
      (e: unknown) =>
        isCamcastError(e, 'BAD_OPTION') &&
        e.message === "this source (fake source) already feeds another stream: mount that stream's handlers in both places, create a second source, or close the other stream first",
    );
    broadcaster.subscribe({ frame() {} });
    await until(() => source.running, 'the owner still captures');
    await broadcaster.close();
    const next = new Broadcaster(source, { idleTimeoutMs: 0, stallTimeoutMs: 0 });
    t.after(() => next.close());
    next.startCapture();
    await until(() => source.running, 'the new owner starts the source');
    await broadcaster.close();
    assert.ok(source.running, 'closing the old owner again leaves the new one capturing');
  });

  test('nextFrame() with a signal aborted already rejects at once, and after close() leaves no listener behind', async (t) => {
    const { source, broadcaster } = setup(t);
    const started = Date.now();
    await assert.rejects(broadcaster.nextFrame({ timeoutMs: 3000, signal: AbortSignal.abort() }), /the request was aborted/);
    assert.ok(Date.now() - started < 1000, 'not at the timeout');
    assert.equal(source.starts, 0);
    await broadcaster.close();
    for (let i = 0; i < 3; i++) await assert.rejects(broadcaster.nextFrame(), (e: unknown) => isCamcastError(e, 'CLOSED'));
    assert.equal(broadcaster.listenerCount('state'), 0);
  });

  test('nextFrame() rejects with CLOSED when the broadcaster closes, and with SOURCE_ENDED when the source ends', async (t) => {
    const { source, broadcaster } = setup(t);
    const ending = broadcaster.nextFrame({ timeoutMs: 3000 });
    await until(() => source.running, 'start');
    source.end();
    await assert.rejects(ending, (e: unknown) => isCamcastError(e, 'SOURCE_ENDED') && e.message === 'fake source has ended');
    const closing = broadcaster.nextFrame({ timeoutMs: 3000 });
    await until(() => source.running, 'start again');
    await broadcaster.close();
    await assert.rejects(closing, (e: unknown) => isCamcastError(e, 'CLOSED'));
  });

  test('a push source takes a frame pushed right after the first subscriber; quiet past stallTimeoutMs it shows "no signal" and is live again with the next frame', async (t) => {
    const source = push();
    const broadcaster = new Broadcaster(source, { idleTimeoutMs: 50, stallTimeoutMs: 150 });
    t.after(() => broadcaster.close());
    const frames: Frame[] = [];
    broadcaster.subscribe({ frame: (f) => frames.push(f) });
    const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#08f' } }).jpeg().toBuffer();
    assert.equal(source.push(jpeg), true, 'taken in the same tick');
    assert.equal(broadcaster.state, 'live');
    await until(() => broadcaster.state === 'retrying', 'quiet past the stall timeout', 3000);
    assert.ok(isCamcastError(broadcaster.lastError, 'SOURCE_STALLED'));
    await until(() => frames.some((f) => f.noSignal), 'a no-signal picture');
    assert.equal(source.push(jpeg), true, 'still running: a stall stops nothing');
    assert.equal(broadcaster.state, 'live');
    assert.equal(broadcaster.lastError, undefined);
    assert.equal(broadcaster.status().restarts, 0);
    await until(() => broadcaster.state === 'retrying', 'the stall watch rearmed', 3000);
  });

  test('nextFrame() settles when a source hands its sink a frame, or its end, from inside start()', async (t) => {
    const eager = (ending: boolean): Source => ({
      kind: 'test',
      description: 'eager source',
      async start(sink) {
        if (ending) sink.ended();
        else sink.frame({ jpeg: tinyJpeg(7), width: 2, height: 2 });
      },
      async stop() {},
    });
    const framing = new Broadcaster(eager(false), { idleTimeoutMs: 50, stallTimeoutMs: 0 });
    t.after(() => framing.close());
    assert.equal((await framing.nextFrame({ timeoutMs: 2000 })).jpeg[2], 7);
    const ending = new Broadcaster(eager(true), { idleTimeoutMs: 50, stallTimeoutMs: 0 });
    t.after(() => ending.close());
    await assert.rejects(ending.nextFrame({ timeoutMs: 2000 }), (e: unknown) => isCamcastError(e, 'SOURCE_ENDED'));
    assert.equal(ending.subscriberCount, 0, 'no subscriber left behind');
  });
});
