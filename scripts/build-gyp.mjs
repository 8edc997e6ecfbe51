#!/usr/bin/env node
/**
 * Proves binding.gyp: builds the addon with node-gyp in a temporary copy of binding.gyp,
 * scripts/native-sources.cjs and native/ (node_modules symlinked), so it never touches the cmake-js build/ tree,
 * and copies the result to build-gyp/rewardkit.node. Exits non-zero on failure.
 *
 * Node headers: --nodedir=<node's install prefix> when it ships include/node (Debian's nodejs and
 * the official tarballs do), so no headers are downloaded; override with npm_config_nodedir.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const outDir = join(root, 'build-gyp');
const outFile = join(outDir, 'rewardkit.node');

class BuildError extends Error {}
function die(message) {
  throw new BuildError(message);
}

const require = createRequire(join(root, 'package.json'));
let nodeGyp = '';
try {
  nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  console.error('rewardkit: node-gyp build failed: node-gyp is not installed (it is a devDependency: run npm install)');
  process.exit(1);
}

const prefix = dirname(dirname(process.execPath));
const nodedir = process.env.npm_config_nodedir || (existsSync(join(prefix, 'include', 'node', 'common.gypi')) ? prefix : '');

const work = mkdtempSync(join(tmpdir(), 'rewardkit-gyp-'));
let status = 1;
try {
  mkdirSync(join(work, 'scripts'));
  for (const f of ['binding.gyp', 'scripts/native-sources.cjs']) copyFileSync(join(root, f), join(work, f));
  cpSync(join(root, 'native'), join(work, 'native'), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'junction');

  const args = [nodeGyp, 'rebuild', '--release', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  console.log(`rewardkit: node ${args.map((a) => (a === nodeGyp ? 'node-gyp' : a)).join(' ')} (in ${work})`);
  // PATH gets this node first: binding.gyp runs `node scripts/native-sources.cjs` for its source list.
  const env = { ...process.env, PATH: `${dirname(process.execPath)}${process.platform === 'win32' ? ';' : ':'}${process.env.PATH ?? ''}` };
  const r = spawnSync(process.execPath, args, { cwd: work, stdio: 'inherit', env });
  if (r.error) die(r.error.message);
  if (r.status !== 0) die(`node-gyp exited with ${r.signal ? `signal ${r.signal}` : `code ${r.status}`}`);
  const built = join(work, 'build', 'Release', 'rewardkit.node');
  if (!existsSync(built)) die(`node-gyp succeeded but ${built} was not produced`);

  mkdirSync(outDir, { recursive: true });
  copyFileSync(built, outFile);
  const check = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(outFile)}).buildInfo()))`], {
    encoding: 'utf8',
  });
  if (check.status !== 0) die(`the built addon does not load: ${check.stderr}`);
  const info = JSON.parse(check.stdout);
  if (info.buildSystem !== 'node-gyp') die(`expected buildInfo().buildSystem 'node-gyp', got ${JSON.stringify(info.buildSystem)}`);
  console.log(`rewardkit: node-gyp build ok: ${outFile} ${check.stdout.trim()}`);
  status = 0;
} catch (err) {
  console.error(`rewardkit: node-gyp build failed: ${err instanceof BuildError ? err.message : err?.stack ?? err}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(status);
