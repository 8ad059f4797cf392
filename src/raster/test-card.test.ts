import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TestCard } from './test-card.js';

describe('TestCard', () => {
  for (const [width, height] of [[640, 480], [1280, 720], [1920, 1080], [160, 96], [97, 61]] as const) {
    test(`${width}x${height}: repainting only what changed gives the same picture as repainting everything`, () => {
      const fps = 30;
      const live = new TestCard(width, height, fps);
      const full = new TestCard(width, height, fps, { incremental: false });
      const start = Date.UTC(2026, 0, 1, 23, 59, 59, 900);
      // Two full sweeps of the block (over the panel on small pictures), the clock rolling over
      // midnight, and the counter rolling over its seven digits.
      for (let count = 9_999_940; count <= 9_999_940 + 4 * fps; count++) {
        const at = start + (count - 9_999_940) * 33.4;
        live.draw(count, at);
        full.draw(count, at);
        assert.ok(live.pixels.equals(full.pixels), `frame ${count} differs from a full repaint`);
      }
    });
  }

  test('the panel lies over the block where they meet', () => {
    const card = new TestCard(160, 96, 30, { incremental: false });
    const orange = (buffer: Buffer, at: number) => buffer[at] === 255 && buffer[at + 1] === 128 && buffer[at + 2] === 0;
    const panelColour = (buffer: Buffer, at: number) => buffer[at] === 16 && buffer[at + 1] === 16 && buffer[at + 2] === 16;
    let blockPixels = 0;
    let panelPixels = 0;
    for (let count = 1; count <= 60; count++) {
      card.draw(count, 0);
      for (let i = 0; i < card.pixels.length; i += 3) {
        if (orange(card.pixels, i)) blockPixels++;
        if (panelColour(card.pixels, i)) panelPixels++;
      }
    }
    assert.ok(blockPixels > 0 && panelPixels > 0);
    const alone = new TestCard(160, 96, 30);
    alone.draw(1, 0);
    // Wherever the panel is in one frame, it is in every frame: the block never covers it.
    const panelAt = new Set<number>();
    for (let i = 0; i < alone.pixels.length; i += 3) if (panelColour(alone.pixels, i)) panelAt.add(i);
    for (let count = 2; count <= 60; count++) {
      alone.draw(count, 0);
      for (const i of panelAt) assert.ok(!orange(alone.pixels, i), `frame ${count}: the block covers the panel at byte ${i}`);
    }
  });

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
