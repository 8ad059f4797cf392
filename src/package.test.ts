import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { fetchBuffer, openMjpeg } from './testing/mjpeg-client.js';

// The package as a user gets it: `npm pack`, then `npm install <tarball>` into an empty project
// (sharp and all, from the registry or npm's cache), then ESM, TypeScript and the binary there.
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/**
 * The five-line program of the README, taken from it (so the README cannot drift from what is
 * tested), with its fixed port swapped for one the test picks.
 */
const FIVE_LINES = (() => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const block = /## As a library[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no js example under "## As a library"');
  return block.replace('port: 8080', 'port: Number(process.env.PORT)');
})();
// Its data is 320x240 RGB; the test checks that size.
const FIVE_LINES_SIZE = [320, 240];

/** Uses the types; the @ts-expect-error fails the check if 'camcast' resolved to `any`. */
const TYPED = `import { createServer, forFastify, isCamcastError, push, stream, type Frame, type LiveStream, type RawImage, type StreamServer } from 'camcast';
const source = push({ quality: 90 });
const image: RawImage = { data: new Uint8Array(2 * 2 * 3), width: 2, height: 2, channels: 3 };
const pushed: boolean = source.push(image);
const server: StreamServer = createServer({ source, port: 0 });
server.on('frame', (frame: Frame) => console.log(frame.seq, frame.jpeg.length, pushed));
server.on('viewer-left', (viewer) => console.log(viewer.framesSent));
const cam: LiveStream = stream('test', { maxViewers: 4 });
const onFastify = forFastify(cam.mjpeg);
cam.on('error', (error) => console.log(isCamcastError(error, 'SOURCE_FAILED'), onFastify));
// @ts-expect-error: a port is a number
createServer({ port: 'eighty' });
`;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`); never rejects, the caller asserts. */
function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * dist modules (paths without extension) reachable from the entry points through relative
 * imports, following the .js files or the .d.ts files (type-only modules are empty in .js).
 */
function reachable(entries: string[], ext: '.js' | '.d.ts'): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  for (let module = queue.pop(); module !== undefined; module = queue.pop()) {
    if (seen.has(module)) continue;
    seen.add(module);
    const text = readFileSync(join(ROOT, module + ext), 'utf8');
    for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)) {
      queue.push(join(module, '..', spec!));
    }
  }
  return seen;
}

describe('npm pack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'camcast-pack-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const project = join(dir, 'project');
  let files: string[] = [];

  before(async () => {
    // dist/ is already built (npm test builds first); --ignore-scripts keeps prepack from
    // rebuilding it under the test files that run alongside this one.
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], ROOT, 120_000);
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    files = info.files.map((f) => f.path);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'camcast-user', private: true, type: 'module' }, null, 2));
    // @types/node is what any TypeScript user of a Node library has.
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, info.filename), '@types/node@20'], project, 480_000);
    assert.equal(installed.code, 0, `npm install failed:\n${installed.stderr}`);
  }, { timeout: 600_000 });

  test('the tarball holds the built package, the docs and examples the README links to, and no tests, fixtures or test helpers', () => {
    for (const required of ['package.json', 'README.md', 'BENCHMARKS.md', 'docs/api.md', 'docs/integrations.md', 'docs/examples/nginx-camcast.conf', 'examples/pipeline.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/http/viewer.html']) {
      assert.ok(files.includes(required), `${required} is packed`);
    }
    const unwanted = files.filter((f) => /\.test\.|\.map$|^src\/|^dist\/(testing|e2e|bench|soak)\//.test(f));
    assert.deepEqual(unwanted, []);
    // Whatever else dist/ grows (benchmarks, soak runs) must be kept out unless the package uses it.
    const entries = ['dist/index', 'dist/cli/main'];
    const used = new Set([...reachable(entries, '.js'), ...reachable(entries, '.d.ts')]);
    const unused = files.filter((f) => f.endsWith('.js') && !used.has(f.slice(0, -3)));
    assert.deepEqual(unused, [], 'every packed .js is imported by dist/index.js or dist/cli/main.js');
  });

  test('import from "camcast" in an ES module gives every export of dist/index.js', async () => {
    const imported = await run(process.execPath, ['--input-type=module', '-e', "import * as c from 'camcast'; console.log(JSON.stringify(Object.keys(c)))"], project, 60_000);
    assert.equal(imported.code, 0, imported.stderr);
    const expected = Object.keys(await import('./index.js'));
    assert.deepEqual(JSON.parse(imported.stdout), expected);
  });

  test('require("camcast") from CommonJS gives the same exports, where Node can require ES modules', async (t) => {
    // Node 20.19 and 22.12 load ES modules with require(); an "import"-only export map refused them.
    if (!process.features.require_module) return t.skip(`Node ${process.version} cannot require() ES modules`);
    writeFileSync(join(project, 'required.cjs'), "console.log(JSON.stringify(Object.keys(require('camcast'))))");
    const required = await run(process.execPath, ['required.cjs'], project, 60_000);
    assert.equal(required.code, 0, required.stderr);
    const keys = (JSON.parse(required.stdout) as string[]).filter((k) => k !== '__esModule');
    assert.deepEqual(keys, Object.keys(await import('./index.js')));
  });

  test('TypeScript resolves the types: tsc --noEmit passes on a strict file using them', async () => {
    writeFileSync(join(project, 'check.ts'), TYPED);
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'] }, files: ['check.ts'] }),
    );
    const checked = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], project, 120_000);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  });

  test('the five-line script streams pushed frames', async (t) => {
    writeFileSync(join(project, 'app.mjs'), FIVE_LINES);
    assert.equal(FIVE_LINES.trim().split('\n').length, 5);
    assert.match(FIVE_LINES, /Number\(process\.env\.PORT\)/, 'the README example listens on port 8080');
    const child = spawn(process.execPath, ['app.mjs'], { cwd: project, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => child.kill('SIGKILL'));
    let output = '';
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL within 20 s: ${output}`)), 20_000);
      child.stdout.on('data', (c: Buffer) => {
        output += c.toString();
        const match = /http:\/\/127\.0\.0\.1:\d+\//.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[0]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${code}: ${output}`));
      });
    });
    const client = openMjpeg(`${url}stream.mjpg`);
    t.after(() => client.destroy());
    const parts = await client.waitForParts(2);
    const meta = await sharp(parts[1]!.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', ...FIVE_LINES_SIZE]);
    const shot = await fetchBuffer(`${url}snapshot.jpg`);
    assert.equal(shot.status, 200);
    const page = await fetchBuffer(url);
    assert.equal(page.status, 200, 'the viewer page ships in the package');
    assert.match(String(page.headers['content-type']), /text\/html/);
  });

  test('the camcast binary is installed and answers --help', async () => {
    const help = await run(join(project, 'node_modules/.bin/camcast'), ['--help'], project, 30_000);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: camcast/);
  });
});

describe('npm pack in a fresh checkout', () => {
  test('builds dist/ first (prepack), so the tarball holds the code', async (t) => {
    // A checkout has no dist/ (it is gitignored): copy what git would check out, without dist/.
    const listed = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT, 30_000);
    if (listed.code !== 0) return t.skip(`not a git checkout: ${listed.stderr.trim()}`);
    const dir = mkdtempSync(join(tmpdir(), 'camcast-checkout-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    for (const file of listed.stdout.split('\0')) {
      if (file === '' || file === 'node_modules' || file.startsWith('dist/') || !existsSync(join(ROOT, file))) continue;
      mkdirSync(join(dir, dirname(file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(dir, file));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
    assert.equal(existsSync(join(dir, 'dist')), false);
    const packed = await run('npm', ['pack', '--dry-run', '--json'], dir, 180_000);
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as [{ files: { path: string }[] }];
    const files = info.files.map((f) => f.path);
    for (const required of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/http/viewer.html']) {
      assert.ok(files.includes(required), `${required} is packed`);
    }
  });
});
