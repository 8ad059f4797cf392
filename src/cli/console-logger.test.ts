import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { consoleLogger, timeOfDay } from './console-logger.js';

function capture(level: 'quiet' | 'info' | 'debug'): { logger: ReturnType<typeof consoleLogger>; lines: () => string[] } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { logger: consoleLogger(level, stream), lines: () => text.trim().split('\n').filter(Boolean) };
}

test('timeOfDay() is the local wall-clock time, to the millisecond', () => {
  // Built from local parts, so the same in every time zone.
  assert.equal(timeOfDay(new Date(2026, 10, 25, 4, 7, 9, 5)), '04:07:09.005');
  assert.equal(timeOfDay(new Date(2026, 10, 25, 23, 59, 59, 999)), '23:59:59.999');
});

test('consoleLogger(): -q keeps warnings and errors, the default adds info, -v adds debug', () => {
  const levels = ['quiet', 'info', 'debug'] as const;
  const seen = levels.map((level) => {
    const { logger, lines } = capture(level);
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    return lines().map((line) => line.replace(/^\d\d:\d\d:\d\d\.\d{3} /, ''));
  });
  assert.deepEqual(seen, [
    ['warning: w', 'error: e'],
    ['i', 'warning: w', 'error: e'],
    ['debug: d', 'i', 'warning: w', 'error: e'],
  ]);
});
