/** The `rewardkit` command: doctor reports every backend; demo runs the main job and agrees. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../lib/paths.js';

const cli = join(packageRoot(), 'dist', 'lib', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

test('doctor --json lists the three backends and the thresholds', () => {
  const r = run('doctor', '--json');
  assert.is(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.is(s.js.available, true);
  assert.type(s.native.available, 'boolean');
  assert.type(s.webgpu.available, 'boolean');
  if (!s.native.available) assert.ok(s.native.reason.length > 0);
  if (s.webgpu.available) assert.ok(s.webgpu.adapter.limits.maxStorageBufferBindingSize > 0);
  assert.ok(s.thresholds.grpoAdvantages.native > 0);
});

test('doctor prints a readable report', () => {
  const r = run('doctor');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^js\s+available/m);
  assert.match(r.stdout, /^native\s+(available|UNAVAILABLE)/m);
  assert.match(r.stdout, /^webgpu\s+(available|UNAVAILABLE)/m);
});

test('demo runs every available backend and they agree', () => {
  const r = run('demo');
  assert.is(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^js\s+[\d.]+/m);
  assert.match(r.stdout, /all backends agree/);
});

test('an unknown command prints usage and exits 2', () => {
  const r = run('frobnicate');
  assert.is(r.status, 2);
  assert.match(r.stdout, /usage: rewardkit/);
});

test.run();
