import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { AccessGuard } from './access.js';

const req = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;
const url = (query = '') => new URL(`http://x/stream.mjpg${query}`);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('AccessGuard', () => {
  test('with nothing configured every request is allowed', () => {
    const guard = new AccessGuard({});
    assert.equal(guard.enabled, false);
    assert.equal(guard.allows(req(), url()), true);
  });

  const auth = { username: 'admin', password: 'pa:ss wörd' };
  const cases: Array<[string, string | undefined, string, boolean]> = [
    ['right Basic credentials', basic('admin', 'pa:ss wörd'), '', true],
    ['a wrong password', basic('admin', 'pa:ss word'), '', false],
    ['a wrong user', basic('root', 'pa:ss wörd'), '', false],
    ['a password prefix', basic('admin', 'pa:ss'), '', false],
    ['no header', undefined, '', false],
    ['garbage base64', 'Basic !!!', '', false],
    ['the right token as ?token=', undefined, '?token=tok-12345678', true],
    ['the right token as Bearer', 'Bearer tok-12345678', '', true],
    ['a wrong token', 'Bearer tok-1234567', '?token=tok-123456789', false],
    ['an empty token', undefined, '?token=', false],
  ];
  for (const [name, header, query, allowed] of cases) {
    test(`allows() is ${allowed} for ${name}`, () => {
      const guard = new AccessGuard({ auth, token: 'tok-12345678' });
      assert.equal(guard.allows(req(header), url(query)), allowed);
    });
  }

  test('a token is not accepted as a Basic password and vice versa', () => {
    const guard = new AccessGuard({ token: 'tok-12345678' });
    assert.equal(guard.allows(req(basic('x', 'tok-12345678')), url()), false);
    const basicOnly = new AccessGuard({ auth });
    assert.equal(basicOnly.allows(req(), url('?token=pa:ss wörd')), false);
  });
});
