import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { isCamcastError, type CamcastError } from '../errors.js';
import { FfmpegProcess, type FfmpegProcessOptions } from './ffmpeg-process.js';
import { readJpegSize } from './jpeg-info.js';
import { until } from '../testing/fake-source.js';

const FFMPEG = '/usr/bin/ffmpeg';
const QUIET = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
const TESTSRC = [...QUIET, '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=30', '-f', 'mjpeg', 'pipe:1'];

/** True while a process with this pid exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}


function countTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

/** A process plus what it reported; stop() is registered with the test's cleanup at once. */
function managed(t: { after: (fn: () => Promise<void>) => void }, options: Partial<FfmpegProcessOptions>) {
  const frames: Buffer[] = [];
  const exits: Array<CamcastError | undefined> = [];
  const ffmpeg = new FfmpegProcess({
    ffmpegPath: FFMPEG,
    args: TESTSRC,
    onFrame: (jpeg) => frames.push(jpeg),
    onExit: (error) => exits.push(error),
    ...options,
  });
  t.after(() => ffmpeg.stop());
  return { ffmpeg, frames, exits };
}

test('FfmpegProcess.start() resolves on the first frame and frames are valid JPEGs', async (t) => {
  const timersBefore = countTimers();
  const { ffmpeg, frames, exits } = managed(t, {});
  await ffmpeg.start();
  assert.ok(frames.length >= 1);
  await until(() => frames.length >= 10, '10 frames', 5000);
  for (const jpeg of frames.slice(0, 10)) {
    assert.deepEqual(readJpegSize(jpeg), { width: 160, height: 120 });
    const { info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.width, 160);
  }
  const pid = ffmpeg.pid!;
  await ffmpeg.stop();
  assert.equal(alive(pid), false, 'no process after stop()');
  assert.deepEqual(exits, [], 'a requested stop is not reported as an exit');
  assert.equal(countTimers(), timersBefore, 'no timers left behind');
  const count = frames.length;
  await sleep(100);
  assert.equal(frames.length, count, 'no frame after stop()');
});

test('FfmpegProcess.start() rejects with the exit code and stderr head on one line for a bad input', async (t) => {
  const { ffmpeg } = managed(t, { args: [...QUIET, '-i', '/nonexistent/input.mp4', '-f', 'mjpeg', 'pipe:1'], label: 'clip' });
  await assert.rejects(ffmpeg.start(), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'));
    assert.match(err.message, /^clip: ffmpeg exited with code 1 before the first frame: .*No such file or directory/);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
  assert.match(ffmpeg.stderrHead, /nonexistent/);
});

test('FfmpegProcess.start() rejects when the binary is missing, with and without setpriv', async (t) => {
  for (const pdeathsig of [false, true]) {
    const { ffmpeg } = managed(t, { ffmpegPath: '/nonexistent/ffmpeg', pdeathsig });
    await assert.rejects(ffmpeg.start(), (err: unknown) => {
      assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
      assert.match(err.message, /\/nonexistent\/ffmpeg.*(ENOENT|No such file)/);
      return true;
    });
  }
});

test('FfmpegProcess.start() rejects after startTimeoutMs when no frame comes, leaving no process', async (t) => {
  const args = [...QUIET, '-re', '-f', 'lavfi', '-i', 'testsrc=rate=5', '-f', 'null', '-'];
  const { ffmpeg } = managed(t, { args, startTimeoutMs: 500 });
  const started = Date.now();
  await assert.rejects(ffmpeg.start(), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'));
    assert.match(err.message, /no frame from ffmpeg within 0.5 s/);
    return true;
  });
  assert.ok(Date.now() - started < 5000);
  assert.equal(alive(ffmpeg.pid!), false);
});

test('FfmpegProcess reports SOURCE_FAILED through onExit when ffmpeg is killed with SIGKILL mid-stream', async (t) => {
  const { ffmpeg, exits } = managed(t, {});
  await ffmpeg.start();
  process.kill(ffmpeg.pid!, 'SIGKILL');
  await until(() => exits.length > 0, 'onExit', 5000);
  assert.equal(exits.length, 1);
  assert.ok(isCamcastError(exits[0], 'SOURCE_FAILED'));
  assert.match(exits[0]!.message, /was killed by SIGKILL/);
  await ffmpeg.stop(); // after the exit: resolves at once
});

test('FfmpegProcess reports undefined through onExit when the input ends (exit code 0)', async (t) => {
  const args = [...QUIET, '-f', 'lavfi', '-i', 'testsrc=duration=0.3:size=64x48:rate=30', '-f', 'mjpeg', 'pipe:1'];
  const { ffmpeg, frames, exits } = managed(t, { args });
  await ffmpeg.start();
  await until(() => exits.length > 0, 'onExit', 5000);
  assert.deepEqual(exits, [undefined]);
  assert.equal(frames.length, 9, '0.3 s at 30 fps');
});

test('FfmpegProcess reports SOURCE_STALLED when frames stop (SIGSTOP) and kills the process', async (t) => {
  const { ffmpeg, exits } = managed(t, { stallTimeoutMs: 400, stopGraceMs: 200 });
  await ffmpeg.start();
  const pid = ffmpeg.pid!;
  process.kill(pid, 'SIGSTOP'); // SIGTERM then waits; only the SIGKILL after the grace period works
  await until(() => exits.length > 0, 'onExit', 5000);
  assert.ok(isCamcastError(exits[0], 'SOURCE_STALLED'), String(exits[0]));
  assert.match(exits[0]!.message, /no frame from ffmpeg for 0.4 s/);
  assert.equal(alive(pid), false);
});

test('FfmpegProcess.stop() escalates to SIGKILL after the grace period and is idempotent', async (t) => {
  const { ffmpeg, exits } = managed(t, { stopGraceMs: 300 });
  await ffmpeg.start();
  const pid = ffmpeg.pid!;
  process.kill(pid, 'SIGSTOP');
  const first = ffmpeg.stop();
  assert.equal(ffmpeg.stop(), first, 'the same promise');
  const started = Date.now();
  await first;
  assert.ok(Date.now() - started >= 250, 'waited for the grace period');
  assert.equal(alive(pid), false);
  assert.deepEqual(exits, []);
});

test('FfmpegProcess.stop() during start() makes start() reject with CLOSED', async (t) => {
  const args = [...QUIET, '-re', '-f', 'lavfi', '-i', 'testsrc=rate=5', '-f', 'null', '-'];
  const { ffmpeg } = managed(t, { args });
  const starting = ffmpeg.start();
  await sleep(100);
  await ffmpeg.stop();
  await assert.rejects(starting, (err: unknown) => isCamcastError(err, 'CLOSED'));
  assert.equal(alive(ffmpeg.pid!), false);
});

test('FfmpegProcess.stop() before start() resolves, and start() afterwards rejects', async (t) => {
  const { ffmpeg } = managed(t, {});
  await ffmpeg.stop();
  await assert.rejects(ffmpeg.start());
  assert.equal(ffmpeg.pid, undefined);
});

test('FfmpegProcess under setpriv dies with its parent when Node is killed with SIGKILL', async (t) => {
  const moduleUrl = new URL('./ffmpeg-process.js', import.meta.url).href;
  const script = `
    import { FfmpegProcess } from ${JSON.stringify(moduleUrl)};
    const p = new FfmpegProcess({ ffmpegPath: ${JSON.stringify(FFMPEG)}, args: ${JSON.stringify(TESTSRC)}, onFrame() {} });
    await p.start();
    // Stopped, ffmpeg can neither write (and die of EPIPE once we are gone) nor exit on its own:
    // only the kernel's parent-death SIGKILL can end it.
    process.kill(p.pid, 'SIGSTOP');
    process.stdout.write(String(p.pid) + '\\n');
    setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    parent.kill('SIGKILL');
  });
  let output = '';
  parent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await until(() => output.includes('\n'), 'the child to report the ffmpeg pid', 10_000);
  const pid = Number(output.trim());
  t.after(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.ok(alive(pid));
  parent.kill('SIGKILL');
  await until(() => !alive(pid), 'ffmpeg to die with its parent', 5000);
});

test('FfmpegProcess: an ffmpeg still running when Node exits without waiting for stop() is killed, even without setpriv', async (t) => {
  const moduleUrl = new URL('./ffmpeg-process.js', import.meta.url).href;
  const script = `
    import { FfmpegProcess } from ${JSON.stringify(moduleUrl)};
    const p = new FfmpegProcess({ ffmpegPath: ${JSON.stringify(FFMPEG)}, args: ${JSON.stringify(TESTSRC)}, pdeathsig: false, onFrame() {} });
    await p.start();
    // Stopped, ffmpeg leaves stop()'s SIGTERM pending, and Node exits before the SIGKILL grace.
    process.kill(p.pid, 'SIGSTOP');
    process.stdout.write(String(p.pid) + '\\n');
    void p.stop();
    setTimeout(() => process.exit(0), 100);`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    parent.kill('SIGKILL');
  });
  let output = '';
  parent.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => parent.once('exit', (code) => resolve(code)));
  await until(() => output.includes('\n'), 'the child to report the ffmpeg pid', 10_000);
  const pid = Number(output.trim());
  t.after(() => {
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  assert.equal(await exited, 0);
  await until(() => !alive(pid), 'ffmpeg to be killed as Node exited', 3000);
});

test('FfmpegProcess.start() rejects SOURCE_START_FAILED for a path Node cannot pass to exec', async (t) => {
  const { ffmpeg } = managed(t, { ffmpegPath: '/usr/bin/ffmpeg\0evil', pdeathsig: false });
  await assert.rejects(ffmpeg.start(), (err: unknown) => isCamcastError(err, 'SOURCE_START_FAILED'));
  await ffmpeg.stop();
});

test('FfmpegProcess.start() rejects with one line when no file descriptor is left, and Node lives on', () => {
  // In a child with a low descriptor limit, every one of them taken: spawn() cannot make its pipes.
  const script = `
    import { openSync, closeSync } from 'node:fs';
    const { FfmpegProcess } = await import(${JSON.stringify(new URL('./ffmpeg-process.js', import.meta.url).href)});
    const ffmpeg = new FfmpegProcess({ ffmpegPath: ${JSON.stringify(FFMPEG)}, args: ${JSON.stringify(TESTSRC)}, pdeathsig: false, onFrame() {} });
    const fds = [];
    try { for (;;) fds.push(openSync('/dev/null', 'r')); } catch {}
    let outcome;
    try { await ffmpeg.start(); outcome = 'started'; } catch (err) { outcome = err.code + ' ' + err.message; }
    for (const fd of fds) closeSync(fd);
    await new Promise((resolve) => setTimeout(resolve, 300));
    console.log(outcome);
  `;
  const result = spawnSync('sh', ['-c', 'ulimit -n 64 && exec "$0" --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.stderr, '', 'no unhandled rejection or stack trace');
  assert.equal(result.status, 0);
  assert.match(result.stdout.trim(), /^SOURCE_START_FAILED ffmpeg: cannot run \/usr\/bin\/ffmpeg: spawn \S+ (EMFILE|ENFILE)$/);
});

test('FfmpegProcess.start() quotes ffmpeg\'s error without the input it repeats when the label names that input', async (t) => {
  const input = 'http://admin:s3cret@127.0.0.1:9/video';
  // Says what ffmpeg 5 says about an input that is no video: "<input>: <reason>".
  const sayInvalid = { ffmpegPath: '/bin/sh', args: ['-c', 'echo "$2: Invalid data found when processing input" >&2; exit 1', 'sh', '-i', input] };
  const { ffmpeg } = managed(t, { ...sayInvalid, label: 'http://admin:***@127.0.0.1:9/video' });
  await assert.rejects(ffmpeg.start(), (err: unknown) => {
    assert.ok(isCamcastError(err, 'SOURCE_START_FAILED'), String(err));
    assert.equal(err.message, 'http://admin:***@127.0.0.1:9/video: ffmpeg exited with code 1 before the first frame: Invalid data found when processing input');
    return true;
  });
  // A label that does not name the input: ffmpeg's prefix is all that says which input failed.
  const { ffmpeg: other } = managed(t, { ...sayInvalid, label: 'camera 1' });
  await assert.rejects(other.start(), (err: unknown) => {
    assert.equal((err as Error).message, 'camera 1: ffmpeg exited with code 1 before the first frame: http://admin:***@127.0.0.1:9/video: Invalid data found when processing input');
    return true;
  });
});
