/**
 * Reward heads on native and WebGPU against the JS reference: random shapes (K = 1, B = 1, H not a
 * multiple of any tile, widths across tile edges), f32/f16/bf16 hidden states, every pooling (left
 * and right padding, all-pad rows, NaN/Inf in padding that must not leak), linear-only, MLP-only and
 * mixed ensembles, bindings split by a 64 KiB maxBindingSize, one large native case, determinism,
 * and a fuzz of edge values.
 *
 * Tolerance: a per-score bound derived in test/heads-helpers.ts (errorBound): the worst case of an
 * f32 sum of H products in any order, (H + T + 2)·2^-24·Σ_i|w2_i|·1.13·(|b1_i| + Σ_j|W1_ij·ĥ_j|),
 * plus, on WebGPU, the f32 epilogue sums and f32 exp/tanh/erf, plus 2·2^-24·|r| for the rounding of
 * the result. Typical differences are ~100× smaller; a wrong index or operand is O(|r|).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createContext, disposeDefaultContext, gpuStatus, nativeStatus, RewardkitError, scoreHeads, type GpuContext, type ScoreHeadsOptions } from '../lib/index.js';
import { gauss, isCI, rng } from './helpers.js';
import { encode, errorBound, outside, randomFloats, randomHeads, type Concrete } from './heads-helpers.js';

const gpu = await gpuStatus();
const backends: Concrete[] = [];
if (nativeStatus().available) backends.push('native');
else if (isCI) test('native backend available (CI)', () => assert.unreachable(nativeStatus().reason));
if (gpu.available) backends.push('webgpu');
else if (isCI) test('webgpu backend available (CI)', () => assert.unreachable(gpu.reason));

let small: GpuContext | undefined;

async function agree(backend: Concrete, o: ScoreHeadsOptions, what: string, context?: GpuContext): Promise<void> {
  const ref = await scoreHeads({ ...o, backend: 'js' });
  const got = await scoreHeads({ ...o, backend, ...(context ? { context } : {}) });
  assert.is(got.backend, backend);
  assert.is(outside(got.scores, ref.scores, errorBound(o, backend)), '', `${backend} ${what}`);
  if (ref.index) assert.equal([...got.index!], [...ref.index], `${backend} ${what} index`);
}

/** A [B, T, H] problem with ragged rows, left or right padded, garbage (NaN/Inf) in the padding. */
function padded(seed: number, B: number, T: number, H: number, dtype: 'f32' | 'f16' | 'bf16', left: boolean) {
  const r = rng(seed);
  const values = randomFloats(r, B * T * H);
  const mask = new Uint8Array(B * T), ids = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const len = b === 1 ? 0 : 1 + Math.floor(r() * T); // row 1: all padding
    for (let i = 0; i < len; i++) { const t = left ? T - 1 - i : i; mask[b * T + t] = 1; ids[b * T + t] = 1 + Math.floor(r() * 1000); }
    for (let t = 0; t < T; t++) {
      // The all-pad row keeps tokens 0 and T − 1 finite: transformers reads token 0, OpenRLHF T − 1.
      if (mask[b * T + t] || (b === 1 && (t === 0 || t === T - 1))) continue;
      for (let j = 0; j < H; j++) values[(b * T + t) * H + j] = j % 2 ? NaN : -Infinity;
    }
  }
  return { hidden: encode(values, dtype), mask, ids };
}

for (const backend of backends) {
  const ctx = () => (backend === 'webgpu' ? small : undefined);

  test(`${backend}: random shapes × dtypes, [B, H]`, async () => {
    const shapes: Array<[number, number, number, number]> = backend === 'native'
      ? [[1, 1, 1, 1], [1, 7, 3, 1], [5, 13, 17, 3], [64, 100, 130, 4], [97, 257, 300, 16], [300, 513, 64, 2]]
      : [[1, 1, 1, 1], [1, 7, 3, 1], [5, 13, 17, 3], [64, 100, 130, 4], [131, 64, 129, 16]];
    let seed = 100;
    for (const [B, H, W, K] of shapes) {
      for (const dtype of ['f32', 'f16', 'bf16'] as const) {
        const r = rng(seed++);
        const hidden = encode(randomFloats(r, B * H), dtype);
        const heads = randomHeads(r, K, H, W);
        await agree(backend, { hidden, dtype, shape: [B, H], heads }, `B ${B} H ${H} W ${W} K ${K} ${dtype}`);
      }
    }
  });

  test(`${backend}: linear-only, MLP-only (each activation), widths across tile edges, K = 16`, async () => {
    const r = rng(7);
    const B = 70, H = 90;
    const hidden = randomFloats(r, B * H);
    await agree(backend, { hidden, shape: [B, H], heads: randomHeads(r, 16, H, 1, 'linear') }, 'linear × 16');
    await agree(backend, { hidden, shape: [B, H], heads: randomHeads(r, 17, H, 1, 'linear') }, 'linear × 17');
    for (const activation of ['silu', 'gelu', 'relu', 'tanh'] as const) {
      for (const W of [1, 16, 127, 128, 129, 256]) {
        const heads = [{ kind: 'mlp' as const, w1: randomFloats(r, W * H, 0.3), b1: randomFloats(r, W), w2: randomFloats(r, W), b2: 0.25, activation }];
        await agree(backend, { hidden, shape: [B, H], heads }, `${activation} W ${W}`);
      }
    }
  });

  test(`${backend}: pooling last / mask / index / mean, left and right padding, NaN in padding does not leak`, async () => {
    let seed = 300;
    for (const dtype of ['f32', 'f16', 'bf16'] as const) {
      for (const left of [false, true]) {
        const B = 6, T = 9, H = 40;
        const { hidden, mask, ids } = padded(seed++, B, T, H, dtype, left);
        const heads = randomHeads(rng(seed++), 3, H, 20);
        const shape = [B, T, H] as const;
        const poolings = [
          { kind: 'last' as const, inputIds: ids, padTokenId: 0 },
          { kind: 'mask' as const, mask },
          { kind: 'index' as const, index: Array.from({ length: B }, (_, b) => Math.max(0, mask.subarray(b * T, (b + 1) * T).indexOf(1))) },
          { kind: 'mean' as const, mask },
        ];
        for (const pooling of poolings) {
          const o: ScoreHeadsOptions = { hidden, dtype, shape, pooling, heads };
          const got = await scoreHeads({ ...o, backend, ...(ctx() ? { context: ctx()! } : {}) });
          if (pooling.kind !== 'index') {
            for (let i = 0; i < got.scores.length; i++) {
              assert.ok(Number.isFinite(got.scores[i]!), `${backend} ${pooling.kind} ${dtype} left=${left}: [${i}] = ${got.scores[i]}`);
            }
          }
          await agree(backend, o, `${pooling.kind} ${dtype} ${left ? 'left' : 'right'}`, ctx());
        }
      }
    }
    // Mean over every token (no mask).
    const r = rng(9);
    await agree(backend, { hidden: randomFloats(r, 4 * 5 * 33), shape: [4, 5, 33], pooling: { kind: 'mean' }, heads: randomHeads(r, 2, 33, 9) }, 'mean, no mask', ctx());
  });

  test(`${backend}: huge and tiny values, deterministic results`, async () => {
    const r = rng(11);
    const B = 20, H = 50;
    const hidden = randomFloats(r, B * H);
    for (let j = 0; j < H; j++) { hidden[j] = 1e15 * gauss(r); hidden[H + j] = 1e-30 * gauss(r); }
    const heads = randomHeads(r, 4, H, 40);
    await agree(backend, { hidden, shape: [B, H], heads }, 'huge/tiny');
    const a = await scoreHeads({ hidden, shape: [B, H], heads, backend });
    const b = await scoreHeads({ hidden, shape: [B, H], heads, backend });
    assert.equal([...a.scores], [...b.scores], 'same inputs, same bits');
  });
}

if (backends.includes('webgpu')) {
  test('webgpu: bindings split at maxBindingSize 65,536 (rows of hidden states, W tiles, partials, token ranges)', async () => {
    small = await createContext({ maxBindingSize: 65536 });
    let seed = 500;
    // [B, H] rows: 400 × 100 f32 = 160 KB → several row chunks; W: 2 MLP heads of 200 → 4 tiles, one per chunk.
    for (const dtype of ['f32', 'bf16'] as const) {
      const r = rng(seed++);
      const hidden = encode(randomFloats(r, 400 * 100), dtype);
      const heads = [...randomHeads(r, 2, 100, 1, 'linear'), ...randomHeads(r, 2, 100, 200, 'mlp'), { kind: 'mlp' as const, w1: randomFloats(r, 200 * 100, 0.1), w2: randomFloats(r, 200) }];
      await agree('webgpu', { hidden, dtype, shape: [400, 100], heads }, `split [B, H] ${dtype}`, small);
    }
    // Mean pooling where one row (T·H·4 = 120 KB) exceeds a binding: token ranges of one row.
    const r = rng(seed++);
    const B = 3, T = 300, H = 100;
    const mask = Uint8Array.from({ length: B * T }, (_, i) => (i % 7 ? 1 : 0));
    const hidden = randomFloats(r, B * T * H);
    for (let i = 0; i < B * T; i++) if (!mask[i]) hidden.fill(NaN, i * H, (i + 1) * H);
    await agree('webgpu', { hidden, shape: [B, T, H], pooling: { kind: 'mean', mask }, heads: randomHeads(r, 3, H, 50) }, 'split mean pooling', small);
    await agree('webgpu', { hidden, shape: [B, T, H], pooling: { kind: 'mask', mask }, heads: randomHeads(r, 3, H, 50) }, 'split gather', small);
    // A tile of W that cannot fit one binding is a typed error, not a wrong result.
    await scoreHeads({ hidden: new Float32Array(1000), shape: [1, 1000], heads: randomHeads(r, 1, 1000, 4, 'mlp'), backend: 'webgpu', context: small })
      .then(() => assert.unreachable('expected E_RANGE'), (e: RewardkitError) => assert.is(e.code, 'E_RANGE', e.message));
  });
}

if (backends.includes('native')) {
  test('native: a large case (B 2,048 × H 1,024, 4 heads of width 700, bf16, mean pooling over T 4)', async () => {
    const r = rng(77);
    const B = 2048, T = 4, H = 1024;
    const values = randomFloats(r, B * T * H);
    const mask = Uint8Array.from({ length: B * T }, () => (r() < 0.8 ? 1 : 0));
    const heads = randomHeads(r, 4, H, 1, 'linear').map((h, k) => (k % 2 ? h : { kind: 'mlp' as const, w1: randomFloats(r, 700 * H, 0.03), w2: randomFloats(r, 700, 0.04), activation: 'gelu' as const }));
    await agree('native', { hidden: encode(values, 'bf16'), dtype: 'bf16', shape: [B, T, H], pooling: { kind: 'mean', mask }, heads }, 'large');
  });
}

for (const backend of backends) {
  test(`${backend}: fuzz of edge values and shapes agrees with js`, async () => {
    const arb = fc.record({
      B: fc.integer({ min: 1, max: 9 }), H: fc.integer({ min: 1, max: 40 }), K: fc.integer({ min: 1, max: 4 }), W: fc.integer({ min: 1, max: 140 }),
      dtype: fc.constantFrom('f32', 'f16', 'bf16'), special: fc.constantFrom(0, 1e20, 1e-20, -3), seed: fc.integer({ min: 0, max: 1e6 }),
    });
    await fc.assert(fc.asyncProperty(arb, async (c) => {
      const r = rng(c.seed);
      const v = randomFloats(r, c.B * c.H);
      if (c.special) v[0] = c.dtype === 'f16' ? Math.sign(c.special) * Math.min(Math.abs(c.special), 6e4) : c.special; // finite in every dtype
      const o: ScoreHeadsOptions = { hidden: encode(v, c.dtype as 'f32'), dtype: c.dtype as 'f32', shape: [c.B, c.H], heads: randomHeads(r, c.K, c.H, c.W) };
      const ref = await scoreHeads({ ...o, backend: 'js' });
      const got = await scoreHeads({ ...o, backend });
      assert.is(outside(got.scores, ref.scores, errorBound(o, backend)), '');
    }), { numRuns: backend === 'webgpu' ? 60 : 200, seed: 7 });
  });
}

test.after(() => { small?.dispose(); disposeDefaultContext(); });
test.run();
