#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import sharp from 'sharp';
import { CamcastError, describeError, isCamcastError } from '../errors.js';
import { jpegEncoder } from '../raster/encode-jpeg.js';
import { resolveFfmpeg } from '../sources/ffmpeg-path.js';
import { openSource } from '../sources/index.js';
import { createServer, type StreamServer } from '../stream-server.js';
import { packageVersion } from '../version.js';
import { parseCliArgs, USAGE, type CliOptions } from './args.js';
import { consoleLogger } from './console-logger.js';
import { isLoopback, listenUrls } from './listen-urls.js';

/** A thin shell: argv -> options -> source -> server -> listen; signals -> close. */
async function main(argv: readonly string[]): Promise<number> {
  const options = parseCliArgs(argv);
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const logger = consoleLogger(options.logLevel);
  // A long-running streamer must not keep decoded images around; sharp caches them by default.
  sharp.cache(false);

  // Signal handlers first: without one Node dies at once on SIGTERM, even while starting up.
  let server: StreamServer | undefined;
  let exit: (code: number) => void = () => {};
  const stopped = new Promise<number>((resolve) => (exit = resolve));
  let stopping = false;
  // Ends the startup checks (a URL that never answers, a file being probed) at once on a signal.
  const startup = new AbortController();
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    startup.abort(new CamcastError('CLOSED', `${signal} during startup`));
    // Exit on time even if something refuses to close.
    setTimeout(() => exit(0), 1800).unref();
    (server?.close() ?? Promise.resolve()).then(
      () => exit(0),
      (error: unknown) => {
        logger.error(describeError(error));
        exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));

  const encode = { width: options.width, height: options.height, fps: options.fps, quality: options.quality };
  const { source, reason } = openSource(options.source, { ...encode, loop: options.loop, startTimeoutMs: options.startTimeoutMs, insecure: options.insecure, logger });
  // Sources find ffmpeg themselves when they start; resolving it here fails at once when it is
  // missing. Which one it is (or that there is none) is said once the source checks out, so a
  // bad source is one line.
  let ffmpegLine: string | undefined;
  let ffmpegWarning: string | undefined;
  // A Pi camera module's own program encodes its MJPEG; its check() says when that is missing.
  if (source.kind !== 'test' && source.kind !== 'push' && source.kind !== 'picamera') {
    try {
      const ffmpeg = await resolveFfmpeg({ env: process.env });
      ffmpegLine = `ffmpeg: ${ffmpeg.path} (from ${ffmpeg.origin})`;
    } catch (error) {
      // An HTTP MJPEG upstream is relayed without ffmpeg; everything else needs it.
      if (source.kind !== 'url') throw error;
      ffmpegWarning = `${describeError(error)}; only MJPEG upstreams and still images can be read without it`;
    }
  }
  try {
    await source.check?.(startup.signal);
  } catch (error) {
    if (stopping) return stopped;
    throw error;
  }
  if (ffmpegLine) logger.info(ffmpegLine);
  if (ffmpegWarning) logger.warn(ffmpegWarning);
  if (!options.loop && source.kind !== 'file') logger.warn(`--no-loop applies to video files only: ignored for ${source.description}`);
  if (options.insecure && !/^https:/i.test(options.source)) logger.warn(`--insecure applies to https:// sources only: ignored for ${source.description}`);
  logger.debug(`JPEG encoder for pictures camcast makes: ${jpegEncoder}`);
  const encoderChoice = process.env['CAMCAST_JPEG_ENCODER'];
  if (encoderChoice && encoderChoice !== 'sharp') logger.warn(`CAMCAST_JPEG_ENCODER=${encoderChoice} is no choice camcast knows (only "sharp" forces sharp): using ${jpegEncoder}`);
  const tls = options.tlsCert !== undefined && options.tlsKey !== undefined ? { cert: readPem(options.tlsCert, '--tls-cert'), key: readPem(options.tlsKey, '--tls-key') } : undefined;

  server = createServer({
    source,
    host: options.host,
    port: options.port,
    idleTimeoutMs: options.idleTimeoutMs,
    stallTimeoutMs: options.stallTimeoutMs,
    maxViewers: options.maxViewers,
    cors: options.cors,
    auth: options.auth,
    token: options.token,
    tls,
    trustProxy: options.trustProxy,
    logger,
  });
  const address = await server.listen().catch((error: unknown) => {
    // The library's message names no flag; on the command line the way out is one.
    if (isCamcastError(error, 'PORT_IN_USE')) throw new CamcastError('PORT_IN_USE', `${error.message} with --port N`);
    throw error;
  });
  if (stopping) return stopped;
  // Before the URL lines, so whoever reads up to them has seen it.
  if (!isLoopback(options.host) && !options.auth && !options.token) {
    logger.warn(`listening on ${options.host} without authentication: anyone who can reach this machine can watch (use --auth or --token)`);
  }
  logger.info(`camcast ${packageVersion()}: streaming ${source.description} (${reason})${askedSettings(options, source.kind)}`);
  const urls = listenUrls(address, networkInterfaces());
  logger.info(`viewer page ${urls.local}  stream ${urls.local}stream.mjpg  snapshot ${urls.local}snapshot.jpg  status ${urls.local}api/status`);
  if (urls.network.length > 0) logger.info(`on the network: ${urls.network.join('  ')}`);
  // The token itself stays out of the log (a journal keeps it); where it goes does not.
  if (options.token) logger.info('with --token, add ?token=TOKEN to these URLs (the viewer page passes it on) or send "Authorization: Bearer TOKEN"');

  return stopped;
}

/**
 * What the command line asked of the picture, for the startup line. The test pattern's own
 * description already says its size and rate; a relayed URL says itself what it leaves out.
 */
function askedSettings(options: CliOptions, kind: string): string {
  const asked = [
    ...(options.width !== undefined && kind !== 'test' ? [`${options.width}x${options.height}`] : []),
    ...(options.fps !== undefined && kind !== 'test' ? [`${options.fps} fps`] : []),
    ...(options.quality !== undefined ? [`quality ${options.quality}`] : []),
  ];
  return asked.length > 0 ? `, asked for ${asked.join(', ')}` : '';
}

function readPem(path: string, flag: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : describeError(error);
    throw new CamcastError('BAD_OPTION', `${flag} ${path}: ${why}; give the path of a PEM file`);
  }
  if (!pem.includes('-----BEGIN ')) throw new CamcastError('BAD_OPTION', `${flag} ${path} is not a PEM file (no -----BEGIN line)`);
  return pem;
}


main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`camcast: ${describeError(error)}\n`);
    process.exit(error instanceof Error && 'code' in error && error.code === 'BAD_OPTION' ? 2 : 1);
  },
);
