import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WriteScheduler } from './write-scheduler.js';

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('WriteScheduler', () => {
  test('schedule() flushes writers in order, yielding to the event loop between slices', async () => {
    // A zero slice means one flush per turn of the loop.
    const scheduler = new WriteScheduler({ sliceMs: 0 });
    const flushed: number[] = [];
    for (const id of [1, 2, 3]) scheduler.schedule({ flush: () => flushed.push(id) });
    assert.deepEqual(flushed, [], 'nothing runs inside schedule()');
    await turn();
    assert.deepEqual(flushed, [1]);
    assert.equal(scheduler.queued, 2);
    await turn();
    await turn();
    assert.deepEqual(flushed, [1, 2, 3]);
    assert.equal(scheduler.queued, 0);
  });

  test('busyMs() counts from when the queue last ran empty, across turns and writers queued meanwhile', async () => {
    const scheduler = new WriteScheduler({ sliceMs: 0 });
    assert.equal(scheduler.busyMs(), 0, 'idle');
    const seen: number[] = [];
    const before = performance.now();
    scheduler.schedule({ flush: () => {} });
    const after = performance.now();
    scheduler.schedule({
      flush: () => {
        // Queued from inside a flush: the queue has not run empty, so the count goes on.
        scheduler.schedule({
          flush: () => {
            const now = performance.now();
            seen.push(now - scheduler.busyMs(now));
          },
        });
      },
    });
    // Measured from the first schedule(), whatever the time asked about.
    const t = after + 1000;
    assert.ok(scheduler.busyMs(t) >= t - after && scheduler.busyMs(t) <= t - before);
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(seen.length, 1);
    assert.ok(seen[0]! >= before && seen[0]! <= after, 'three turns later it still counts from the first schedule()');
    assert.equal(scheduler.busyMs(), 0, 'idle again once the queue ran empty');
    const idleAt = performance.now();
    scheduler.schedule({ flush: () => {} });
    assert.ok(scheduler.busyMs(idleAt) <= 0, 'a new busy spell starts after the last one ended');
    await turn();
  });

  test('one turn flushes as many writers as fit in the slice', async () => {
    const scheduler = new WriteScheduler({ sliceMs: 1000 });
    let flushed = 0;
    for (let i = 0; i < 500; i++) scheduler.schedule({ flush: () => flushed++ });
    await turn();
    assert.equal(flushed, 500);
  });

  test('a writer that throws does not stop the others', async () => {
    // A long slice: this is about isolation, and a busy machine can spend the default 1 ms
    // building the thrown Error, which would rightly leave writer 3 for the next turn.
    const scheduler = new WriteScheduler({ sliceMs: 1000 });
    const flushed: number[] = [];
    scheduler.schedule({ flush: () => flushed.push(1) });
    scheduler.schedule({ flush: () => { throw new Error('boom'); } });
    scheduler.schedule({ flush: () => flushed.push(3) });
    await turn();
    assert.deepEqual(flushed, [1, 3]);
  });

  test('a writer queued again from inside its own flush waits for a later turn: one chain of turns, never two', async () => {
    // A zero slice means one flush per turn; a second chain of turns would flush two.
    const scheduler = new WriteScheduler({ sliceMs: 0 });
    const flushed: string[] = [];
    let again = 2;
    const writer = {
      flush: () => {
        flushed.push('w');
        if (again-- > 0) scheduler.schedule(writer);
      },
    };
    scheduler.schedule(writer);
    scheduler.schedule({ flush: () => flushed.push('x') });
    const perTurn: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = flushed.length;
      await turn();
      perTurn.push(flushed.length - before);
    }
    assert.deepEqual(flushed, ['w', 'x', 'w', 'w']);
    assert.deepEqual(perTurn, [1, 1, 1, 1, 0, 0]);
    assert.equal(scheduler.queued, 0);
  });
});
