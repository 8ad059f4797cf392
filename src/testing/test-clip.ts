import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A short video made by ffmpeg's testsrc in a folder of its own, removed after the test. The
 * folder's name is unique, so pidsMatching(dir) finds exactly the processes that play it.
 */
export function makeClip(t: { after: (fn: () => void) => void }, { seconds = 2, size = '160x120' } = {}): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'camcast-clip-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'clip.mp4');
  const input = `testsrc=duration=${seconds}:size=${size}:rate=25`;
  execFileSync(process.env.FFMPEG_PATH ?? 'ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', input, '-pix_fmt', 'yuv420p', path]);
  return { dir, path };
}
