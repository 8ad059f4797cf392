import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { until } from '../testing/fake-source.js';
import { openMjpeg } from '../testing/mjpeg-client.js';
import { pidsMatching } from '../testing/processes.js';
import { makeClip } from '../testing/test-clip.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Starts the CLI on a short clip with capture always on, so ffmpeg runs from the start. */
async function startCli(t: TestContext) {
  const { dir, path: clip } = makeClip(t, { seconds: 3 });
  const child = spawn(process.execPath, [MAIN, '--source', clip, '--port', '0', '--idle-timeout', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  t.after(() => pidsMatching(dir).forEach((pid) => process.kill(pid, 'SIGKILL')));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await until(() => /viewer page http/.test(stderr) || child.exitCode !== null, 'the startup line', 15_000);
  const url = /viewer page (http:\/\/\S+\/)/.exec(stderr)?.[1];
  assert.ok(url, stderr);
  await until(() => pidsMatching(dir).length > 0, 'ffmpeg to start', 15_000);
  return { child, dir, url, exited, stderr: () => stderr };
}

describe('camcast CLI shutdown', () => {
  test('SIGTERM ends viewers cleanly, stops ffmpeg and exits 0', async (t) => {
    const cli = await startCli(t);
    const viewer = openMjpeg(`${cli.url}stream.mjpg`);
    t.after(() => viewer.destroy());
    await viewer.waitForParts(3);
    cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    assert.equal(code, 0, cli.stderr());
    await viewer.closed;
    assert.deepEqual(pidsMatching(cli.dir), [], 'no ffmpeg left');
    assert.match(cli.stderr(), /SIGTERM: shutting down/);
  });

  test('SIGINT exits 0 and leaves no ffmpeg', async (t) => {
    const cli = await startCli(t);
    cli.child.kill('SIGINT');
    assert.equal((await cli.exited).code, 0);
    assert.deepEqual(pidsMatching(cli.dir), []);
  });

  test('camcast killed with SIGKILL leaves no orphan ffmpeg', async (t) => {
    const cli = await startCli(t);
    const [ffmpeg] = pidsMatching(cli.dir);
    cli.child.kill('SIGKILL');
    assert.equal((await cli.exited).signal, 'SIGKILL');
    await until(() => !pidsMatching(cli.dir).includes(ffmpeg!), `ffmpeg ${ffmpeg} to die with its parent`, 5000);
  });
});
