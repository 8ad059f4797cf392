import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TestCard } from './test-card.js';

describe('TestCard', () => {
  for (const [width, height] of [[640, 480], [1280, 720], [97, 61]] as const) {
    test(`${width}x${height}: repainting only what changed gives the same picture as painting from scratch`, () => {
      const fps = 30;
      const live = new TestCard(width, height, fps);
      const start = Date.UTC(2026, 0, 1, 23, 59, 59, 900);
      // Two full sweeps of the block, and the clock rolling over midnight.
      for (let count = 1; count <= 4 * fps; count++) {
        const at = start + count * 33.4;
        live.draw(count, at);
        if (count % 7 !== 0 && count !== 4 * fps) continue;
        const fresh = new TestCard(width, height, fps);
        fresh.draw(count, at);
        assert.ok(live.pixels.equals(fresh.pixels), `frame ${count} differs from a fresh paint`);
      }
    });
  }

  test('consecutive frames differ and the block moves', () => {
    const card = new TestCard(320, 240, 30);
    card.draw(1, 1000);
    const first = Buffer.from(card.pixels);
    card.draw(2, 1000);
    assert.ok(!first.equals(card.pixels), 'the counter changed the picture');
    // Same clock and a counter whose digits look alike would still move the block: check its row.
    const row = (buffer: Buffer, y: number) => buffer.subarray(y * 320 * 3, (y + 1) * 320 * 3);
    const blockRow = Math.round(240 * 0.67) - 2;
    assert.ok(!row(first, blockRow).equals(row(card.pixels, blockRow)), 'the block moved');
  });
});
