import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `rpicam-vid --list-cameras` on a Pi with two camera modules. */
export const TWO_CAMERAS = `Available cameras
-----------------
0 : imx708 [4608x2592 10-bit RGGB] (/base/soc/i2c0mux/i2c@1/imx708@1a)
    Modes: 'SRGGB10_CSI2P' : 1536x864 [120.13 fps - (768, 432)/3072x1728 crop]
                             2304x1296 [56.03 fps - (0, 0)/4608x2592 crop]

1 : ov5647 [2592x1944 10-bit GBRG] (/base/soc/i2c0mux/i2c@0/ov5647@36)
    Modes: 'SGBRG10_CSI2P' : 640x480 [58.92 fps - (16, 0)/2560x1920 crop]

`;

export interface FakeRpicamOptions {
  /** Its file name: rpicam-vid, or libcamera-vid as before Raspberry Pi OS 12. */
  readonly name?: string;
  /** What `--list-cameras` prints (it exits 0 either way, as the real one does). */
  readonly list?: string;
  /** Instead of streaming: this on stderr, then exit with `code`. */
  readonly fail?: { readonly stderr: string; readonly code: number };
}

/**
 * A stand-in for rpicam-vid on a machine without a Pi camera, in `dir` (put it on a PATH or give
 * its path): it answers `--list-cameras`, records the capture argv, then streams ffmpeg's test
 * pattern as bare concatenated JPEGs, which is what rpicam-vid's MJPEG to stdout is.
 */
export function fakeRpicam(dir: string, { name = 'rpicam-vid', list = TWO_CAMERAS, fail }: FakeRpicamOptions = {}): { path: string; argv: () => string[] } {
  const path = join(dir, name);
  writeFileSync(`${path}.list`, list);
  const run = fail
    ? `printf '%s\\n' '${fail.stderr}' >&2\nexit ${fail.code}`
    : // The comment keeps the fake's path in the command line, for tests that look for the process.
      `exec /usr/bin/ffmpeg -hide_banner -loglevel error -nostdin -f lavfi -i testsrc=size=160x120:rate=30 -metadata 'comment=${path}' -f mjpeg pipe:1`;
  writeFileSync(
    path,
    `#!/bin/sh
if [ "$1" = "--list-cameras" ]; then
  cat '${path}.list'
  exit 0
fi
printf '%s\\n' "$@" > '${path}.argv'
${run}
`,
  );
  chmodSync(path, 0o755);
  return { path, argv: () => readFileSync(`${path}.argv`, 'utf8').trim().split('\n') };
}
