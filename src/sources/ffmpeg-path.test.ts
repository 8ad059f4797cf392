import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isCamcastError } from '../errors.js';
import { findExecutable, isExecutable, resolveFfmpeg } from './ffmpeg-path.js';

/** dirs: empty/, plain/ffmpeg (not executable), bin/ffmpeg (executable), other/ffmpeg (executable). */
async function fixture(t: { after: (fn: () => Promise<void>) => void }) {
  const root = await mkdtemp(join(tmpdir(), 'camcast-ffmpeg-path-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const dir = (name: string) => join(root, name);
  for (const name of ['empty', 'plain', 'bin', 'other']) await mkdir(dir(name));
  await writeFile(join(dir('plain'), 'ffmpeg'), '#!/bin/sh\n');
  await chmod(join(dir('plain'), 'ffmpeg'), 0o644);
  for (const name of ['bin', 'other']) {
    await writeFile(join(dir(name), 'ffmpeg'), '#!/bin/sh\nexit 0\n');
    await chmod(join(dir(name), 'ffmpeg'), 0o755);
  }
  return { root, dir };
}

const absent = async (): Promise<unknown> => {
  throw new Error("Cannot find package '@ffmpeg-installer/ffmpeg'");
};

test('resolveFfmpeg() uses an executable FFMPEG_PATH before PATH', async (t) => {
  const { dir } = await fixture(t);
  const explicit = join(dir('other'), 'ffmpeg');
  const found = await resolveFfmpeg({ env: { FFMPEG_PATH: explicit, PATH: dir('bin') }, loadInstaller: absent });
  assert.deepEqual(found, { path: explicit, origin: 'FFMPEG_PATH' });
});

test('resolveFfmpeg() rejects FFMPEG_PATH naming a non-executable file, a directory or nothing', async (t) => {
  const { dir, root } = await fixture(t);
  for (const bad of [join(dir('plain'), 'ffmpeg'), dir('bin'), join(root, 'missing')]) {
    await assert.rejects(
      resolveFfmpeg({ env: { FFMPEG_PATH: bad, PATH: dir('bin') }, loadInstaller: absent }),
      (err: unknown) =>
        isCamcastError(err, 'FFMPEG_NOT_FOUND') && err.message.includes(`FFMPEG_PATH points at ${bad} which is not executable`),
    );
  }
});

test('resolveFfmpeg() takes the first executable ffmpeg on PATH, skipping relative and non-executable entries', async (t) => {
  const { dir } = await fixture(t);
  const PATH = ['', 'relative/bin', dir('empty'), dir('plain'), dir('bin'), dir('other')].join(delimiter);
  const found = await resolveFfmpeg({ env: { PATH, FFMPEG_PATH: '' }, loadInstaller: absent });
  assert.deepEqual(found, { path: join(dir('bin'), 'ffmpeg'), origin: 'PATH' });
});

test('resolveFfmpeg() falls back to the @ffmpeg-installer/ffmpeg package (ESM or CommonJS shape)', async (t) => {
  const { dir } = await fixture(t);
  const path = join(dir('other'), 'ffmpeg');
  for (const module of [{ path }, { default: { path } }]) {
    const found = await resolveFfmpeg({ env: { PATH: dir('empty') }, loadInstaller: async () => module });
    assert.deepEqual(found, { path, origin: '@ffmpeg-installer/ffmpeg' });
  }
});

test('resolveFfmpeg() finds the installed @ffmpeg-installer/ffmpeg with the real dynamic import', async (t) => {
  const { dir } = await fixture(t);
  let installed = true;
  try {
    await import('@ffmpeg-installer/ffmpeg' as string);
  } catch {
    installed = false;
  }
  if (!installed) return t.skip('@ffmpeg-installer/ffmpeg is not installed here');
  const found = await resolveFfmpeg({ env: { PATH: dir('empty') } });
  assert.equal(found.origin, '@ffmpeg-installer/ffmpeg');
  assert.ok(await isExecutable(found.path));
});

test('resolveFfmpeg() throws FFMPEG_NOT_FOUND saying what to do when nothing is found', async (t) => {
  const { dir } = await fixture(t);
  const notExecutable = async () => ({ path: join(dir('plain'), 'ffmpeg') });
  for (const loadInstaller of [absent, notExecutable]) {
    await assert.rejects(resolveFfmpeg({ env: { PATH: dir('plain') }, loadInstaller }), (err: unknown) => {
      assert.ok(isCamcastError(err, 'FFMPEG_NOT_FOUND'));
      assert.equal(
        err.message,
        'ffmpeg not found: install it (apt-get install ffmpeg), set FFMPEG_PATH, or npm install @ffmpeg-installer/ffmpeg',
      );
      return true;
    });
  }
});

test('resolveFfmpeg() without env reads FFMPEG_PATH and PATH from process.env, as the sources do', async (t) => {
  const { dir } = await fixture(t);
  const saved = { FFMPEG_PATH: process.env['FFMPEG_PATH'], PATH: process.env['PATH'] };
  t.after(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const explicit = join(dir('other'), 'ffmpeg');
  process.env['FFMPEG_PATH'] = explicit;
  process.env['PATH'] = dir('bin');
  assert.deepEqual(await resolveFfmpeg({ loadInstaller: absent }), { path: explicit, origin: 'FFMPEG_PATH' });
  delete process.env['FFMPEG_PATH'];
  assert.deepEqual(await resolveFfmpeg({ loadInstaller: absent }), { path: join(dir('bin'), 'ffmpeg'), origin: 'PATH' });
  process.env['PATH'] = saved.PATH ?? '';
  assert.deepEqual(await resolveFfmpeg(), await resolveFfmpeg({ env: process.env }), 'resolveFfmpeg() finds what camera(), file() and url() run');
});

test('findExecutable() returns undefined for an empty or missing PATH', async () => {
  assert.equal(await findExecutable('ffmpeg', { env: {} }), undefined);
  assert.equal(await findExecutable('ffmpeg', { env: { PATH: '' } }), undefined);
});
