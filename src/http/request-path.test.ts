import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathOf } from './request-path.js';

test('pathOf() leaves the query (and a token in it) out of what is logged', () => {
  assert.equal(pathOf('/stream.mjpg?token=s3cret&cid=abc'), '/stream.mjpg');
  assert.equal(pathOf('/snapshot.jpg#frag?token=x'), '/snapshot.jpg');
  assert.equal(pathOf('/api/status'), '/api/status');
  assert.equal(pathOf(undefined), '');
  assert.equal(pathOf(`/${'a'.repeat(300)}`), `/${'a'.repeat(199)}...`);
});
