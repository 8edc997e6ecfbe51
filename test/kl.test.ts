/**
 * KL estimators, KL in the reward and the KL controllers.
 *
 * Tolerances, and why:
 * - JS reference vs verl_kl.json: exact for k1/abs/k2 and the rewards (the same f32 operations in
 *   the same order). k3/low_var_kl: abs 1e-6. torch's vectorised expf is within 1 ulp but not
 *   always correctly rounded, and the reference rounds e^k once from f64; one ulp of r = e^k
 *   (r <= e^2.4 < 12 wherever the ±10 clamp is not active) is <= 9.6e-7 after r − k − 1 (measured:
 *   1.2e-7). The controller's values are f64 in both: rel 1e-12.
 * - JS reference vs torch autograd at the edges (NaN, ±Inf, clamp boundaries; a table made once
 *   with torch 2.13 from each library's expression, test/fixtures/kl/torch_edges.json): exact,
 *   except the same 1-ulp exp allowance on k3.
 * - native vs js: the C++ mirrors every f32 operation; its e^x is native/common/vexp.h's f32
 *   Cephes exp (8 lanes), within 1 ulp of the reference's Math.fround(Math.exp(x)) (measured over
 *   every f32 in [−104, 89]: 0.8% of inputs differ, by exactly 1 ulp; torch's vectorised expf is as
 *   close). One ulp of r = e^k (2^-23·r) after r − k − 1 and its rounding: rel 1e-6 + abs 1e-6
 *   (k3 values <= 10 clamped, or r > k + 1 unclamped; the gradient −(r − 1) likewise).
 *   meanKl: both sum rows in f64 (native in 8 per-lane partials, a reordering of f64 additions of
 *   ~1e-16 relative each): rel 1e-12 for the estimators without exp; for k3/low_var_kl it is a mean
 *   of row means of terms each within rel 1e-6 + abs 1e-6 of the reference's, and the k3 terms are
 *   >= 0 (Σ|v| = |Σv|), so the same rel 1e-6 + abs 1e-6 bounds it.
 * - webgpu vs js: the shader computes e^x itself in f32 (range reduction + polynomial, ~2 ulp;
 *   WGSL's exp() was 3e-6 off on lavapipe), so e^k carries rel ~2.4e-7 and r − k − 1 an abs error of
 *   a few ulp of max(r, 1): rel 2e-6 + abs 2e-6 (TRL's unclamped k3 reaches e^|k| for large |k|: the
 *   rel term). meanKl sums f32 trees over values each within that abs bound: rel 1e-5 + the same abs.
 *   NaN/Inf arithmetic is left to the implementation by WGSL: the GPU is held to finite entries.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  AdaptiveKlController, FixedKlController, getKlController, gpuStatus, inRewardKl, klPenalty, nativeStatus,
  RewardkitError, createContext, disposeDefaultContext, type KlEstimator, type KlPreset,
} from '../lib/index.js';
import { loadNative } from '../lib/backends/native.js';
import { decode, fixture, gauss, isCI, mismatch, randomLayout, rng } from './helpers.js';

type Concrete = 'js' | 'native' | 'webgpu';
const combos: Array<[KlPreset, KlEstimator]> = [
  ['verl', 'k1'], ['verl', 'kl'], ['verl', 'abs'], ['verl', 'k2'], ['verl', 'mse'], ['verl', 'k3'], ['verl', 'low_var_kl'],
  ['openrlhf', 'k1'], ['openrlhf', 'k2'], ['openrlhf', 'k3'], ['trl', 'k1'], ['trl', 'k3'],
];
const tol = { native: { rel: 1e-6, abs: 1e-6 }, webgpu: { rel: 2e-6, abs: 2e-6 } };
/** The k3 estimators (e^x per token): native's meanKl carries their per-token exp ulp. */
const usesExp = (e: KlEstimator) => e === 'k3' || e === 'low_var_kl';

const nativeOk = nativeStatus().available;
const gpu = await gpuStatus();
const others: Array<'native' | 'webgpu'> = [];
if (nativeOk) others.push('native');
if (gpu.available) others.push('webgpu');
if (isCI && !nativeOk) test('native addon is available in CI', () => assert.unreachable(nativeStatus().reason));
if (isCI && !gpu.available) test('webgpu is available in CI', () => assert.unreachable(gpu.reason));
if (!nativeOk) console.error(`\n!!! SKIPPING native KL tests: ${nativeStatus().reason}\n`);
if (!gpu.available) console.error(`\n!!! SKIPPING webgpu KL tests: ${gpu.reason}\n`);

const f32 = (a: ArrayLike<number | string>) => Float32Array.from(decode(Array.from(a)));

async function rejects(fn: () => Promise<unknown>, argument: string | RegExp, code = 'E_VALUE'): Promise<void> {
  try { await fn(); } catch (e) {
    assert.instance(e, RewardkitError);
    const err = e as RewardkitError;
    assert.is(err.code, code, err.message);
    if (typeof argument === 'string') assert.is(err.argument, argument, err.message); else assert.match(err.argument ?? '', argument);
    assert.match(err.message, /Expected .+ but received /);
    return;
  }
  assert.unreachable(`expected a ${code} error naming ${argument}`);
}

// ---------------------------------------------------------------------------------------------
// verl conformance: every call of verl_kl.json.
const conformance = fixture('conformance/verl/verl_kl.json');
test('verl_kl.json: every kl_penalty, compute_rewards and controller call', async () => {
  let calls = 0;
  for (const c of conformance.cases) {
    if (!c.inputs.logprob) {
      for (const call of c.calls) {
        const { type, kl_coef, target_kl, horizon } = call.params;
        const ctl = getKlController({ type, klCoef: kl_coef, targetKl: target_kl, horizon });
        assert.is(ctl.constructor.name, 'AdaptiveKlController');
        const kls = decode(c.inputs.current_kl.data), steps = decode(c.inputs.n_steps.data);
        const values = kls.map((kl, i) => { ctl.update(kl, steps[i]!); return ctl.value; });
        assert.is(mismatch(values, decode(call.outputs.value_after_each_update.data), 1e-12, 0), '', c.id);
        calls++;
      }
      continue;
    }
    const [B, T] = c.inputs.logprob.shape as [number, number];
    const base = { logProbs: f32(c.inputs.logprob.data), refLogProbs: f32(c.inputs.ref_logprob.data), mask: new Uint8Array(B * T).fill(1), shape: [B, T] as [number, number], backend: 'js' as const };
    for (const call of c.calls) {
      calls++;
      const where = `${c.id} ${JSON.stringify(call.params)}`;
      if (call.function.endsWith('compute_rewards')) {
        const r = await inRewardKl({ ...base, scores: f32(c.inputs.token_level_scores.data), beta: call.params.kl_ratio, estimator: 'k1' });
        assert.is(mismatch(r.rewards, f32(call.outputs.token_level_rewards.data), 0, 0), '', where);
        continue;
      }
      const estimator = call.params.kl_penalty;
      if (call.error) { await rejects(() => klPenalty({ ...base, estimator }), 'estimator'); continue; }
      const r = await klPenalty({ ...base, estimator });
      const abs = estimator === 'k3' || estimator === 'low_var_kl' ? 1e-6 : 0;
      assert.is(mismatch(r.kl, f32(call.outputs.kl.data), 0, abs), '', `${where} kl`);
      assert.is(mismatch(r.gradLogProbs!, f32(call.outputs.grad_logprob.data), 0, abs), '', `${where} grad_logprob`);
      assert.is(mismatch(r.gradRefLogProbs!, f32(call.outputs.grad_ref_logprob.data), 0, abs), '', `${where} grad_ref_logprob`);
    }
  }
  assert.is(calls, conformance.cases.reduce((n: number, c: { calls: unknown[] }) => n + c.calls.length, 0)); // the file is a subset (meta.subset)
});

// torch autograd at the edges, every preset (see the header).
const edges = fixture('kl/torch_edges.json');
for (const backend of ['js', ...others] as Concrete[]) {
  test(`${backend}: values and gradients match torch autograd at NaN, ±Inf and the clamps`, async () => {
    const logProbs = f32(edges.logProbs), refLogProbs = f32(edges.refLogProbs);
    const n = logProbs.length;
    for (const call of edges.calls) {
      const r = await klPenalty({ logProbs, refLogProbs, offsets: [0, n], preset: call.preset, estimator: call.estimator, backend });
      const abs = call.estimator === 'k3' ? 1e-6 : 0;
      // WGSL leaves NaN/Inf arithmetic to the implementation: the GPU is held to the finite entries.
      const pick = (a: ArrayLike<number>, e: number[]) => backend === 'webgpu'
        ? [Array.from(a).filter((_, i) => Number.isFinite(e[i])), e.filter(Number.isFinite)] as const : [a, e] as const;
      for (const [name, got] of [['kl', r.kl], ['grad', r.gradLogProbs!], ['gradRef', r.gradRefLogProbs!]] as const) {
        const e = decode(call[name]);
        const [x, y] = pick(got, e);
        assert.is(mismatch(x, y, backend === 'webgpu' ? 2e-6 : 0, abs), '', `${call.preset}/${call.estimator} ${name}`);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Random problems: every estimator × preset × backend against js.
interface Draw { logProbs: Float32Array; refLogProbs: Float32Array; scores: Float32Array; layout: ReturnType<typeof randomLayout>['layout']; tokens: number }
function draw(seed: number, rows: number, cols: number, opts: { packed?: boolean; mask?: 'u8' | 'f32' | 'i32'; emptyRows?: boolean; spread?: number; poison?: boolean } = {}): Draw {
  const r = rng(seed);
  const { layout, tokens } = randomLayout(r, { rows, cols, packed: opts.packed, mask: opts.mask, emptyRows: opts.emptyRows });
  const spread = opts.spread ?? 1;
  const logProbs = new Float32Array(tokens), refLogProbs = new Float32Array(tokens), scores = new Float32Array(tokens);
  for (let t = 0; t < tokens; t++) {
    logProbs[t] = -Math.abs(gauss(r)) * 3;
    // Mostly small differences, some large enough to hit every clamp (±10 outputs, ±20 inputs).
    const scale = r() < 0.8 ? 0.05 * spread : 15 * spread;
    refLogProbs[t] = logProbs[t]! + gauss(r) * scale;
    scores[t] = r() < 0.1 ? Math.round(r()) : 0;
  }
  if (opts.poison && layout.mask) {
    const m = layout.mask;
    for (let t = 0; t < tokens; t++) if (m[t] === 0) { logProbs[t] = r() < 0.5 ? NaN : -Infinity; refLogProbs[t] = r() < 0.5 ? Infinity : NaN; scores[t] = r() < 0.5 ? 0 : 0.5; }
  }
  return { logProbs, refLogProbs, scores, layout, tokens };
}

const shapes: Array<[number, number]> = [[1, 1], [1, 7], [3, 5], [16, 33], [64, 128], [200, 300]];
const layouts = [{}, { mask: 'f32' as const }, { mask: 'i32' as const }, { packed: true }, { emptyRows: true, poison: true }, { packed: true, emptyRows: true }];

for (const backend of others) {
  const { rel, abs } = tol[backend];
  test(`${backend} = js: klPenalty, every estimator × preset × layout, shapes 1×1 to 200×300`, async () => {
    let seed = 1;
    for (const [rows, cols] of shapes) {
      for (const lay of layouts) {
        if (backend === 'webgpu' && rows * cols > 20_000 && lay !== layouts[0]) continue; // lavapipe is slow
        const d = draw(seed++, rows, cols, lay);
        for (const [preset, estimator] of combos) {
          for (const variant of [{}, { straightThrough: true }, { gradients: false }]) {
            const o = { logProbs: d.logProbs, refLogProbs: d.refLogProbs, ...d.layout, preset, estimator, ...variant };
            const want = await klPenalty({ ...o, backend: 'js' });
            const got = await klPenalty({ ...o, backend });
            const where = `${preset}/${estimator} ${rows}×${cols} ${JSON.stringify(lay)} ${JSON.stringify(variant)}`;
            assert.is(mismatch(got.kl, want.kl, rel, abs), '', `${where} kl`);
            if (variant.gradients === false) { assert.is(got.gradLogProbs, undefined); continue; }
            assert.is(mismatch(got.gradLogProbs!, want.gradLogProbs!, rel, abs), '', `${where} grad`);
            assert.is(mismatch(got.gradRefLogProbs!, want.gradRefLogProbs!, rel, abs), '', `${where} gradRef`);
          }
        }
      }
    }
  });

  test(`${backend} = js: inRewardKl rewards, kl and meanKl`, async () => {
    let seed = 100;
    for (const [rows, cols] of shapes) {
      for (const lay of layouts) {
        if (backend === 'webgpu' && rows * cols > 20_000 && lay !== layouts[0]) continue;
        const d = draw(seed++, rows, cols, lay);
        for (const [preset, estimator] of combos) {
          const o = { logProbs: d.logProbs, refLogProbs: d.refLogProbs, scores: d.scores, ...d.layout, preset, estimator, beta: 0.05 };
          const want = await inRewardKl({ ...o, backend: 'js' });
          const got = await inRewardKl({ ...o, backend });
          const where = `${preset}/${estimator} ${rows}×${cols} ${JSON.stringify(lay)}`;
          assert.is(mismatch(got.kl, want.kl, rel, abs), '', `${where} kl`);
          assert.is(mismatch(got.rewards, want.rewards, rel, abs), '', `${where} rewards`);
          const [mr, ma] = backend === 'webgpu' ? [1e-5, abs] : usesExp(estimator) ? [rel, abs] : [1e-12, 0];
          assert.is(mismatch([got.meanKl], [want.meanKl], mr, ma), '', `${where} meanKl`);
        }
      }
    }
  });
}

if (nativeOk) {
  test('native = js at 1,048,576 tokens (verl k3, u8 mask) and at 1M packed tokens (inRewardKl)', async () => {
    const d = draw(7, 1024, 1024, { spread: 2 });
    const o = { logProbs: d.logProbs, refLogProbs: d.refLogProbs, ...d.layout, estimator: 'k3' as const };
    const [a, b] = [await klPenalty({ ...o, backend: 'js' }), await klPenalty({ ...o, backend: 'native' })];
    assert.is(mismatch(b.kl, a.kl, tol.native.rel, tol.native.abs), '');
    assert.is(mismatch(b.gradLogProbs!, a.gradLogProbs!, tol.native.rel, tol.native.abs), '');
    const p = draw(8, 2048, 1024, { packed: true });
    assert.ok(p.tokens >= 1 << 20);
    const q = { logProbs: p.logProbs, refLogProbs: p.refLogProbs, scores: p.scores, ...p.layout, estimator: 'low_var_kl' as const, beta: 0.1 };
    const [x, y] = [await inRewardKl({ ...q, backend: 'js' }), await inRewardKl({ ...q, backend: 'native' })];
    assert.is(mismatch(y.rewards, x.rewards, tol.native.rel, tol.native.abs), '');
    assert.is(mismatch([y.meanKl], [x.meanKl], tol.native.rel, tol.native.abs), '');
  });
}

if (gpu.available) {
  test('webgpu splits inputs beyond maxBinding (64 KiB bindings: 16,384-token chunks) and rows across chunks', async () => {
    const ctx = await createContext({ maxBindingSize: 65536 });
    try {
      // Packed rows up to 40k tokens: rows cross chunk boundaries and some span several chunks.
      const offsets = [0];
      const r = rng(9);
      for (let i = 0; i < 9; i++) offsets.push(offsets[i]! + (i === 4 ? 0 : Math.floor(r() * 40_000)));
      const n = offsets[9]!;
      const d = draw(10, 1, n, {});
      const mask = Uint8Array.from({ length: n }, () => (r() < 0.9 ? 1 : 0));
      for (const [preset, estimator] of [['verl', 'k3'], ['openrlhf', 'k2'], ['trl', 'k3']] as Array<[KlPreset, KlEstimator]>) {
        const o = { logProbs: d.logProbs, refLogProbs: d.refLogProbs, offsets, mask, preset, estimator };
        const want = await klPenalty({ ...o, backend: 'js' });
        const got = await klPenalty({ ...o, backend: 'webgpu', context: ctx });
        assert.is(mismatch(got.kl, want.kl, tol.webgpu.rel, tol.webgpu.abs), '', `${preset}/${estimator}`);
        assert.is(mismatch(got.gradLogProbs!, want.gradLogProbs!, tol.webgpu.rel, tol.webgpu.abs), '');
        const w = { ...o, scores: d.scores, beta: 0.2 };
        const x = await inRewardKl({ ...w, backend: 'js' }), y = await inRewardKl({ ...w, backend: 'webgpu', context: ctx });
        assert.is(mismatch(y.rewards, x.rewards, tol.webgpu.rel, tol.webgpu.abs), '');
        assert.is(mismatch([y.meanKl], [x.meanKl], 1e-5, 1e-9), '');
      }
      // Many short rows: more segments than one 64 KiB binding holds (8,192), in one chunk.
      const many = draw(11, 20_000, 3, { packed: true, emptyRows: true });
      const o = { logProbs: many.logProbs, refLogProbs: many.refLogProbs, scores: many.scores, ...many.layout, estimator: 'k3' as const, beta: 1 };
      const x = await inRewardKl({ ...o, backend: 'js' }), y = await inRewardKl({ ...o, backend: 'webgpu', context: ctx });
      assert.is(mismatch([y.meanKl], [x.meanKl], 1e-5, 1e-9), '');
      assert.is(mismatch(y.rewards, x.rewards, tol.webgpu.rel, tol.webgpu.abs), '');
    } finally {
      ctx.dispose();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Semantics.
test('masked tokens give 0 (rewards: the score) whatever NaN/Inf they hold; nothing leaks into meanKl', async () => {
  for (const backend of ['js', ...others] as Concrete[]) {
    const logProbs = new Float32Array([-1, NaN, -Infinity, -2, -0.5, Infinity]);
    const refLogProbs = new Float32Array([-1.5, 3, NaN, -2.5, NaN, -1]);
    const mask = new Uint8Array([1, 0, 0, 1, 0, 0]);
    const scores = new Float32Array([0, 7, 0, 1, NaN, 0]);
    const r = await klPenalty({ logProbs, refLogProbs, mask, shape: [2, 3], estimator: 'k3', backend });
    for (const t of [1, 2, 4, 5]) { assert.is(r.kl[t], 0); assert.is(r.gradLogProbs![t], 0); assert.is(Math.abs(r.gradRefLogProbs![t]!), 0); }
    const w = await inRewardKl({ logProbs, refLogProbs, mask, shape: [2, 3], scores, estimator: 'k3', beta: 0.5, backend });
    assert.ok(Number.isFinite(w.meanKl), backend);
    assert.equal(Array.from(w.rewards.subarray(1, 3)), [7, 0]);
    assert.ok(Number.isNaN(w.rewards[4]!)); // the score itself is NaN there: kept, as verl keeps scores on padding
  }
});

test("meanKl is verl's current_kl: mean over rows of Σkl/(n+1e-8), empty rows count as 0", async () => {
  const logProbs = new Float32Array([-1, -1, -1, -1, -1, -1]);
  const refLogProbs = new Float32Array([-1.5, -2, 0, 0, -1.25, 0]);
  // Rows: [0.5, 1] (mean 0.75), [] (0), [0.25] (0.25 with token 5 masked).
  const r = await inRewardKl({ logProbs, refLogProbs, offsets: [0, 2, 2, 6], mask: new Uint8Array([1, 1, 0, 0, 1, 0]), scores: new Float32Array(6), beta: 2, backend: 'js' });
  const want = (1.5 / (2 + 1e-8) + 0 + 0.25 / (1 + 1e-8)) / 3;
  assert.ok(Math.abs(r.meanKl - want) < 1e-15, `${r.meanKl} vs ${want}`);
  assert.equal(Array.from(r.rewards), [-1, -2, 0, 0, -0.5, 0]);
  assert.is(r.beta, 2);
});

test('a controller supplies β and is updated with (meanKl, B) after the call', async () => {
  const ctl = new AdaptiveKlController(0.2, 0.1, 100);
  const logProbs = new Float32Array([-1, -1, -1, -1]), refLogProbs = new Float32Array([-2, -2, -2, -2]);
  const r = await inRewardKl({ logProbs, refLogProbs, mask: new Uint8Array(4).fill(1), shape: [2, 2], scores: new Float32Array(4), controller: ctl, backend: 'js' });
  assert.is(r.beta, 0.2);
  assert.is(r.rewards[0], Math.fround(-Math.fround(0.2)));
  assert.ok(Math.abs(ctl.value - 0.2 * (1 + 0.2 * 2 / 100)) < 1e-15); // kl 1 ≫ target: error clipped to 0.2, n_steps = 2
  const fixed = new FixedKlController(0.3);
  fixed.update(5, 10);
  assert.is(fixed.value, 0.3);
  const def = getKlController();
  assert.instance(def, FixedKlController);
  assert.is(def.value, 0.001);
  const adaptive = getKlController({ type: 'adaptive' }) as AdaptiveKlController;
  assert.is(adaptive.target, 0.1);
  assert.is(adaptive.horizon, 10000);
});

test('straightThrough: the estimator\'s value with the k2 gradient d = logp − ref', async () => {
  const logProbs = new Float32Array([-1, -30]), refLogProbs = new Float32Array([-1.25, -1]);
  const r = await klPenalty({ logProbs, refLogProbs, offsets: [0, 2], estimator: 'low_var_kl', straightThrough: true, backend: 'js' });
  const plain = await klPenalty({ logProbs, refLogProbs, offsets: [0, 2], estimator: 'low_var_kl', backend: 'js' });
  assert.equal(Array.from(r.kl), Array.from(plain.kl));
  assert.equal(Array.from(r.gradLogProbs!), [0.25, -29]);
  assert.equal(Array.from(r.gradRefLogProbs!), [-0.25, 29]);
});

test('out arrays are written in place; Float64Array and number[] inputs are rounded to f32', async () => {
  const out = { kl: new Float32Array(3), gradLogProbs: new Float32Array(3), gradRefLogProbs: new Float32Array(3) };
  const r = await klPenalty({ logProbs: [-1, -2, -3], refLogProbs: Float64Array.from([-1.1, -2, -2.9]), offsets: [0, 1, 3], estimator: 'k2', out, backend: 'js' });
  assert.ok(r.kl === out.kl && r.gradLogProbs === out.gradLogProbs);
  assert.is(out.gradLogProbs[0], Math.fround(-1 - Math.fround(-1.1)));
});

// ---------------------------------------------------------------------------------------------
// Errors.
test('malformed inputs give RewardkitErrors naming the argument', async () => {
  const ok = { logProbs: new Float32Array(4), refLogProbs: new Float32Array(4), mask: new Uint8Array(4), shape: [2, 2] as [number, number], backend: 'js' as const };
  await rejects(() => klPenalty({ ...ok, logProbs: new Float32Array(3) }), 'logProbs', 'E_SHAPE');
  await rejects(() => klPenalty({ ...ok, refLogProbs: new Int32Array(4) as never }), 'refLogProbs', 'E_DTYPE');
  await rejects(() => klPenalty({ ...ok, estimator: 'full' as never }), 'estimator');
  await rejects(() => klPenalty({ ...ok, estimator: 'k3+' as never }), 'estimator');
  await rejects(() => klPenalty({ ...ok, preset: 'openrlhf', estimator: 'abs' }), 'estimator');
  await rejects(() => klPenalty({ ...ok, preset: 'trl', estimator: 'k2' }), 'estimator');
  await rejects(() => klPenalty({ ...ok, preset: 'deepspeed' as never }), 'preset');
  await rejects(() => klPenalty({ ...ok, gradients: 1 as never }), 'gradients');
  await rejects(() => klPenalty({ ...ok, out: { kl: new Float32Array(5) } }), 'out.kl', 'E_SHAPE');
  await rejects(() => klPenalty({ ...ok, shape: [2, 3] }), 'mask', 'E_SHAPE');
  await rejects(() => klPenalty({ ...ok, backend: 'cuda' as never }), 'backend');
  await rejects(() => klPenalty(null as never), 'options');
  await rejects(() => inRewardKl({ ...ok, scores: new Float32Array(4) }), 'beta');
  await rejects(() => inRewardKl({ ...ok, scores: new Float32Array(4), beta: 1, controller: new FixedKlController(1) }), 'beta');
  await rejects(() => inRewardKl({ ...ok, scores: new Float32Array(4), beta: NaN }), 'beta');
  await rejects(() => inRewardKl({ ...ok, scores: new Float32Array(2), beta: 1 }), 'scores', 'E_SHAPE');
  await rejects(() => inRewardKl({ ...ok, scores: new Float32Array(4), controller: { value: 1 } as never }), 'controller');
  await rejects(async () => new AdaptiveKlController(0.1, 0.1, 0), 'horizon');
  await rejects(async () => getKlController({ type: 'pid' as never }), 'type');
  await rejects(async () => new AdaptiveKlController(0.1, 0.1, 10).update(NaN, 1), 'currentKl');
});

if (nativeOk) {
  test('the addon checks its own arguments (below the TypeScript layer)', async () => {
    const addon = loadNative() as unknown as Record<string, (a: unknown) => Promise<unknown>>;
    const f = new Float32Array(4);
    const base = { tokens: 4, code: 3, straightThrough: false, mask: null, logProbs: f, refLogProbs: f, outKl: new Float32Array(4), outGrad: null, outGradRef: null };
    for (const bad of [{ ...base, code: 9 }, { ...base, logProbs: new Float32Array(3) }, { ...base, outGrad: new Float32Array(4) }, { ...base, mask: new Float32Array(4) }]) {
      assert.throws(() => addon['klPenalty']!(bad));
    }
    assert.throws(() => addon['inRewardKl']!({ rows: 2, tokens: 4, offsets: new Uint32Array([0, 3, 2]), code: 0, mask: null, logProbs: f, refLogProbs: f, scores: f, beta: 1, outKl: f, outRewards: f }));
  });
}

// ---------------------------------------------------------------------------------------------
// Fuzz: malformed and edge inputs on every backend; only RewardkitErrors, outputs of the right length.
const num = fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1e30, -1e-30, 20, -20, 10));
const floats = fc.oneof(
  fc.array(num, { maxLength: 12 }).map((a) => Float32Array.from(a)),
  fc.array(num, { maxLength: 12 }),
  fc.array(num, { maxLength: 12 }).map((a) => Float64Array.from(a)),
  fc.constantFrom(undefined, null, 'x', 3),
);
const arb = fc.record({
  logProbs: floats, refLogProbs: floats, scores: floats,
  mask: fc.oneof(fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 12 }).map((a) => Uint8Array.from(a)), fc.constantFrom(undefined, null, [1, 0])),
  shape: fc.oneof(fc.tuple(fc.integer({ min: -1, max: 6 }), fc.integer({ min: -1, max: 6 })), fc.constantFrom(undefined, [2], 'x')),
  offsets: fc.oneof(fc.array(fc.integer({ min: -1, max: 12 }), { maxLength: 5 }).map((a) => [0, ...a.sort((x, y) => x - y)]), fc.constantFrom(undefined, [1, 0], null)),
  estimator: fc.constantFrom(undefined, 'k1', 'kl', 'abs', 'k2', 'mse', 'k3', 'low_var_kl', 'full', 'k3+', 'x', 5),
  preset: fc.constantFrom(undefined, 'verl', 'openrlhf', 'trl', 'y'),
  gradients: fc.constantFrom(undefined, true, false, 0),
  straightThrough: fc.constantFrom(undefined, true, false, 'yes'),
  beta: fc.oneof(num, fc.constant(undefined)),
}, { requiredKeys: [] });

for (const backend of ['js', ...others] as Concrete[]) {
  test(`fuzz ${backend}: klPenalty and inRewardKl, zero crashes, only RewardkitErrors`, async () => {
    await fc.assert(fc.asyncProperty(arb, fc.boolean(), async (o, reward) => {
      try {
        if (reward) {
          const r = await inRewardKl({ ...(o as object), backend } as never);
          return r.rewards.length === r.kl.length && typeof r.meanKl === 'number';
        }
        const r = await klPenalty({ ...(o as object), backend } as never);
        return r.kl instanceof Float32Array && (r.gradLogProbs === undefined || r.gradLogProbs.length === r.kl.length);
      } catch (e) {
        if (!(e instanceof RewardkitError)) throw e;
        return /Expected .+ but received /.test(e.message);
      }
    }), { numRuns: backend === 'webgpu' ? 200 : 400, seed: 77 });
  });
}

test.after(() => disposeDefaultContext());
test.run();
