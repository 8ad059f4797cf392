import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphRows } from './font5x7.js';

describe('glyphRows()', () => {
  // What error texts on the "no signal" picture are made of: ffmpeg's and Node's messages, URLs.
  const printable = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).filter((c) => !/[a-z]/.test(c));

  test('every printable ASCII character has a 5x7 glyph of its own, none falls back to ?', () => {
    const question = glyphRows('?');
    for (const char of printable) {
      const rows = glyphRows(char);
      assert.equal(rows.length, GLYPH_HEIGHT, char);
      for (const row of rows) assert.match(row, new RegExp(`^[.#]{${GLYPH_WIDTH}}$`), char);
      if (char !== '?') assert.notDeepEqual(rows, question, `${JSON.stringify(char)} draws as '?'`);
    }
  });

  test('lowercase draws as uppercase; anything else as ?', () => {
    assert.deepEqual(glyphRows('q'), glyphRows('Q'));
    assert.deepEqual(glyphRows('é'), glyphRows('?'));
  });
});
