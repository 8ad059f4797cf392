import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TypedEmitter } from './typed-emitter.js';

class Events extends TypedEmitter<{ ping: [n: number] }> {
  fire(n: number) {
    this.emit('ping', n);
  }
}

describe('TypedEmitter', () => {
  test('a throwing listener goes to onListenerError and the others still run', () => {
    const errors: unknown[] = [];
    const e = new Events((error) => errors.push(error));
    const got: number[] = [];
    e.on('ping', () => {
      throw new Error('bug');
    });
    e.on('ping', (n) => got.push(n));
    e.fire(1);
    assert.deepEqual(got, [1]);
    assert.equal(errors.length, 1);
  });

  test('once() fires once, and off() removes a once() listener before it fires', () => {
    const e = new Events();
    const got: number[] = [];
    const listener = (n: number) => got.push(n);
    e.once('ping', listener);
    e.fire(1);
    e.fire(2);
    assert.deepEqual(got, [1]);
    e.once('ping', listener);
    e.off('ping', listener);
    assert.equal(e.listenerCount('ping'), 0);
    e.fire(3);
    assert.deepEqual(got, [1]);
  });
});
