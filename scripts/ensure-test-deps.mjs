#!/usr/bin/env node
// The test suite drives real clients (Chromium, Firefox, ffmpeg, OpenCV, GStreamer, VLC, aiohttp,
// Prometheus' Python client, nginx, systemd-analyze) and makes TLS certificates with openssl. On a
// fresh Debian/Ubuntu machine run as root, this installs the missing Debian packages so that
// `npm install && npm test` works as the README says; elsewhere it names what to install.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

// nginx lives in /usr/sbin, which is not on every PATH.
const DIRS = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean);

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const onPath = (command) => DIRS.some((dir) => executable(join(dir, command)));
const succeeds = (command, args) => spawnSync(command, args, { stdio: 'ignore', timeout: 60_000 }).status === 0;
// Debian's python3, not a pyenv or venv one earlier on PATH: the Debian modules live there.
const python = () => process.env.CAMCAST_TEST_PYTHON ?? (executable('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
const gstElement = (name) => onPath('gst-inspect-1.0') && succeeds('gst-inspect-1.0', ['--exists', name]);

const NEEDS = [
  { pkg: 'ffmpeg', ok: () => Boolean(process.env.FFMPEG_PATH) || (onPath('ffmpeg') && onPath('ffprobe')) },
  { pkg: 'chromium', ok: () => Boolean(process.env.CHROMIUM_PATH) || onPath('chromium') },
  { pkg: 'firefox-esr', ok: () => Boolean(process.env.FIREFOX_PATH) || onPath('firefox-esr') || onPath('firefox') },
  { pkg: 'python3', ok: () => onPath('python3') },
  { pkg: 'python3-opencv', ok: () => succeeds(python(), ['-c', 'import cv2']) },
  { pkg: 'python3-aiohttp', ok: () => succeeds(python(), ['-c', 'import aiohttp']) },
  { pkg: 'python3-prometheus-client', ok: () => succeeds(python(), ['-c', 'import prometheus_client']) },
  { pkg: 'gstreamer1.0-tools', ok: () => onPath('gst-launch-1.0') && onPath('gst-inspect-1.0') },
  { pkg: 'gstreamer1.0-plugins-good', ok: () => ['souphttpsrc', 'multipartdemux', 'jpegdec'].every(gstElement) },
  { pkg: 'gstreamer1.0-plugins-base', ok: () => gstElement('videoconvert') },
  { pkg: 'vlc', ok: () => onPath('cvlc') },
  { pkg: 'nginx', ok: () => onPath('nginx') },
  { pkg: 'systemd', ok: () => onPath('systemd-analyze') },
  // The tests make their own self-signed TLS certificates.
  { pkg: 'openssl', ok: () => onPath('openssl') },
];

const missing = NEEDS.filter((n) => !n.ok()).map((n) => n.pkg);
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
const still = NEEDS.filter((n) => !n.ok()).map((n) => n.pkg);
if (still.length > 0) {
  console.error(`after apt-get install, still missing: ${still.join(' ')}; the tests that use them will fail.`);
  process.exit(1);
}
