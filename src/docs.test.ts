import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parseCliArgs } from './cli/args.js';
import { ErrorCodes, isCamcastError } from './errors.js';
import { validateEncodeOptions } from './sources/encode-options.js';

const API_MD = readFileSync(new URL('../docs/api.md', import.meta.url), 'utf8');
const INDEX_DTS = fileURLToPath(new URL('./index.d.ts', import.meta.url));

function publicApi() {
  const program = ts.createProgram([INDEX_DTS], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, types: ['node'] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(INDEX_DTS)!);
  assert.ok(moduleSymbol, 'dist/index.d.ts is a module');
  return { checker, exports: checker.getExportsOfModule(moduleSymbol) };
}

/** Every name dist/index.d.ts exports, values and types alike, as a TypeScript user sees them. */
function declaredExports(): string[] {
  return publicApi().exports.map((s) => s.name);
}

/** Exported types that are unions of string literals: SourceState -> ['stopped', 'starting', ...]. */
function literalUnions(): Map<string, string[]> {
  const { checker, exports } = publicApi();
  const unions = new Map<string, string[]>();
  for (const symbol of exports) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    if (!(target.flags & ts.SymbolFlags.TypeAlias)) continue;
    const type = checker.getDeclaredTypeOfSymbol(target);
    if (!type.isUnion() || !type.types.every((t) => t.isStringLiteral())) continue;
    unions.set(symbol.name, type.types.map((t) => (t as ts.StringLiteralType).value));
  }
  return unions;
}

/** The identifiers named in backticks in the headings: `createServer(options)` -> createServer. */
function headingNames(): Set<string> {
  const names = new Set<string>();
  for (const line of API_MD.split('\n')) {
    if (!/^#{2,4} /.test(line)) continue;
    for (const [, code] of line.matchAll(/`([^`]+)`/g)) {
      const name = /^[A-Za-z_$][\w$]*(?=$|\()/.exec(code!)?.[0];
      if (name) names.add(name);
    }
  }
  return names;
}

function jsBlocks(): string[] {
  return [...API_MD.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe('docs/api.md', () => {
  test('every export of dist/index.js and dist/index.d.ts has a heading that names it', async () => {
    const runtime = Object.keys(await import('./index.js'));
    const declared = declaredExports();
    assert.ok(declared.length > runtime.length, 'types were found too');
    for (const name of runtime) assert.ok(declared.includes(name), `${name} is typed`);
    const documented = headingNames();
    const missing = declared.filter((name) => !documented.has(name));
    assert.deepEqual(missing, [], `undocumented exports: add a heading naming each to docs/api.md`);
  });

  test('every name a heading documents is exported (no stale entries)', () => {
    const declared = new Set(declaredExports());
    const stale = [...headingNames()].filter((name) => !declared.has(name));
    assert.deepEqual(stale, []);
  });

  test('every value of an exported string-literal union is quoted in the docs', () => {
    const unions = literalUnions();
    assert.ok(unions.has('SourceState') && unions.has('SourceKind'), [...unions.keys()].join());
    for (const [name, values] of unions) {
      for (const value of values) assert.ok(API_MD.includes(`'${value}'`) || API_MD.includes(`\`${value}\``), `${name}: '${value}' is not in docs/api.md`);
    }
  });

  test('every error code is in the table of codes', () => {
    for (const code of ErrorCodes) assert.match(API_MD, new RegExp(`^\\| \`${code}\` \\|`, 'm'), code);
  });

  test('every js snippet parses as an ES module and imports only real exports', async () => {
    const blocks = jsBlocks();
    assert.ok(blocks.length >= 8, `found ${blocks.length} snippets`);
    const exported = new Set(Object.keys(await import('./index.js')));
    const dir = mkdtempSync(join(tmpdir(), 'camcast-docs-'));
    try {
      blocks.forEach((code, i) => {
        const file = join(dir, `snippet-${i}.mjs`);
        writeFileSync(file, code);
        const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 30_000 });
        assert.equal(check.status, 0, `snippet ${i} does not parse:\n${code}\n${check.stderr}`);
        for (const [, list] of code.matchAll(/import \{([^}]*)\} from 'camcast'/g)) {
          for (const name of list!.split(',').map((n) => n.trim()).filter(Boolean)) {
            assert.ok(exported.has(name), `snippet ${i} imports ${name}, which camcast does not export`);
          }
        }
        const namespace = /import \* as (\w+) from 'camcast'/.exec(code)?.[1];
        if (namespace) {
          for (const [, name] of code.matchAll(new RegExp(`\\b${namespace}\\.(\\w+)`, 'g'))) {
            assert.ok(exported.has(name!), `snippet ${i} uses ${namespace}.${name}, which camcast does not export`);
          }
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The text of every dist module dist/index.js reaches through relative imports. */
function libraryModules(): string[] {
  const seen = new Set<string>();
  const queue = [fileURLToPath(new URL('./index.js', import.meta.url))];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+\.js)'/g)) queue.push(join(dirname(file), spec!));
  }
  return [...seen].map((file) => readFileSync(file, 'utf8'));
}

describe('docs/api.md against the code', () => {
  test('every environment variable the library reads is in the list at the top', () => {
    const intro = API_MD.slice(0, API_MD.indexOf('\n## '));
    const read = new Set<string>();
    for (const module of libraryModules()) {
      // Messages (template literals) may show process.env in advice, e.g. Number(process.env.PORT).
      const text = module.replace(/`(?:[^`\\]|\\.)*`/g, '``');
      for (const [, dotted, quoted] of text.matchAll(/process\.env(?:\.(\w+)|\[['"](\w+)['"]\])/g)) read.add(dotted ?? quoted!);
      // The whole environment handed on: ffmpeg is looked up in it (resolveFfmpeg) and run with it.
      if (/env: process\.env\b|env = process\.env\b/.test(text)) ['FFMPEG_PATH', 'PATH'].forEach((name) => read.add(name));
    }
    assert.ok(read.has('CAMCAST_JPEG_ENCODER') && read.has('PATH'), [...read].join());
    for (const name of read) assert.ok(intro.includes(`\`${name}\``), `the library reads ${name}: name it where docs/api.md lists what it reads`);
  });

  test('the EncodeOptions ranges are the ones the sources enforce, and the command-line ranges the ones it enforces', () => {
    const number = (pattern: RegExp) => {
      const match = pattern.exec(API_MD);
      assert.ok(match, `docs/api.md says ${pattern}`);
      return match.slice(1).map(Number);
    };
    const [minSide, maxSide] = number(/- `width`, `height`: whole numbers from (\d+) to (\d+)/);
    const [maxFps] = number(/- `fps`: a number above 0, at most (\d+)/);
    const [minQuality, maxQuality] = number(/- `quality`: a whole number from (\d+) to (\d+)/);
    const refused = (options: object) => assert.throws(() => validateEncodeOptions(options), (e: unknown) => isCamcastError(e, 'BAD_OPTION'), JSON.stringify(options));
    for (const name of ['width', 'height']) {
      validateEncodeOptions({ [name]: minSide });
      validateEncodeOptions({ [name]: maxSide });
      refused({ [name]: minSide! - 1 });
      refused({ [name]: maxSide! + 1 });
    }
    validateEncodeOptions({ fps: 0.01 });
    validateEncodeOptions({ fps: maxFps });
    refused({ fps: 0 });
    refused({ fps: maxFps! + 0.01 });
    validateEncodeOptions({ quality: minQuality });
    validateEncodeOptions({ quality: maxQuality });
    refused({ quality: minQuality! - 1 });
    refused({ quality: maxQuality! + 1 });

    const [maxCliSide, , minCliFps, maxCliFps] = number(/`--size` from 16x16 to (\d+)x(\d+) and `--fps` from (\d+) to (\d+)/);
    assert.equal(parseCliArgs(['--size', `${maxCliSide}x${maxCliSide}`]).width, maxCliSide);
    assert.throws(() => parseCliArgs(['--size', `${maxCliSide! + 1}x16`]));
    assert.equal(parseCliArgs(['--fps', String(minCliFps)]).fps, minCliFps);
    assert.equal(parseCliArgs(['--fps', String(maxCliFps)]).fps, maxCliFps);
    assert.throws(() => parseCliArgs(['--fps', String(maxCliFps! + 1)]));
    assert.throws(() => parseCliArgs(['--fps', String(minCliFps! - 0.5)]));
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    assert.match(readme, new RegExp(`\\| \`--fps N\` \\|[^\\n]*${minCliFps}-${maxCliFps} \\(the library's \`fps\` option takes any number above 0 up to ${maxFps}\\)`));
  });
});

describe('README.md', () => {
  const root = new URL('../', import.meta.url);
  test('opens with exactly the two command lines, and .ci/run runs the same test line', () => {
    const [run, testLine, blank] = readFileSync(new URL('README.md', root), 'utf8').split('\n');
    assert.equal(run!.trim(), 'npm install && npm start');
    assert.equal(testLine!.trim(), 'npm install && npm test');
    assert.equal(blank, '');
    const ci = readFileSync(new URL('.ci/run', root), 'utf8').trim().split('\n');
    assert.equal(ci.at(-1), testLine!.trim());
  });
});
