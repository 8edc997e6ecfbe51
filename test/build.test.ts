/**
 * Both build systems produce a working addon: the default one (cmake-js) loads here; the node-gyp
 * one (`npm run build:gyp` → build-gyp/rewardkit.node) is loaded in a child process through
 * REWARDKIT_NATIVE and must compute the same advantages as the JS reference.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nativeStatus } from '../lib/index.js';
import { packageRoot } from '../lib/paths.js';
import { isCI } from './helpers.js';

const check = `
  import { grpoAdvantages, nativeStatus } from ${JSON.stringify(join(packageRoot(), 'dist/lib/index.js'))};
  const o = { scores: [1, 0, 1, 1, 0.5, 2, -1, 0], mask: new Uint8Array(16).fill(1), shape: [8, 2], groups: [0, 1, 0, 1, 0, 1, 0, 1] };
  const a = await grpoAdvantages({ ...o, backend: 'native' }), b = await grpoAdvantages({ ...o, backend: 'js' });
  const same = a.tokenAdvantages.every((v, i) => v === b.tokenAdvantages[i]);
  console.log(JSON.stringify({ system: nativeStatus().info?.buildSystem, same }));
`;

function probe(path?: string): { system: string; same: boolean } {
  const env = { ...process.env };
  if (path) env['REWARDKIT_NATIVE'] = path;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', check], { encoding: 'utf8', env });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

if (nativeStatus().available) {
  test('the cmake-js build loads and agrees with js', () => {
    assert.equal(probe(), { system: 'cmake-js', same: true });
  });
} else if (isCI) test('the cmake-js build is present in CI', () => assert.unreachable(nativeStatus().reason));

const gyp = join(packageRoot(), 'build-gyp', 'rewardkit.node');
if (existsSync(gyp)) {
  test('the node-gyp build (binding.gyp, same sources) loads and agrees with js', () => {
    assert.equal(probe(gyp), { system: 'node-gyp', same: true });
  });
} else if (isCI) {
  test('the node-gyp build is present in CI', () => assert.unreachable(`${gyp} missing: run npm run build:gyp`));
} else {
  console.error('\n!!! SKIPPING the node-gyp build check: run `npm run build:gyp` first\n');
  test.skip('node-gyp build (not built)', () => {});
}
test('a missing addon leaves the library working: native says why, auto falls back to js', () => {
  const script = `
    import { grpoAdvantages, nativeStatus } from ${JSON.stringify(join(packageRoot(), 'dist/lib/index.js'))};
    const B = 8192, o = { scores: new Float32Array(B), mask: new Uint8Array(B * 16).fill(1), shape: [B, 16], groups: { size: 8 } };
    const auto = await grpoAdvantages(o);
    let code = '';
    try { await grpoAdvantages({ ...o, backend: 'native' }); } catch (e) { code = e.code; }
    console.log(JSON.stringify({ available: nativeStatus().available, reason: nativeStatus().reason, auto: auto.backend, code }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, REWARDKIT_NATIVE: '/nonexistent/rewardkit.node' } });
  assert.is(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.is(s.available, false);
  assert.match(s.reason, /nonexistent/);
  assert.is(s.auto, 'js');
  assert.is(s.code, 'E_BACKEND_UNAVAILABLE');
});

test.run();
