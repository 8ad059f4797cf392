import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readJpegSize } from '../sources/jpeg-info.js';
import { drawNoSignal, noSignalLines } from './no-signal.js';

const since = Date.UTC(2026, 0, 2, 3, 4, 5);
const base = { width: 640, height: 480, reason: 'no answer from 192.168.1.20:554', since };

test('the "no signal" text counts down to the next attempt, and says when one is under way', () => {
  const now = since + 12_000;
  assert.deepEqual(noSignalLines({ ...base, retryAt: now + 4_200, now }, 40), [
    'no answer from 192.168.1.20:554',
    '',
    'SINCE 03:04:05 UTC (12 S AGO)',
    'NEXT TRY IN 5 S',
    'NOW 03:04:17 UTC',
  ]);
  assert.equal(noSignalLines({ ...base, now }, 40)[3], 'TRYING AGAIN NOW', 'an attempt runs: none planned');
  assert.equal(noSignalLines({ ...base, retryAt: now - 1, now }, 40)[3], 'TRYING AGAIN NOW', 'never "in 0 s"');
});

test('a long reason wraps to the width and stops at six lines', () => {
  const lines = noSignalLines({ ...base, reason: 'word '.repeat(100), now: since }, 12);
  assert.equal(lines.indexOf(''), 6);
  assert.ok(lines.slice(0, 6).every((line) => line.length <= 12));
});

test('the picture is a JPEG of the asked size', async () => {
  const jpeg = await drawNoSignal({ ...base, width: 320, height: 240 });
  assert.deepEqual(readJpegSize(jpeg), { width: 320, height: 240 });
  assert.deepEqual([...jpeg.subarray(-2)], [0xff, 0xd9]);
});
