/** WGSL kernels on the WebGPU adapter (lavapipe here) against the JS reference, and binding splits. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createContext, disposeDefaultContext, gpuStatus, grpoAdvantages, type GpuContext } from '../lib/index.js';
import { agree, agreementSuite } from './agreement.js';
import { isCI, makeCase } from './helpers.js';

const status = await gpuStatus();
if (status.available) {
  agreementSuite('webgpu');

  // A context whose bindings cover 64 KiB forces every token pass to split into many chunks.
  let small: GpuContext | undefined;
  test('splits work across bindings (64 KiB cap) and still agrees', async () => {
    small = await createContext({ maxBindingSize: 64 * 1024 });
    for (const [i, spec] of [
      { rows: 300, cols: 130, tokenScores: true },
      { rows: 300, cols: 130, tokenScores: true, mask: 'f32' as const, sumMasked: true },
      { rows: 500, cols: 200, tokenScores: true, packed: true, groups: 'labels' as const },
      { rows: 3000, cols: 20, preset: 'trl' as const, scale: 'batch' as const },
    ].entries()) await agree(makeCase(spec, 500 + i), 'webgpu', { context: small });
    small.dispose();
  });

  test('the default context splits an input larger than maxStorageBufferBindingSize', async () => {
    const limit = status.adapter!.limits['maxStorageBufferBindingSize']!;
    // Token-level f32 scores and f32 output both exceed the binding limit (128 MiB on lavapipe).
    const rows = 1024, cols = Math.ceil((limit / 4) * 1.25 / rows);
    const options = makeCase({ rows, cols, tokenScores: true, groups: 'labels' }, 7);
    assert.ok((options.scores as Float32Array).byteLength > limit);
    await agree(options, 'webgpu');
  });

  test('a disposed context gives E_DEVICE_LOST, not a crash', async () => {
    const c = await createContext();
    c.dispose();
    try {
      await grpoAdvantages({ ...makeCase({ rows: 4, cols: 2 }, 1), backend: 'webgpu', context: c });
      assert.unreachable();
    } catch (e: any) { assert.is(e.code, 'E_DEVICE_LOST'); }
  });

  test('the runtime: adapter limits, pipeline cache, buffer pool, GPU errors as E_GPU', async () => {
    const c = await createContext();
    assert.is(c.device.limits.maxStorageBufferBindingSize, status.adapter!.limits['maxStorageBufferBindingSize']);
    assert.is(c.pipeline('grpo_row_adv', 'main'), c.pipeline('grpo_row_adv', 'main')); // cached by key
    const b = c.acquire(1000, GPUBufferUsage.STORAGE);
    c.release(b);
    assert.is(c.acquire(900, GPUBufferUsage.STORAGE), b); // same size class and usage: reused
    try { await c.pipeline('grpo_row_adv', 'no_such_entry'); assert.unreachable(); } catch (e: any) { assert.is(e.code, 'E_GPU'); }
    try {
      await c.submit((enc) => enc.copyBufferToBuffer(b, 0, b, 0, 4 * b.size)); // out of range: a validation error
      assert.unreachable();
    } catch (e: any) { assert.is(e.code, 'E_GPU', e.message); }
    c.dispose();
  });

  test.after(() => disposeDefaultContext());
} else if (isCI) {
  test('a WebGPU adapter is available in CI', () => assert.unreachable(`WebGPU unavailable: ${status.reason}`));
} else {
  console.error(`\n!!! SKIPPING WebGPU tests: ${status.reason}\n!!! (install mesa-vulkan-drivers from bookworm-backports: see README)\n`);
  test.skip('webgpu (no adapter)', () => {});
}
test.run();
