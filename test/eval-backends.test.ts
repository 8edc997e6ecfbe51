/**
 * bradleyTerry and epicDistance on native and WebGPU against the JS reference: random inputs,
 * edge cases (ties, NaN, huge differences), binding splits, and a fast-check fuzz of malformed input.
 *
 * Tolerances (|a − e| <= abs + rel·|e|), native/webgpu against js on the same f32 inputs:
 * - bradleyTerry native: per pair rel 1e-6 / abs 1e-7 (f64 math with exp and log1p polynomials
 *   within 3e-12 relative, then one f32 rounding: at most 1 f32 ulp off); mean loss rel 1e-9 (f64
 *   sums in another order of per-pair losses within 3e-12, all >= 0 so nothing cancels).
 *   The vector kernel runs 8 pairs a block (two 4-lane vectors on AVX2, one 8-lane on AVX-512) and
 *   the last 1–7 pairs through a padded block: sizes around 8 and the 16,384-pair chunk, every edge
 *   value in every lane, and bit-identical outputs whatever a pair's position are tested below.
 * - bradleyTerry WebGPU: per pair rel 2e-5 / abs 1e-6 (f32 exp/log, a few ulps each, and f32
 *   Δ = c − r); mean loss rel 1e-5 (f32 workgroup tree sums, f64 across workgroups); accuracy exact.
 * - epicDistance native: abs 1e-6 on D (f64 one-pass moments; the canonical rewards have mean ≈ 0).
 * - epicDistance WebGPU: abs 3e-4 on D (SPEC.md §2.7: f32 canonicalisation and moments; near D = 0
 *   the sqrt amplifies the rounding of ρ), canonical tables rel/abs 1e-5 (f32 sums of S terms).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { bradleyTerry, createContext, disposeDefaultContext, epicDistance, gpuStatus, nativeStatus, RewardkitError, type GpuContext } from '../lib/index.js';
import { gauss, isCI, mismatch, rng } from './helpers.js';

type B = 'native' | 'webgpu';
const have: B[] = [];
if (nativeStatus().available) have.push('native'); else if (isCI) test('native addon is built', () => assert.unreachable(nativeStatus().reason));
const gpu = await gpuStatus();
let small: GpuContext | undefined;
if (gpu.available) { have.push('webgpu'); small = await createContext({ maxBindingSize: 65536 }); } else if (isCI) test('webgpu is available', () => assert.unreachable(gpu.reason));

const tol = { native: { rel: 1e-6, abs: 1e-7, loss: 1e-9, d: 1e-6 }, webgpu: { rel: 2e-5, abs: 1e-6, loss: 1e-5, d: 3e-4 } };

function pairs(seed: number, n: number, scale: number): { chosen: Float32Array; rejected: Float32Array; margin: Float32Array } {
  const r = rng(seed), chosen = new Float32Array(n), rejected = new Float32Array(n), margin = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    chosen[i] = gauss(r) * scale; rejected[i] = r() < 0.1 ? chosen[i]! : gauss(r) * scale; margin[i] = r() * 2;
  }
  return { chosen, rejected, margin };
}

for (const b of have) {
  test(`bradleyTerry ${b} vs js: sizes, margins, smoothing, edge values`, async () => {
    const t = tol[b];
    for (const [n, scale, seed] of [[1, 1, 1], [7, 3, 2], [1000, 5, 3], [70_000, 2, 4], [b === 'native' ? 1_200_000 : 200_000, 1, 5]] as const) {
      const d = pairs(seed, n, scale);
      for (const opts of [{}, { margin: d.margin }, { margin: 0.5, labelSmoothing: 0.1, centerCoef: 0.01 }]) {
        const js = await bradleyTerry({ ...d, ...opts, margin: (opts as { margin?: Float32Array | number }).margin, backend: 'js' });
        for (const ctx of b === 'webgpu' && n < 100_000 ? [undefined, small] : [undefined]) {
          const o = await bradleyTerry({ ...d, ...opts, margin: (opts as { margin?: Float32Array | number }).margin, backend: b, context: ctx });
          assert.is(mismatch(o.probabilities, js.probabilities, t.rel, t.abs), '', `${n} prob`);
          assert.is(mismatch(o.losses, js.losses, t.rel, t.abs), '', `${n} loss`);
          assert.ok(Math.abs(o.loss - js.loss) <= t.loss * Math.abs(js.loss) + 1e-7, `${n} mean loss ${o.loss} vs ${js.loss}`);
          assert.is(o.accuracy, js.accuracy);
          assert.is(o.accuracyTiesHalf, js.accuracyTiesHalf);
        }
      }
    }
    const e = { chosen: new Float32Array([1e4, -1e4, 0, NaN, 3e38, 5]), rejected: new Float32Array([0, 0, 0, 1, -3e38, 5]), margin: new Float32Array([0, 0, 90, 0, 0, 1e3]) };
    const js = await bradleyTerry({ ...e, backend: 'js' }), o = await bradleyTerry({ ...e, backend: b });
    assert.is(mismatch(o.losses, js.losses, t.rel, t.abs), '', 'edge losses');
    assert.is(mismatch(o.probabilities, js.probabilities, t.rel, t.abs), '', 'edge probs');
    assert.ok(Number.isNaN(o.loss));
    assert.is(o.accuracy, js.accuracy);
  });

  test(`bradleyTerry ${b} vs js: sizes around the 8-pair block and the 16,384-pair chunk`, async () => {
    const t = tol[b];
    for (const n of [1, 2, 7, 8, 9, 15, 16, 17, 23, 16_383, 16_384, 16_385, 16_391, 32_775]) {
      const d = pairs(100 + n, n, 3);
      for (const opts of [{}, { margin: d.margin }, { margin: -0.75, labelSmoothing: 0.2 }]) {
        const args = { chosen: d.chosen, rejected: d.rejected, ...opts };
        const js = await bradleyTerry({ ...args, backend: 'js' }), o = await bradleyTerry({ ...args, backend: b });
        assert.is(mismatch(o.probabilities, js.probabilities, t.rel, t.abs), '', `${n} prob`);
        assert.is(mismatch(o.losses, js.losses, t.rel, t.abs), '', `${n} loss`);
        assert.ok(Math.abs(o.loss - js.loss) <= t.loss * Math.abs(js.loss) + 1e-7, `${n} mean loss ${o.loss} vs ${js.loss}`);
        assert.is(o.accuracy, js.accuracy);
        assert.is(o.accuracyTiesHalf, js.accuracyTiesHalf);
      }
    }
  });

  if (b === 'native') {
    test('bradleyTerry native: edge values in every lane (huge, tiny, ±0, ±inf, NaN, margins, smoothing)', async () => {
      const t = tol.native;
      const close = (a: number, e: number, rel: number): boolean =>
        Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= rel * Math.abs(e) + 1e-7;
      const finite = [3e38, 1e30, 1e4, 745, 709, 100, 88, 20, 1, 1e-7, 1e-30, 1e-38, 1e-45];
      const grids = [[...finite, ...finite.map((v) => -v), 0, -0], [NaN, Infinity, -Infinity, 0, 1, -1e30, 3e38]];
      for (const values of grids) {
        const k = values.length, n = k * k;  // every (chosen, rejected) pair: n is not a multiple of 8
        const chosen = new Float32Array(n), rejected = new Float32Array(n), margin = new Float32Array(n);
        for (let i = 0; i < n; i++) { chosen[i] = values[i % k]!; rejected[i] = values[Math.floor(i / k)]!; margin[i] = values[(i * 7 + 3) % k]!; }
        for (const opts of [{}, { margin }, { margin: 0.5 }, { margin, labelSmoothing: 0.1 }, { margin: -2, labelSmoothing: 0.3 }]) {
          const js = await bradleyTerry({ chosen, rejected, ...opts, backend: 'js' });
          const o = await bradleyTerry({ chosen, rejected, ...opts, backend: 'native' });
          const what = `${k}×${k} ${JSON.stringify(opts).slice(0, 40)}`;
          assert.is(mismatch(o.probabilities, js.probabilities, t.rel, t.abs), '', `${what} prob`);
          assert.is(mismatch(o.losses, js.losses, t.rel, t.abs), '', `${what} loss`);
          assert.ok(close(o.loss, js.loss, t.loss), `${what} mean loss ${o.loss} vs ${js.loss}`);
          assert.is(o.accuracy, js.accuracy);
          assert.is(o.accuracyTiesHalf, js.accuracyTiesHalf);
        }
      }
    });

    test('bradleyTerry native: a pair gives the same bits in a full block or in the padded tail', async () => {
      const d = pairs(77, 40, 4);
      for (const opts of [{}, { margin: d.margin }, { margin: 0.25, labelSmoothing: 0.05 }]) {
        const full = await bradleyTerry({ chosen: d.chosen, rejected: d.rejected, ...opts, margin: (opts as { margin?: Float32Array | number }).margin, backend: 'native' });
        for (let n = 1; n <= 17; n++) {
          const m = (opts as { margin?: Float32Array | number }).margin;
          const part = await bradleyTerry({ chosen: d.chosen.subarray(n), rejected: d.rejected.subarray(n), margin: m instanceof Float32Array ? m.subarray(n) : m, ...('labelSmoothing' in opts ? { labelSmoothing: opts.labelSmoothing } : {}), backend: 'native' });
          assert.equal(Array.from(part.probabilities), Array.from(full.probabilities.subarray(n)), `offset ${n} prob`);
          assert.equal(Array.from(part.losses), Array.from(full.losses.subarray(n)), `offset ${n} loss`);
        }
      }
    });
  }

  test(`epicDistance ${b} vs js: random, shaped (D≈0), weighted, canonical tables`, async () => {
    const t = tol[b];
    for (const [S, A, seed] of [[1, 1, 1], [3, 2, 2], [17, 4, 3], [64, 8, 4]] as const) {
      const r = rng(seed), n = S * A * S;
      const ra = Float32Array.from({ length: n }, () => gauss(r));
      const phi = Array.from({ length: S }, () => gauss(r));
      const shaped = ra.map((v, i) => 2 * v + 0.99 * phi[i % S]! - phi[Math.floor(i / (A * S))]!);
      const rb = Float32Array.from({ length: n }, (_, i) => 0.7 * ra[i]! + 0.5 * gauss(r));
      const sd = Float32Array.from({ length: S }, () => r() + 0.1), sum = sd.reduce((x, y) => x + y, 0);
      for (let i = 0; i < S; i++) sd[i] = sd[i]! / sum;
      for (const [name, other, extra] of [['random', rb, {}], ['shaped', shaped, {}], ['stateDist', rb, { stateDist: sd }]] as const) {
        const js = await epicDistance({ rewardA: ra, rewardB: other, shape: [S, A], canonical: true, ...extra, backend: 'js' });
        for (const ctx of b === 'webgpu' ? [undefined, small] : [undefined]) {
          const o = await epicDistance({ rewardA: ra, rewardB: other, shape: [S, A], canonical: true, ...extra, backend: b, context: ctx });
          if (S === 1) { assert.ok(Number.isNaN(o.distance) && Number.isNaN(js.distance), 'constant canonical → NaN'); continue; }
          assert.ok(Math.abs(o.distance - js.distance) <= t.d, `${name} ${S}x${A}: ${o.distance} vs ${js.distance}`);
          assert.is(mismatch(o.canonicalA!, js.canonicalA!, 1e-5, 1e-5), '', `${name} canonicalA`);
        }
      }
    }
  });
  test(`epicDistance ${b}: weights + actionDist, NaN, a ${b === 'native' ? '2M' : '130k'}-entry table`, async () => {
    const t = tol[b];
    const r = rng(9), S = 6, A = 3, n = S * A * S;
    const ra = Float32Array.from({ length: n }, () => gauss(r)), rb = Float32Array.from({ length: n }, () => gauss(r));
    const w = Float32Array.from({ length: n }, () => r()), ws = w.reduce((x, y) => x + y, 0);
    for (let i = 0; i < n; i++) w[i] = w[i]! / ws;
    const extra = { weights: w, actionDist: [0.2, 0.5, 0.3], stateDist: [0.1, 0.2, 0.3, 0.2, 0.1, 0.1] };
    const js = await epicDistance({ rewardA: ra, rewardB: rb, shape: [S, A], ...extra, backend: 'js' });
    const o = await epicDistance({ rewardA: ra, rewardB: rb, shape: [S, A], ...extra, backend: b });
    assert.ok(Math.abs(o.distance - js.distance) <= t.d, `weighted: ${o.distance} vs ${js.distance}`);
    const nan = ra.slice(); nan[5] = NaN;
    assert.ok(Number.isNaN((await epicDistance({ rewardA: nan, rewardB: rb, shape: [S, A], backend: b })).distance), 'NaN → NaN');
    const SL = b === 'native' ? 512 : 128, AL = 8, nl = SL * AL * SL;
    const la = new Float32Array(nl), lb = new Float32Array(nl);
    for (let i = 0; i < nl; i++) { la[i] = Math.sin(i * 0.37); lb[i] = Math.sin(i * 0.37 + 0.2) + 0.1 * Math.cos(i); }
    const jl = await epicDistance({ rewardA: la, rewardB: lb, shape: [SL, AL], backend: 'js' });
    for (const ctx of b === 'webgpu' ? [undefined, small] : [undefined]) {
      const ol = await epicDistance({ rewardA: la, rewardB: lb, shape: [SL, AL], weights: undefined, backend: b, context: ctx });
      assert.ok(Math.abs(ol.distance - jl.distance) <= t.d, `large: ${ol.distance} vs ${jl.distance}`);
    }
    const ow = await epicDistance({ rewardA: ra, rewardB: rb, shape: [S, A], ...extra, backend: b, context: b === 'webgpu' ? small : undefined });
    assert.ok(Math.abs(ow.distance - js.distance) <= t.d, `weighted, split bindings: ${ow.distance} vs ${js.distance}`);
  });
}

test('fuzz: malformed or edge input gives results or RewardkitErrors, never crashes', async () => {
  const value = fc.oneof(fc.double(), fc.constant(NaN), fc.constant(Infinity), fc.constant(1e30));
  const arr = fc.oneof(fc.array(value, { maxLength: 6 }), fc.constant('x'), fc.constant(null), fc.float32Array({ maxLength: 6 }));
  await fc.assert(fc.asyncProperty(arr, arr, fc.oneof(fc.constant(undefined), fc.double(), arr), fc.constantFrom('js', ...have, 'bogus'),
    async (chosen, rejected, margin, backend) => {
      try {
        await bradleyTerry({ chosen: chosen as never, rejected: rejected as never, margin: margin as never, backend: backend as never });
        await epicDistance({ rewardA: chosen as never, rewardB: rejected as never, shape: [1, Array.isArray(chosen) ? chosen.length : 1], backend: backend as never });
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
      }
    }), { numRuns: 300 });
});

test.after(() => disposeDefaultContext());
test.run();
