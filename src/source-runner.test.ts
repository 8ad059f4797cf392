import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RunnerFrame, SourceState } from './source-runner.js';
import { SourceRunner } from './source-runner.js';
import type { FrameSink, Source } from './sources/source.js';
import { FakeSource, until } from './testing/fake-source.js';

function setup(t: { after: (fn: () => Promise<void>) => void }, options: Partial<ConstructorParameters<typeof SourceRunner>[0]> = {}) {
  const source = new FakeSource();
  const frames: RunnerFrame[] = [];
  const states: SourceState[] = [];
  const runner = new SourceRunner({
    source,
    onFrame: (f) => frames.push(f),
    onStateChange: (s) => states.push(s),
    restartDelaysMs: [30, 60],
    stallTimeoutMs: 0,
    noSignalIntervalMs: 20,
    ...options,
  });
  t.after(() => runner.stop());
  return { source, runner, frames, states };
}

describe('SourceRunner', () => {
  test('a source that dies is restarted and live frames resume', async (t) => {
    const { source, runner, frames, states } = setup(t);
    runner.start();
    await until(() => source.running, 'start');
    source.emit();
    source.fail(new Error('ffmpeg exited with code 1'));
    assert.equal(runner.state, 'retrying');
    assert.match(runner.lastError!.message, /code 1/);
    await until(() => source.starts === 2 && source.running, 'restart');
    source.emit();
    assert.equal(runner.state, 'live');
    assert.equal(runner.restarts, 1);
    assert.equal(runner.lastError, undefined);
    assert.deepEqual(states, ['starting', 'live', 'retrying', 'live']);
    assert.ok(frames.some((f) => !f.noSignal));
  });

  test('a retry stays "retrying" until its first frame, with no next attempt planned meanwhile, and its stall is caught', async (t) => {
    const { source, runner, frames } = setup(t, { stallTimeoutMs: 150, restartDelaysMs: [20, 5000] });
    runner.start();
    await until(() => source.running, 'start');
    assert.equal(runner.state, 'starting', 'a first start is only starting');
    source.emit();
    source.fail(new Error('camera unplugged'));
    assert.equal(runner.state, 'retrying');
    assert.ok(runner.retryAt! > Date.now() - 5, 'the next attempt is planned');
    await until(() => source.starts === 2 && source.running, 'the retry');
    // The retry runs but sends nothing yet: the source is still failing for whoever watches.
    assert.equal(runner.state, 'retrying');
    assert.equal(runner.retryAt, undefined, 'the attempt is under way, none planned');
    assert.equal(runner.lastError?.message, 'camera unplugged');
    // A retry that never sends a frame stalls like any attempt, and the next wait is planned.
    await until(() => runner.lastError?.message === 'fake source sent no frame for 0.15 s', 'the retry to stall', 3000);
    assert.equal(runner.state, 'retrying');
    assert.ok(runner.retryAt! > Date.now() + 1000, 'the second delay is planned');
    assert.ok(frames.every((f) => f.noSignal || f.jpeg[2] === 1), 'no frame from the retry');
  });

  test('the log says when a failed source is live again and when a source has ended, not only that it failed', async (t) => {
    const lines: string[] = [];
    const record = (level: string) => (message: string) => lines.push(`${level} ${message}`);
    const logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
    const { source, runner } = setup(t, { logger });
    runner.start();
    await until(() => source.running, 'start');
    source.emit();
    assert.deepEqual(lines, [], 'a first start that works says nothing');
    source.fail(new Error('ffmpeg exited with code 1'));
    await until(() => source.starts === 2 && source.running, 'restart');
    source.emit();
    source.emit();
    source.end();
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0]!, /^warn source fake source failed: ffmpeg exited with code 1; retrying in 0.03 s$/);
    assert.match(lines[1]!, /^info source fake source is live, after \d+ s of failures \(1 restart so far\)$/);
    assert.match(lines[2]!, /^info source fake source has ended; the next viewer starts it again$/);
  });

  test('a capture started after a stop starts clean: the failure before the stop is neither logged as over nor reported', async (t) => {
    const lines: string[] = [];
    const logger = { debug() {}, info: (m: string) => lines.push(m), warn() {}, error() {} };
    const { source, runner } = setup(t, { logger, restartDelaysMs: [5000] });
    runner.start();
    await until(() => source.running, 'start');
    source.fail(new Error('camera unplugged'));
    assert.equal(runner.lastError?.message, 'camera unplugged');
    await runner.stop();
    runner.start();
    assert.equal(runner.lastError, undefined, 'a new capture has no failure yet');
    await until(() => source.running, 'the second start');
    source.emit();
    assert.equal(runner.state, 'live');
    assert.deepEqual(lines, [], 'no "is live, after N s of failures" for a capture that never failed');
  });

  for (const how of ['rejects', 'throws'] as const) {
    test(`a plain-JS source whose start() ${how} and whose stop() returns nothing is retried, and nothing throws`, async (t) => {
      let starts = 0;
      const fail = () => {
        starts++;
        throw new Error('sensor not connected');
      };
      // As JavaScript users write one: stop() is not async, nor (here) start().
      const source = {
        kind: 'test',
        description: 'my sensor',
        start: how === 'rejects' ? async () => fail() : fail,
        stop() {},
      } as unknown as Source;
      const runner = new SourceRunner({ source, onFrame() {}, restartDelaysMs: [20], noSignalIntervalMs: 20 });
      t.after(() => runner.stop());
      runner.start();
      await until(() => starts >= 2, 'a retry');
      assert.equal(runner.state, 'retrying');
      assert.equal(runner.lastError?.message, 'sensor not connected');
      await runner.stop();
    });
  }

  test('a source whose stop() throws instead of rejecting never throws back into its own sink.failed(), and the failed stop is logged', async (t) => {
    const errors: string[] = [];
    const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) };
    let sink: FrameSink | undefined;
    const source = {
      kind: 'test',
      description: 'my sensor',
      async start(s: FrameSink) {
        sink = s;
      },
      stop() {
        throw new Error('sensor stuck');
      },
    } as unknown as Source;
    const runner = new SourceRunner({ source, onFrame() {}, restartDelaysMs: [20], noSignalIntervalMs: 20, logger });
    t.after(() => runner.stop().catch(() => {}));
    runner.start();
    await until(() => sink !== undefined, 'start');
    assert.doesNotThrow(() => sink!.failed(new Error('sensor died')));
    assert.equal(runner.state, 'retrying');
    await until(() => errors.length > 0, 'the failed stop to be logged');
    assert.deepEqual(errors, ['could not stop my sensor: sensor stuck']);
    await assert.rejects(runner.stop(), /sensor stuck/);
  });

  test('while down it emits "no signal" pictures that are real JPEGs', async (t) => {
    const { source, runner, frames } = setup(t, { restartDelaysMs: [5000] });
    source.startError = new Error('/dev/video0: No such device');
    runner.start();
    await until(() => frames.filter((f) => f.noSignal).length >= 2, 'two no-signal frames');
    const picture = frames.find((f) => f.noSignal)!;
    assert.equal(picture.jpeg[0], 0xff);
    assert.equal(picture.jpeg[1], 0xd8);
    assert.equal(picture.width, 640);
    assert.equal(runner.state, 'retrying');
  });

  test('restart delays grow and the last one repeats', async (t) => {
    const { source, runner } = setup(t, { restartDelaysMs: [20, 120] });
    source.startError = new Error('nope');
    const startedAt: number[] = [];
    const origStart = source.start.bind(source);
    source.start = async (sink) => {
      startedAt.push(performance.now());
      return origStart(sink);
    };
    runner.start();
    await until(() => startedAt.length >= 4, 'four attempts', 5000);
    const gaps = startedAt.slice(1).map((t0, i) => t0 - startedAt[i]!);
    assert.ok(gaps[0]! >= 15, `first gap ${gaps[0]}`);
    assert.ok(gaps[1]! >= 110, `second gap ${gaps[1]}`);
    assert.ok(gaps[2]! >= 110, `third gap ${gaps[2]}`);
  });

  test('a stalled source (no frame for stallTimeoutMs) is stopped and restarted', async (t) => {
    const { source, runner } = setup(t, { stallTimeoutMs: 80 });
    runner.start();
    await until(() => source.running, 'start');
    source.emit();
    await until(() => runner.state === 'retrying', 'stall detected');
    assert.equal(runner.lastError?.message, 'fake source sent no frame for 0.08 s');
    assert.equal(source.stops, 1);
    await until(() => source.starts === 2, 'restart after stall');
  });

  test('stop() while retrying cancels the retry and leaves the source stopped', async (t) => {
    const { source, runner } = setup(t, { restartDelaysMs: [50] });
    source.startError = new Error('nope');
    runner.start();
    await until(() => runner.state === 'retrying', 'retrying');
    await runner.stop();
    const starts = source.starts;
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(source.starts, starts);
    assert.equal(runner.state, 'stopped');
  });

  test('a source that dies right after its first frame is not restarted at the first delay forever', async (t) => {
    const { source, runner } = setup(t, { restartDelaysMs: [30, 250] });
    const startedAt: number[] = [];
    const origStart = source.start.bind(source);
    source.start = async (sink) => {
      startedAt.push(performance.now());
      await origStart(sink);
      setImmediate(() => {
        source.emit();
        source.fail(new Error('crashed after one frame'));
      });
    };
    runner.start();
    await until(() => startedAt.length >= 4, 'four attempts', 5000);
    const gaps = startedAt.slice(1).map((t0, i) => t0 - startedAt[i]!);
    assert.ok(gaps[1]! >= 200 && gaps[2]! >= 200, `delays grow despite the frame: ${gaps.map(Math.round)}`);
  });

  test('start() after stop() waits for the slow stop to finish: never two captures at once', async (t) => {
    const { source, runner } = setup(t);
    let stopping = 0;
    let overlap = false;
    const origStop = source.stop.bind(source);
    source.stop = async () => {
      stopping++;
      await new Promise((r) => setTimeout(r, 100));
      await origStop();
      stopping--;
    };
    const origStart = source.start.bind(source);
    source.start = async (sink) => {
      if (stopping > 0) overlap = true;
      return origStart(sink);
    };
    runner.start();
    await until(() => source.running, 'start');
    const stopped = runner.stop();
    runner.start();
    await stopped;
    await until(() => source.running, 'restart');
    assert.equal(overlap, false);
  });

  test('a source that says its frames come far apart is not stalled between two of them', async (t) => {
    const source = Object.assign(new FakeSource(), { frameIntervalMs: 200 });
    const runner = new SourceRunner({ source, onFrame() {}, stallTimeoutMs: 50, restartDelaysMs: [5000] });
    t.after(() => runner.stop());
    runner.start();
    await until(() => source.running, 'start');
    source.emit();
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(runner.state, 'live', 'past stallTimeoutMs and one interval, not past two');
    await until(() => runner.state === 'retrying', 'stalled after two intervals', 2000);
    assert.equal(runner.lastError?.message, 'fake source sent no frame for 0.4 s');
  });
});
