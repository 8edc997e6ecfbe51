#!/usr/bin/env node
/**
 * Builds the native addon with cmake-js into build/Release/rewardkit.node.
 *
 *   node scripts/build-native.mjs            (npm install): a failure warns and exits 0, so the
 *                                            package still installs; the `js` and `webgpu`
 *                                            backends work without the addon.
 *   node scripts/build-native.mjs --strict   (npm run build:native): a failure exits 1.
 *   REWARDKIT_SKIP_NATIVE=1                  skips the build.
 *
 * On failure the reason goes to build/native-error.txt (read by lib/backends/native.ts to say why
 * the `native` backend is unavailable); a successful build removes that file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const strict = process.argv.includes('--strict');
const buildDir = join(root, 'build');
const errorFile = join(buildDir, 'native-error.txt');
const addonPath = join(buildDir, 'Release', 'rewardkit.node');
const retry = 'npm run build:native (in the rewardkit package) or npm rebuild rewardkit';

if (process.env.REWARDKIT_SKIP_NATIVE === '1') {
  console.log('rewardkit: REWARDKIT_SKIP_NATIVE=1, not building the native addon (backends js and webgpu still work).');
  process.exit(0);
}

/** Runs a command, echoing its output, and resolves with its exit code and the tail of its output. */
function run(command, args) {
  return new Promise((resolve) => {
    let tail = '';
    const keep = (chunk, stream) => {
      stream.write(chunk);
      tail = (tail + chunk.toString()).slice(-8000);
    };
    let child;
    try {
      child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: -1, tail: String(err?.message ?? err) });
      return;
    }
    child.stdout.on('data', (c) => keep(c, process.stdout));
    child.stderr.on('data', (c) => keep(c, process.stderr));
    child.on('error', (err) => resolve({ code: -1, tail: tail + String(err?.message ?? err) }));
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, tail }));
  });
}

function failed(what, detail) {
  // native-error.txt: what failed, the lines that look like the cause, then the output's tail.
  const text = (detail ?? '').trim();
  const causes = text
    .split('\n')
    .filter((l) => /\berror\b|fatal|not found|could not|cannot|ENOENT/i.test(l) && !/^ERROR OMG/.test(l))
    .filter((l, i, all) => all.indexOf(l) === i)
    .slice(0, 20);
  const reason = [what, ...(causes.length ? ['', ...causes] : []), ...(text ? ['', '--- output (tail) ---', text] : [])].join('\n');
  try {
    mkdirSync(buildDir, { recursive: true });
    writeFileSync(errorFile, `${reason}\n`);
  } catch {
    // The warning below still says what happened.
  }
  const line = '-'.repeat(78);
  console.error(
    [
      line,
      `rewardkit: building the native addon failed: ${what}`,
      `The 'native' backend will be unavailable; the 'js' and 'webgpu' backends still work.`,
      `Building needs CMake >= 3.19 and a C++17 compiler (g++, clang++ or MSVC).`,
      `Retry with: ${retry}`,
      `Details: ${relative(process.cwd(), errorFile) || errorFile}. Set REWARDKIT_SKIP_NATIVE=1 to skip the build.`,
      line,
    ].join('\n'),
  );
  process.exit(strict ? 1 : 0);
}

const require = createRequire(join(root, 'package.json'));
let cmakeJs;
try {
  cmakeJs = join(dirname(require.resolve('cmake-js/package.json')), 'bin', 'cmake-js');
} catch (err) {
  failed('the cmake-js package is not installed', String(err?.message ?? err));
}

const cmake = spawnSync('cmake', ['--version'], { encoding: 'utf8' });
if (cmake.error || cmake.status !== 0) {
  failed('CMake was not found on PATH', String(cmake.error?.message ?? cmake.stderr ?? ''));
}

const args = [
  cmakeJs, 'compile',
  '--directory', root,
  '--out', buildDir,
  '--config', 'Release',
  '--CDNAPI_VERSION=8',
  `--CDNODE_EXECUTABLE=${process.execPath}`,
];
console.log(`rewardkit: building the native addon (cmake-js compile, Release)`);
const result = await run(process.execPath, args);
if (result.code !== 0) {
  failed(`cmake-js exited with ${result.signal ? `signal ${result.signal}` : `code ${result.code}`}`, result.tail);
}
if (!existsSync(addonPath)) failed(`cmake-js succeeded but ${addonPath} was not produced`, result.tail);

// Load it once in a separate process: a build that cannot be loaded is a failed build.
const check = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(addonPath)}).buildInfo()))`], {
  encoding: 'utf8',
});
if (check.status !== 0) failed(`the built addon does not load (${addonPath})`, `${check.stderr ?? ''}${check.error?.message ?? ''}`);

rmSync(errorFile, { force: true });
console.log(`rewardkit: native addon built: ${addonPath} ${check.stdout.trim()}`);
