import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isCamcastError } from '../errors.js';
import { parseCliArgs } from './args.js';

describe('parseCliArgs', () => {
  test('defaults: auto source on 127.0.0.1:8080, loop, 10 s idle timeout', () => {
    const o = parseCliArgs([]);
    assert.equal(o.source, 'auto');
    assert.equal(o.host, '127.0.0.1');
    assert.equal(o.port, 8080);
    assert.equal(o.loop, true);
    assert.equal(o.idleTimeoutMs, 10_000);
    assert.equal(o.stallTimeoutMs, 5_000);
    assert.equal(o.startTimeoutMs, 10_000);
    assert.equal(o.maxViewers, 0);
    assert.equal(o.width, undefined);
    assert.equal(o.fps, undefined);
  });

  const good: Array<[string[], Partial<ReturnType<typeof parseCliArgs>>]> = [
    [['--size', '1280x720'], { width: 1280, height: 720 }],
    [['--size=320X240'], { width: 320, height: 240 }],
    [['--fps', '12.5'], { fps: 12.5 }],
    [['--quality', '1'], { quality: 1 }],
    [['--quality', '100'], { quality: 100 }],
    [['--port', '0'], { port: 0 }],
    [['--no-loop'], { loop: false }],
    [['--idle-timeout', '0'], { idleTimeoutMs: 0 }],
    [['--idle-timeout', '2.5'], { idleTimeoutMs: 2500 }],
    [['--host', '[::1]'], { host: '::1' }],
    [['--source', '/dev/video2'], { source: '/dev/video2' }],
    [['--max-viewers', '3'], { maxViewers: 3 }],
    [['--start-timeout', '30'], { startTimeoutMs: 30_000 }],
    [['--start-timeout', '2.5'], { startTimeoutMs: 2500 }],
    [['-q'], { logLevel: 'quiet' }],
    [['-v'], { logLevel: 'debug' }],
    [['--cors', '*'], { cors: ['*'] }],
    [['--cors', 'http://printer.local:8123/'], { cors: ['http://printer.local:8123'] }],
    [['--cors', 'HTTPS://Dash.Example:443'], { cors: ['https://dash.example'] }],
    [['--cors', 'https://a.example,http://b.local:8123'], { cors: ['https://a.example', 'http://b.local:8123'] }],
    [['--cors', 'https://a.example', '--cors', 'http://b.local:8123'], { cors: ['https://a.example', 'http://b.local:8123'] }],
    [['--cors', 'https://a.example, http://b.local:8123/', '--cors=https://c.example'], { cors: ['https://a.example', 'http://b.local:8123', 'https://c.example'] }],
    // Repeats, once normalised, are one origin; so is * given twice.
    [['--cors', 'HTTPS://A.example:443/,https://a.example', '--cors', 'https://a.example/'], { cors: ['https://a.example'] }],
    [['--cors', '*,*'], { cors: ['*'] }],
    [['--token', '-abcdefgh123'], { token: '-abcdefgh123' }],
    [['--token=-abcdefgh123'], { token: '-abcdefgh123' }],
    [['--loop'], { loop: true }],
    [['--port', ' 8081 '], { port: 8081 }],
    // Help wins over a mistake elsewhere on the line.
    [['--help', '--port', 'abc'], { help: true }],
    [['--port', '1e3', '-h'], { help: true }],
  ];
  for (const [argv, expected] of good) {
    test(`accepts ${argv.join(' ')}`, () => {
      const o = parseCliArgs(argv) as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(o[key], value, key);
    });
  }

  const bad: Array<[string[], RegExp]> = [
    [['--port', '70000'], /--port must be a whole number from 0 to 65535 \(got '70000'\)/],
    [['--port', 'http'], /--port must be/],
    [['--port', ''], /--port must be/],
    [['--fps', '0'], /--fps must be a number from 1 to 120/],
    [['--quality', '101'], /--quality must be a whole number from 1 to 100/],
    [['--quality', '5.5'], /--quality/],
    [['--size', '1280'], /--size must be WIDTHxHEIGHT/],
    [['--size', '8x8'], /--size must be/],
    [['--idle-timeout', '-1'], /--idle-timeout/],
    [['--frobnicate'], /Unknown option '--frobnicate'.*camcast --help/],
    // A flag left without its value at the end of the line says so (before another flag, see below).
    [['--port'], /^--port needs a value; see camcast --help$/],
    [['--source'], /^--source needs a value; see camcast --help$/],
    [['--host', '999.1.1.1'], /^--host must be an address such as 127\.0\.0\.1/],
    [['stray'], /positional.*camcast --help/i],
    [['--host', ''], /--host must be an address/],
    [['--cors', 'not an origin'], /--cors must be \* or an origin/],
    [['--cors', ''], /^--cors has an empty entry \(got ''\)/],
    [['--cors', 'https://dash.example/page'], /no path/],
    [['--cors', 'ftp://dash.example'], /--cors must be/],
    [['--cors', '*,https://a.example'], /^--cors takes \* alone \(any origin\) or a list of origins without \* \(got '\*,https:\/\/a\.example'\)$/],
    [['--cors', 'https://a.example', '--cors', '*'], /^--cors takes \* alone/],
    // Each bad member is named, wherever it is in the list.
    [['--cors', 'https://a.example,b.local'], /^--cors must be \* or an origin .*\(got 'b\.local'\)$/],
    [['--cors', 'https://a.example', '--cors', 'https://b.example/page'], /^--cors must be .*no path\) \(got 'https:\/\/b\.example\/page'\)$/],
    [['--cors', 'https://a.example,'], /^--cors has an empty entry \(got 'https:\/\/a\.example,'\): give \* or origins separated by single commas$/],
    [['--cors', 'https://a.example', '--cors', ''], /^--cors has an empty entry \(got 'https:\/\/a\.example,'\)/],
    // A value starting with a dash reaches the range check instead of "argument is ambiguous".
    [['--port', '-1'], /--port must be a whole number from 0 to 65535 \(got '-1'\)/],
    [['--max-viewers', '-1'], /--max-viewers must be a whole number/],
    [['--stall-timeout', '-5'], /--stall-timeout must be a number/],
    [['--start-timeout', '0'], /--start-timeout must be a number from 1 to 3600/],
    [['--size', '-1x5'], /--size must be WIDTHxHEIGHT/],
    // A real flag where a value belongs is a forgotten value.
    [['--source', '--port', '80'], /^--source needs a value \(to give one that starts with a dash, write --source=-VALUE\); see camcast --help$/],
    [['--token', '-v'], /--token needs a value/],
    [['--token', 'secret+token'], /^--token must be 8 to 256 characters of A-Z a-z 0-9 \. _ ~ - \(e\.g\. from: openssl rand -hex 16\)$/],
    [['--token', 'short'], /^--token must be 8 to 256 characters/],
    [['-q', '-v'], /-q .* and -v .* contradict each other/],
    [['--loop', '--no-loop'], /^--loop and --no-loop contradict each other; give one of them$/],
    // Decimal only: Number() would read these as 80 and 1000.
    [['--port', '0x50'], /^--port must be a whole number from 0 to 65535 \(got '0x50'\)/],
    [['--port', '1e3'], /^--port must be a whole number/],
    [['--fps', '.5'], /^--fps must be a number from 1 to 120/],
    // What --tls-cert "$CERT" gives with the variable unset: never plain HTTP instead.
    [['--tls-cert', '', '--tls-key', 'key.pem'], /^--tls-cert is empty: give the path of a PEM file/],
    [['--tls-cert', 'cert.pem', '--tls-key', ' '], /^--tls-key is empty/],
  ];
  for (const [argv, message] of bad) {
    test(`rejects ${argv.join(' ') || '(empty)'} with one BAD_OPTION line`, () => {
      assert.throws(
        () => parseCliArgs(argv),
        (error: unknown) => {
          assert.ok(isCamcastError(error, 'BAD_OPTION'), String(error));
          assert.match(error.message, message);
          assert.ok(!error.message.includes('\n'), 'one line');
          return true;
        },
      );
    });
  }
});
