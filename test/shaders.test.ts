/** Shader sources: every `//! include` resolves (no GPU needed). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { shaderSource } from '../lib/backends/webgpu/context.js';
import { packageRoot } from '../lib/paths.js';

test('every shader expands its includes', () => {
  const shaders = readdirSync(join(packageRoot(), 'shaders')).filter((f) => f.endsWith('.wgsl')).map((f) => f.slice(0, -5));
  assert.ok(shaders.length > 10);
  for (const s of shaders) {
    const code = shaderSource(s);
    assert.not.match(code, /^\/\/! include/m, s);
    assert.ok(code.includes('@compute'), `${s} has an entry point`);
  }
  assert.match(shaderSource('grpo_broadcast'), /fn row_of\(t: u32\)/);
});

test.run();
