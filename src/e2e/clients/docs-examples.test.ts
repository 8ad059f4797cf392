import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { testPattern } from '../../sources/test-pattern.js';
import { createServer } from '../../stream-server.js';
import { requireCommand, runClient } from '../../testing/client-process.js';
import { delay } from '../../testing/fake-source.js';
import { fetchBuffer, openMjpeg } from '../../testing/mjpeg-client.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DOCS = join(ROOT, 'docs');
const UNIT = join(DOCS, 'examples', 'camcast.service');

/** The unit as installed from this checkout: node and /opt/camcast replaced by what is here. */
function localUnit(): string {
  return readFileSync(UNIT, 'utf8').replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/camcast/node_modules/camcast/', ROOT);
}

function docsText(): string {
  const examples = readdirSync(join(DOCS, 'examples')).map((f) => readFileSync(join(DOCS, 'examples', f), 'utf8'));
  return [readFileSync(join(DOCS, 'integrations.md'), 'utf8'), ...examples].join('\n');
}

describe('the examples in docs/', () => {
  test('systemd-analyze verify accepts docs/examples/camcast.service without a warning', async (t) => {
    const analyze = requireCommand('systemd-analyze', 'systemd');
    const dir = mkdtempSync(join(tmpdir(), 'camcast-unit-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const unit = join(dir, 'camcast.service');
    writeFileSync(unit, localUnit());
    const result = await runClient(t, analyze, ['verify', unit], { timeoutMs: 30_000 });
    assert.equal(result.code, 0, result.stderr);
    // verify exits 0 on unknown keys and bad values too; it only warns about them.
    const warnings = result.stderr.split('\n').filter((line) => line.includes('camcast.service'));
    assert.deepEqual(warnings, []);
  });

  test("the unit's ExecStart serves the stream and exits 0 on SIGTERM within TimeoutStopSec", async (t) => {
    const unit = localUnit();
    const execStart = /^ExecStart=(.+)$/m.exec(unit)?.[1];
    assert.ok(execStart, 'the unit has an ExecStart line');
    const stopSeconds = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1] ?? 90);
    assert.match(unit, /^KillSignal=SIGTERM$/m);
    const [command, ...args] = execStart.split(/\s+/);
    // Same command line; the later flags win: the test pattern instead of a camera, and a free port.
    const child = spawn(command!, [...args, '--source', 'test', '--size', '160x120', '--fps', '5', '--host', '127.0.0.1', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    let exit: number | null | undefined;
    child.once('exit', (code) => (exit = code));
    let base: string | undefined;
    for (let i = 0; i < 150 && !base && exit === undefined; i++) {
      base = /http:\/\/127\.0\.0\.1:(?!0\/)\d+\//.exec(output)?.[0];
      if (!base) await delay(100);
    }
    assert.ok(base, `camcast printed no address: ${output}`);
    const snapshot = await fetchBuffer(`${base}?action=snapshot`);
    assert.equal(snapshot.status, 200);
    assert.equal(snapshot.headers['content-type'], 'image/jpeg');

    const exited = new Promise<number | null>((resolve) => (exit !== undefined ? resolve(exit) : child.once('exit', resolve)));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<string>((resolve) => (timer = setTimeout(resolve, stopSeconds * 1000, 'still running')))]);
    clearTimeout(timer);
    assert.equal(code, 0, `after SIGTERM: ${code}; ${output.slice(-2000)}`);
  });

  test('every camcast URL in the docs answers with the right kind of content', async (t) => {
    const server = createServer({ source: testPattern({ width: 160, height: 120, fps: 10 }), host: '127.0.0.1', port: 0 });
    t.after(() => server.close());
    const { url } = await server.listen();
    const text = docsText();
    const paths = new Set<string>();
    // Absolute URLs to camcast on its port, and the /webcam/ URLs a proxy hands to camcast.
    for (const m of text.matchAll(/https?:\/\/[\w.-]+:8080(\/[^\s"'`<>)\]#;]*)?/g)) paths.add(trimPunctuation(m[1] ?? '/'));
    for (const m of text.matchAll(/(?<![\w/.:-])\/webcam(\/[^\s"'`<>)\]#;]*)/g)) paths.add(trimPunctuation(m[1]!));
    // The table of URL aliases.
    for (const row of text.split('\n').filter((line) => line.startsWith('|'))) {
      for (const m of row.matchAll(/`(\/[^`\s]*)`/g)) paths.add(m[1]!);
    }
    assert.ok(paths.size >= 10, `found only ${[...paths].join(' ')}`);
    t.diagnostic(`checked ${[...paths].join(' ')}`);
    for (const path of paths) {
      const target = url + path.slice(1);
      const kind = await contentType(target);
      if (kind.startsWith('multipart/x-mixed-replace')) {
        const client = openMjpeg(target);
        t.after(() => client.destroy());
        await client.waitForParts(1);
        client.destroy();
      } else if (kind === 'image/jpeg') {
        const res = await fetchBuffer(target);
        assert.equal(Number(res.headers['content-length']), res.body.length, path);
      } else {
        // Pages, JSON, and Prometheus' text format at /metrics.
        assert.match(kind, /^(text\/html|application\/json|text\/plain; version=0\.0\.4)/, `${path} answers ${kind}`);
      }
    }
  });
});

/** A URL at the end of a sentence: "… at /webcam/." */
function trimPunctuation(path: string): string {
  return path.replace(/[.,]+$/, '') || '/';
}

/** Status and Content-Type of a GET, without reading the (possibly endless) body. */
function contentType(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      req.destroy();
      if (res.statusCode !== 200) reject(new Error(`${url}: status ${res.statusCode}`));
      else resolve(res.headers['content-type'] ?? '');
    });
    req.once('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${url} timed out`)));
  });
}
