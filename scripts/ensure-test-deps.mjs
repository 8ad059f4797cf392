#!/usr/bin/env node
// The test suite drives real clients (Chromium, ffmpeg) and a Python viewer. On a fresh
// Debian/Ubuntu machine run as root, this installs the missing Debian packages so that
// `npm install && npm test` works as the README says; elsewhere it names what to install.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NEEDS = [
  { command: 'ffmpeg', pkg: 'ffmpeg', env: 'FFMPEG_PATH' },
  { command: 'chromium', pkg: 'chromium', env: 'CHROMIUM_PATH' },
  { command: 'python3', pkg: 'python3' },
];

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

const missing = NEEDS.filter((n) => !(n.env && process.env[n.env]) && !onPath(n.command)).map((n) => n.pkg);
if (missing.length === 0) process.exit(0);

const isRoot = process.getuid?.() === 0;
if (!isRoot || !onPath('apt-get')) {
  console.error(`camcast tests need: ${missing.join(' ')}. Install them (e.g. sudo apt-get install -y ${missing.join(' ')}) and run npm test again.`);
  process.exit(1);
}
console.error(`installing Debian packages for the tests: ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...missing]]) {
  const result = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (result.status !== 0) {
    console.error(`apt-get ${args[0]} failed (exit ${result.status}); install ${missing.join(' ')} by hand and run npm test again.`);
    process.exit(1);
  }
}
