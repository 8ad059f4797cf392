import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseBenchArgs } from './args.js';
import { medianRun, type FanoutPoint } from './fanout.js';

const point = (fpsMean: number, failure?: string) => ({ viewers: 1792, server: 'camcast', fpsMedian: fpsMean + 0.1, fpsMin: fpsMean - 1, fpsMean, ...(failure ? { failure } : {}) }) as unknown as FanoutPoint;

describe('medianRun()', () => {
  test('reports the run with the median fps mean and lists every run in the order they ran', () => {
    const chosen = medianRun([point(29.6), point(19.6), point(28.9)]);
    assert.equal(chosen.fpsMean, 28.9);
    assert.deepEqual(chosen.runs?.map((r) => r.fpsMean), [29.6, 19.6, 28.9]);
  });

  test('a failed run ranks lowest and is listed as failed', () => {
    const chosen = medianRun([point(0, 'server exited'), point(25), point(29)]);
    assert.equal(chosen.fpsMean, 25);
    assert.equal(chosen.runs?.[0]?.failure, 'server exited');
  });

  test('a single run is reported as it is, without a list', () => {
    const only = point(29.9);
    assert.equal(medianRun([only]), only);
  });
});

describe('parseBenchArgs()', () => {
  test('five runs of a saturated point by default, one with --quick, and a clear error out of range', () => {
    assert.equal(parseBenchArgs([]).repeat, 5);
    assert.equal(parseBenchArgs(['--quick']).repeat, 1);
    assert.equal(parseBenchArgs(['--repeat', '3']).repeat, 3);
    assert.throws(() => parseBenchArgs(['--repeat', '0']), /--repeat: '0' is not a whole number from 1 to 9/);
  });

  test('--quick shortens every default but an explicit value wins, in either order', () => {
    const o = parseBenchArgs(['--seconds', '5', '--quick']);
    assert.equal(o.seconds, 5);
    assert.deepEqual(o.viewers, [1, 16, 256]);
    assert.equal(o.stalledSeconds, 6);
  });

  test('lists of scenarios and servers, with all / both', () => {
    assert.deepEqual(parseBenchArgs(['--scenario', 'stalled,encode']).scenarios, ['stalled', 'encode']);
    assert.deepEqual(parseBenchArgs(['--scenario', 'all']).scenarios, ['fanout', 'stalled', 'encode']);
    assert.deepEqual(parseBenchArgs(['--server', 'reference']).servers, ['reference']);
    assert.deepEqual(parseBenchArgs(['--server', 'both']).servers, ['camcast', 'reference']);
    assert.deepEqual(parseBenchArgs(['--viewers', '1,2048']).viewers, [1, 2048]);
    assert.equal(parseBenchArgs(['--no-write']).write, false);
  });

  test('an unknown option, name or missing value is one clear line followed by the usage', () => {
    assert.throws(() => parseBenchArgs(['--scenario', 'fanout,bogus']), /^Error: --scenario: unknown scenario 'bogus' \(fanout, stalled, encode, all\)$/);
    assert.throws(() => parseBenchArgs(['--server', 'nginx']), /--server: unknown server 'nginx' \(camcast, reference, both\)/);
    assert.throws(() => parseBenchArgs(['--bogus']), (e: Error) => e.message.startsWith("Unknown option '--bogus'") && e.message.includes('usage: npm run bench'));
    assert.throws(() => parseBenchArgs(['--seconds']), (e: Error) => /--seconds/.test(e.message.split('\n')[0]!) && e.message.includes('usage: npm run bench'));
    assert.throws(() => parseBenchArgs(['--viewers', '1,x']), /--viewers: 'x' is not a whole number/);
  });
});
