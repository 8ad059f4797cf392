// tsc compiles TypeScript only; the viewer page is a plain HTML file shipped beside its code.
import { copyFileSync, mkdirSync } from 'node:fs';

const assets = [['src/http/viewer.html', 'dist/http/viewer.html']];
for (const [from, to] of assets) {
  mkdirSync(to.slice(0, to.lastIndexOf('/')), { recursive: true });
  copyFileSync(from, to);
}
