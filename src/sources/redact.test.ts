import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CamcastError, isCamcastError } from '../errors.js';
import { redactError, redactSecrets, urlSecrets } from './redact.js';

const rows: Array<[string, string, string]> = [
  ['a URL without credentials stays', 'http://cam/video.mjpg', 'http://cam/video.mjpg'],
  ['a user name without password stays', 'http://user@cam/', 'http://user@cam/'],
  ['a host with a port stays', 'rtsp://cam.local:554/h264', 'rtsp://cam.local:554/h264'],
  ['an "@" in the path after a port stays', 'rtsp://cam:554/live?mail=a@b.c', 'rtsp://cam:554/live?mail=a@b.c'],
  ['an IPv6 host stays', 'rtsp://[::1]:8554/x@y', 'rtsp://[::1]:8554/x@y'],
  ['the password of a URL', 'rtsp://admin:hunter2@127.0.0.1:8554/live', 'rtsp://admin:***@127.0.0.1:8554/live'],
  ['an empty password', 'rtsp://admin:@cam/', 'rtsp://admin:***@cam/'],
  ['ffmpeg\'s error line', 'rtsp://admin:hunter2@127.0.0.1:19555/live: Server returned 401 Unauthorized (authorization failed)',
    'rtsp://admin:***@127.0.0.1:19555/live: Server returned 401 Unauthorized (authorization failed)'],
  ['a percent-encoded password', 'http://admin:hun%40ter%2F2@cam/', 'http://admin:***@cam/'],
  ['a raw "@" in the password (the last "@" of the host part wins)', 'rtsp://admin:p@ss@cam/live', 'rtsp://admin:***@cam/live'],
  ['a raw "/" in the password', 'rtsp://admin:ab/cd@cam/live', 'rtsp://admin:***@cam/live'],
  ['every URL of a line, whatever the scheme', 'a nonsense://a:b@c d, then RTSPS://u:v@w/ and http://x:y@z',
    'a nonsense://a:***@c d, then RTSPS://u:***@w/ and http://x:***@z'],
  ['secret query values', 'http://cam/snap.cgi?usr=admin&pwd=s3cret&res=1 and https://h/x?token=abc#f',
    'http://cam/snap.cgi?usr=admin&pwd=***&res=1 and https://h/x?token=***#f'],
  ['the parameters of cheap cameras and services', 'http://cam/videostream.cgi?loginuse=admin&loginpas=S1&x=1 /a?psw=S2 /b?auth=S3 /c?access-token=S4 /d?pw=S5',
    'http://cam/videostream.cgi?loginuse=admin&loginpas=***&x=1 /a?psw=*** /b?auth=*** /c?access-token=*** /d?pw=***'],
  ['a secret value up to the ":" that ends it, the message\'s own', 'cannot reach http://h:1/x?token=abc: connect ECONNREFUSED, nor /y?key=a:b:c',
    'cannot reach http://h:1/x?token=***: connect ECONNREFUSED, nor /y?key=***'],
  ['prose about passwords stays', 'the password was rejected: check password=, token=', 'the password was rejected: check password=, token='],
];

for (const [name, input, expected] of rows) {
  test(`redactSecrets() masks ${name}`, () => {
    assert.equal(redactSecrets(input), expected);
  });
}

test('redactSecrets() masks known secrets wherever they appear, but not ones too short to be told from words', () => {
  assert.equal(redactSecrets('auth failed for hun@ter2 (hun%40ter2)', ['hun%40ter2', 'hun@ter2']), 'auth failed for *** (***)');
  assert.equal(redactSecrets('ffmpeg exited', ['ex']), 'ffmpeg exited');
});

test('urlSecrets() gives a URL\'s password as typed and decoded, and nothing for no password', () => {
  assert.deepEqual(urlSecrets('rtsp://admin:hun%40ter2@cam/'), ['hun%40ter2', 'hun@ter2']);
  assert.deepEqual(urlSecrets('rtsp://admin:plain@cam/'), ['plain']);
  assert.deepEqual(urlSecrets('rtsp://admin@cam/'), []);
  assert.deepEqual(urlSecrets('not a url'), []);
});

test('redactError() keeps a clean error as it is and rebuilds one holding a secret, code and cause included', () => {
  const clean = new CamcastError('SOURCE_FAILED', 'rtsp://cam/: gone');
  assert.equal(redactError(clean), clean);
  const cause = new Error('GET http://a:pw@h/ failed');
  const dirty = new CamcastError('SOURCE_START_FAILED', 'rtsp://a:pw@h/: 401', { cause });
  const redacted = redactError(dirty) as CamcastError;
  assert.ok(isCamcastError(redacted, 'SOURCE_START_FAILED'));
  assert.equal(redacted.message, 'rtsp://a:***@h/: 401');
  assert.ok(!redacted.stack!.includes(':pw@'), 'the stack repeats the message: it is masked too');
  assert.equal((redacted.cause as Error).message, 'GET http://a:***@h/ failed');
  assert.equal(redactError('not an error'), 'not an error');
});
