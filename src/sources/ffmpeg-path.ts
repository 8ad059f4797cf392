import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { CamcastError } from '../errors.js';

export type FfmpegOrigin = 'FFMPEG_PATH' | 'PATH' | '@ffmpeg-installer/ffmpeg';

export interface ResolvedFfmpeg {
  readonly path: string;
  readonly origin: FfmpegOrigin;
}

export interface ResolveFfmpegOptions {
  /**
   * Where FFMPEG_PATH and PATH are read. Defaults to process.env, which camera(), file() and
   * url() search too, so resolveFfmpeg() names the binary they will run.
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Loads the optional package; replaceable so tests can simulate its absence. */
  readonly loadInstaller?: () => Promise<unknown>;
}

/** A regular file this process may execute. */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable called `name` in the PATH of `env`, like `command -v`. */
export async function findExecutable(name: string, { env = {} }: { env?: NodeJS.ProcessEnv } = {}): Promise<string | undefined> {
  const names = process.platform === 'win32' ? [name, `${name}.exe`] : [name];
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    // An empty PATH entry means the current directory to a shell; that is a trap, not a feature.
    if (dir === '' || !isAbsolute(dir)) continue;
    for (const candidate of names) {
      const path = join(dir, candidate);
      if (await isExecutable(path)) return path;
    }
  }
  return undefined;
}

async function importInstaller(): Promise<unknown> {
  // A dynamic import inside the caller's try: the package is optional and may be absent.
  return import('@ffmpeg-installer/ffmpeg' as string);
}

/** The `path` export of the installer package, whether it arrives as ESM or CommonJS default. */
function installerPath(module: unknown): string | undefined {
  const read = (value: unknown): string | undefined =>
    typeof value === 'object' && value !== null && typeof (value as { path?: unknown }).path === 'string'
      ? (value as { path: string }).path
      : undefined;
  return read(module) ?? read((module as { default?: unknown } | null)?.default);
}

/**
 * Finds ffmpeg: FFMPEG_PATH (which must then work: a wrong explicit setting is an error, not a
 * reason to silently use another binary), else the PATH, else @ffmpeg-installer/ffmpeg.
 */
export async function resolveFfmpeg({ env = process.env, loadInstaller = importInstaller }: ResolveFfmpegOptions = {}): Promise<ResolvedFfmpeg> {
  const explicit = env['FFMPEG_PATH'];
  if (explicit !== undefined && explicit !== '') {
    if (await isExecutable(explicit)) return { path: explicit, origin: 'FFMPEG_PATH' };
    throw new CamcastError(
      'FFMPEG_NOT_FOUND',
      `FFMPEG_PATH points at ${explicit} which is not executable: fix or unset FFMPEG_PATH`,
    );
  }
  const onPath = await findExecutable('ffmpeg', { env });
  if (onPath !== undefined) return { path: onPath, origin: 'PATH' };
  try {
    const path = installerPath(await loadInstaller());
    if (path !== undefined && (await isExecutable(path))) return { path, origin: '@ffmpeg-installer/ffmpeg' };
  } catch {
    // absent or broken for this platform: fall through to the one clear message
  }
  throw new CamcastError(
    'FFMPEG_NOT_FOUND',
    'ffmpeg not found: install it (apt-get install ffmpeg), set FFMPEG_PATH, or npm install @ffmpeg-installer/ffmpeg',
  );
}
