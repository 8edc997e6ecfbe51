/**
 * GpuContext.read() requests the map before the copy's error scopes resolve (one round trip, not
 * two): a failed copy must still throw its GPU error, and the staging buffer must go back to the
 * pool unmapped so the next read works.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createContext, gpuStatus } from '../lib/index.js';
import { isCI } from './helpers.js';

test('a failed copy throws E_GPU and leaves the pool usable', async () => {
  const status = await gpuStatus();
  if (!status.available) { assert.not.ok(isCI, `CI must have WebGPU: ${status.reason}`); return; }
  const ctx = await createContext();
  try {
    const good = ctx.upload(Uint32Array.from({ length: 64 }, (_, i) => i * 3), GPUBufferUsage.COPY_SRC);
    const bad = ctx.device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    bad.destroy(); // copying from a destroyed buffer is a validation error at submit
    for (let round = 0; round < 3; round++) {
      let code = '';
      try { await ctx.read([[bad, new Uint32Array(64)]]); } catch (e) { code = (e as { code?: string }).code ?? String(e); }
      assert.is(code, 'E_GPU', `round ${round}`);
      const out = new Uint32Array(64);
      await ctx.read([[good, out]]); // the same pooled staging size: must not be left mapped
      assert.equal(Array.from(out), Array.from({ length: 64 }, (_, i) => i * 3));
    }
  } finally {
    ctx.dispose();
  }
});

test.run();
