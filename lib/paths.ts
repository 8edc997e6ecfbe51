import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;
/** The package root (holds package.json, shaders/, build/), found by walking up from this file. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'rewardkit') return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('rewardkit: cannot find the package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
