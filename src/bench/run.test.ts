import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The bench as a user runs it, on the smallest point: two viewers for one second. Figures are
 * not judged here (timing targets live in the bench's own output); what is checked is that the
 * chosen source and size are what both servers really sent, and that bad input is one line.
 */
const RUN = fileURLToPath(new URL('./run.js', import.meta.url));

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [RUN, '--no-write', ...args], { timeout: 150_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The table rows of one server: its cells, trimmed. */
function rows(stdout: string, server: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('| ') && line.split('|')[2]?.trim() === server)
    .map((line) => line.split('|').slice(1, -1).map((c) => c.trim()));
}

const SMALL = ['--scenario', 'fanout', '--viewers', '2', '--seconds', '1', '--repeat', '1'];

// Each run may wait up to 10 s per server for a quiet machine, as npm test keeps it busy.
const LIMIT = { timeout: 180_000 };

describe('npm run bench: the chosen source and size', () => {
  test('--size makes the pushed JPEG that size; both servers send it, one buffer per frame', LIMIT, async () => {
    const { code, stdout, stderr } = await bench([...SMALL, '--size', '320x240']);
    assert.equal(code, 0, stderr);
    const header = /^Fan-out \(one 320x240 JPEG of (\d+) bytes pushed at 30 fps; camcast sent 320x240, (\d+) B per part, reference sent 320x240, (\d+) B per part; 1 s window\)$/m.exec(stdout);
    assert.ok(header, stdout);
    // The same fixture to both: parts a header's length above the JPEG (the frame number in the
    // header may gain a digit in one server's window and not the other's).
    const [jpeg, camcast, reference] = header.slice(1).map(Number) as [number, number, number];
    assert.ok(Math.abs(camcast - reference) <= 2, `camcast ${camcast} B, reference ${reference} B per part`);
    assert.ok(camcast > jpeg && camcast < jpeg + 200, `${camcast} B per part for a ${jpeg} B JPEG`);
    assert.match(stdout, /^Targets \(set for one 1280x720 JPEG pushed at 30 fps; this run: one 320x240 JPEG/m);
    for (const server of ['camcast', 'reference']) {
      const [row] = rows(stdout, server);
      assert.ok(row, `${server} row in:\n${stdout}`);
      assert.ok(Number(row[2]) > 0, `${server} viewers got frames: ${row.join(' | ')}`);
      // Two viewers sent one buffer each frame would read 1.00, a copy each 2.00; a frame at the
      // window's edge can move it by one frame in thirty.
      assert.ok(Number(row[10]) < 1.5, `${server}: part buffers per frame ${row[10]}`);
    }
  });

  test('--source test runs the live test pattern at --size in both servers', LIMIT, async () => {
    const { code, stdout, stderr } = await bench([...SMALL, '--source', 'test', '--size', '160x120', '--fps', '10']);
    assert.equal(code, 0, stderr);
    const header = /^Fan-out \(test pattern 160x120 @ 10 fps; camcast sent 160x120, (\d+) B per part, reference sent 160x120, (\d+) B per part; 1 s window\)$/m.exec(stdout);
    assert.ok(header, stdout);
    // The exact header: a server that ran anything else names it ("sent 160x120 from ...").
    // Both ran their own test pattern: parts of about the same size (the clock overlay varies a
    // little).
    const [camcast, reference] = header.slice(1).map(Number) as [number, number];
    assert.ok(Math.abs(camcast - reference) / camcast < 0.1, `camcast ${camcast} B, reference ${reference} B per part`);
    for (const server of ['camcast', 'reference']) assert.ok(Number(rows(stdout, server)[0]?.[2]) > 0, `${server} viewers got frames:\n${stdout}`);
  });

  test('a source that cannot play is one line before any server starts, exit code 2', LIMIT, async () => {
    const { code, stdout, stderr } = await bench([...SMALL, '--source', '/nonexistent/clip.mp4']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.equal(stderr, 'bench: --source /nonexistent/clip.mp4: video file /nonexistent/clip.mp4 not found: check the path\n');
  });
});
