import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isFullRun, isIssuePicture, parseBenchArgs } from './args.js';

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

  test('--source and --size: push at 1280x720 by default, any source spec, sizes checked', () => {
    const o = parseBenchArgs([]);
    assert.deepEqual([o.source, o.width, o.height], ['push', 1280, 720]);
    assert.equal(parseBenchArgs(['--source', ' test ']).source, 'test');
    assert.equal(parseBenchArgs(['--source', 'rtsp://127.0.0.1/cam']).source, 'rtsp://127.0.0.1/cam');
    assert.equal(parseBenchArgs(['--size', '1920x1080']).width, 1920);
    assert.equal(parseBenchArgs(['--size', '1920x1080']).height, 1080);
    assert.throws(() => parseBenchArgs(['--source', ' ']), /^Error: --source is empty: use push, test, a camera, a file or a URL$/);
    for (const bad of ['1280', '1280x', 'x720', '8x8', '1280x720x3', '1e3x720', '8000x720']) {
      assert.throws(() => parseBenchArgs(['--size', bad]), /^Error: --size: '.*' is not WIDTHxHEIGHT from 16x16 to 7680x4320 \(e\.g\. 1280x720\)$/, bad);
    }
  });

  test("only every default, the issue's picture (push, 1280x720, 30 fps) among them, makes a full run that rewrites BENCHMARKS.md", () => {
    assert.equal(isFullRun(parseBenchArgs([])), true);
    assert.equal(isFullRun(parseBenchArgs(['--size', '1280x720', '--source', 'push', '--scenario', 'all', '--repeat', '5'])), true);
    const shorter = [['--viewers', '2'], ['--seconds', '1'], ['--repeat', '1'], ['--stalled-seconds', '5'], ['--encode-seconds', '1'], ['--scenario', 'fanout']];
    for (const args of [['--size', '640x480'], ['--source', 'test'], ['--fps', '15'], ['--quick'], ['--server', 'camcast'], ...shorter]) {
      assert.equal(isFullRun(parseBenchArgs(args)), false, args.join(' '));
    }
    assert.equal(isIssuePicture(parseBenchArgs(['--quick'])), true);
  });
});
