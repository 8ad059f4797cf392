import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shortRun } from './short-run.js';

test('shortRun() resolves with the exit code and the head of stdout and stderr', async () => {
  const run = await shortRun('/bin/sh', ['-c', 'echo out; echo err >&2; head -c 5000 /dev/zero | tr "\\0" x; exit 3'], { timeoutMs: 5000, maxOutputBytes: 100 });
  assert.equal(run.code, 3);
  assert.equal(run.stdout.length, 100, 'stdout kept up to maxOutputBytes');
  assert.ok(run.stdout.startsWith('out\nxxx'));
  assert.equal(run.stderr, 'err\n');
  assert.equal(run.timedOut, false);
});

test('shortRun() kills a run past timeoutMs and says it timed out', async () => {
  const started = performance.now();
  const run = await shortRun('/bin/sleep', ['30'], { timeoutMs: 200 });
  assert.deepEqual([run.code, run.timedOut], [null, true]);
  assert.ok(performance.now() - started < 2000);
});

test('shortRun() rejects with the spawn error for a program that does not exist, and the signal\'s reason once aborted', async () => {
  await assert.rejects(shortRun('/nonexistent/program', [], { timeoutMs: 1000 }), (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT');
  const reason = new Error('stop');
  await assert.rejects(shortRun('/bin/sleep', ['30'], { timeoutMs: 10_000, signal: AbortSignal.abort(reason) }), (err: unknown) => err === reason);
  const abort = new AbortController();
  setTimeout(() => abort.abort(reason), 50);
  await assert.rejects(shortRun('/bin/sleep', ['30'], { timeoutMs: 10_000, signal: abort.signal }), (err: unknown) => err === reason);
});
