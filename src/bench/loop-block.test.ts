import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { LoopBlockProbe } from './loop-block.js';

const HAS_SCHEDSTAT = existsSync(`/proc/self/task/${process.pid}/schedstat`);

/** Holds the loop for about `ms` of this thread's CPU time; returns the CPU time it took. */
function hold(ms: number): number {
  const before = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 100_000; i++) x = (x * 31 + i) | 0;
    const used = process.cpuUsage(before);
    if ((used.user + used.system) / 1000 >= ms) return (used.user + used.system) / 1000 + (x & 0);
  }
}

describe('LoopBlockProbe', { skip: !HAS_SCHEDSTAT && 'no /proc/self/task/<pid>/schedstat here' }, () => {
  test('reports a loop held for 30 ms of CPU as a block of about that, and an idle loop as far less', async () => {
    const idle = new LoopBlockProbe();
    idle.start();
    await sleep(150);
    const idleMax = idle.stop()!;

    const busy = new LoopBlockProbe();
    busy.start();
    await sleep(20);
    const held = hold(30);
    await sleep(20);
    const busyMax = busy.stop()!;
    assert.ok(busyMax >= held * 0.6, `a ${held.toFixed(1)} ms hold measured as ${busyMax.toFixed(2)} ms`);
    assert.ok(idleMax < busyMax / 2, `idle ${idleMax.toFixed(2)} ms against busy ${busyMax.toFixed(2)} ms`);
  });

  test('stop() clears its timer and closes the file, and a second stop() is harmless', () => {
    const probe = new LoopBlockProbe();
    probe.start();
    assert.equal(typeof probe.stop(), 'number');
    assert.equal(probe.stop(), undefined);
  });
});
