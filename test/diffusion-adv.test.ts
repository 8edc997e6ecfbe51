/**
 * Diffusion-RL advantages and losses (lib/diffusion/{tracker,loss,dense,ttsnap}.ts).
 *
 * Tolerances, and why:
 * - Flow-GRPO tracker vs the reference (numpy f64): rel 1e-9 — same f64 math, only summation order differs.
 * - DDPO tracker, DanceGRPO / Flow-GRPO / D3PO losses vs the reference (torch/numpy f32):
 *   rel 1e-5, abs 1e-6 — f32 results; rewardkit accumulates means in f64, the references in f32.
 * - native vs js, clipped term: rel 2e-7, abs 0 — the same f32 operations; exp is double rounded
 *   once on both, so at most a 1-ulp difference from libm vs V8's exp.
 * - native fused loss (diffusionClipLoss) vs js element kernel + clipSumsJs: ratio and scaled gradient
 *   rel 2e-7 (as above; the division by gradScale is exact on both); per-step sums of the loss term and
 *   of (logp − old)² rel 1e-7 (f64 sums added in another association, plus any 1-ulp ratio); clip
 *   counts within the number of elements whose ratios differ (a 1-ulp ratio can cross 1 ± ε).
 * - native vs js, latent sums: rel 1e-6 — both f64 accumulators, different order; f32 outputs.
 * - webgpu vs js: rel 1e-5, abs 1e-6 for the clipped term (WGSL's f32 exp is not correctly rounded:
 *   a few ulp; −A·r inherits it) and rel 2e-5 for the latent sums (f32 blocks of 4,096 summed as
 *   strided partials + a tree: ~log2(4096)·2^-24 relative error, blocks added in f64).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  b2Select, b2TrainSteps, calibrateNoise, createContext, d3poLoss, danceGrpoAdvantages, danceGrpoLoss, DdpoTracker, denseAdvantages,
  denseRewards, disposeDefaultContext, FlowGrpoTracker, flowGrpoLoss, gpuStatus, keptSamples, latentKl, nativeStatus, paretoPrefer,
  prdpLoss, RewardkitError, roundHalfEven, ttsnapKeep, ttsnapPick, ttsnapPrune, ttsnapSchedule, type GpuContext,
} from '../lib/index.js';
import { CLIP_TERMS, diffusionClipProblem, type ClipInputs } from '../lib/diffusion/loss.js';
import { clipRowsJs, clipSumsJs, latentRowsJs } from '../lib/diffusion/loss.ref.js';
import { clipLossNative, clipRowsNative, latentRowsNative } from '../lib/diffusion/loss.native.js';
import { loadNative } from '../lib/backends/native.js';
import { clipRowsWebgpu, latentRowsWebgpu } from '../lib/diffusion/loss.gpu.js';
import { decode, fixture, gauss, isCI, mismatch, rng } from './helpers.js';

const fx = (name: string) => fixture(`conformance/diffusion/${name}.json`);
const t32 = (x: { data: Array<number | string> }) => new Float32Array(decode(x.data));
const scalar = (x: { data: Array<number | string> }) => decode(x.data)[0]!;

async function rejects(fn: () => unknown, argument?: string): Promise<void> {
  try { await fn(); } catch (e) {
    assert.ok(e instanceof RewardkitError, `not a RewardkitError: ${String(e)}`);
    if (argument) assert.is(e.argument, argument);
    return;
  }
  assert.unreachable('did not throw');
}

// ---- conformance ----
test('Flow-GRPO tracker (global_std) matches flow_grpo', () => {
  const c = fx('flowgrpo_tracker_01_global');
  const t = new FlowGrpoTracker({ globalStd: true });
  const adv = t.update(c.inputs.prompts.data, decode(c.inputs.rewards.data), c.params.T);
  assert.is(mismatch(adv, decode(c.outputs.advantages_grpo.data), 1e-9, 1e-12), '');
  // The all-0.5 prompt's group has all-zero advantages: those samples are dropped.
  const keep = keptSamples(adv, c.params.T);
  c.inputs.prompts.data.forEach((p: string, i: number) => assert.is(keep[i], p === 'prompt 0' ? 0 : 1));
});

test('DDPO tracker (buffer, min_count fallback, two calls) matches ddpo-pytorch', () => {
  const c = fx('ddpo_tracker_01_mincount_fallback');
  const t = new DdpoTracker({ bufferSize: c.params.buffer_size, minCount: c.params.min_count });
  for (let k = 0; k < c.params.calls; k++) {
    const adv = t.update(c.inputs[`call${k}_prompts`].data, t32(c.inputs[`call${k}_rewards`]));
    assert.is(mismatch(adv, decode(c.outputs[`call${k}_advantages`].data)), '', `call ${k}`);
  }
});

test('Flow-GRPO loss matches train_sd3.py', async () => {
  const c = fx('flowgrpo_loss_00_nokl');
  const r = await flowGrpoLoss({
    logProb: t32(c.inputs.log_prob), oldLogProb: t32(c.inputs.old_log_prob), advantages: t32(c.inputs.advantages),
    clipRange: c.params.clip_range, advClipMax: c.params.adv_clip_max, beta: c.params.beta, backend: 'js',
  });
  for (const [mine, theirs] of [['loss', 'loss'], ['policyLoss', 'policy_loss'], ['approxKl', 'approx_kl'], ['clipfrac', 'clipfrac'], ['clipfracGtOne', 'clipfrac_gt_one'], ['clipfracLtOne', 'clipfrac_lt_one']] as const) {
    assert.is(mismatch([r[mine]], [scalar(c.outputs[theirs])]), '', mine);
  }
  assert.is(mismatch(r.ratio, t32(c.outputs.ratio), 1e-6, 0), '');
  // Its latents through the KL term (beta > 0), against an f64 evaluation of the documented formula.
  const mu = t32(c.inputs.prev_sample_mean), ref = t32(c.inputs.prev_sample_mean_ref), std = t32(c.inputs.std_dev_t);
  const B = std.length, D = mu.length / B;
  let kl = 0;
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let i = b * D; i < (b + 1) * D; i++) s += (mu[i]! - ref[i]!) ** 2;
    kl += s / D / (2 * std[b]! ** 2);
  }
  const withKl = await flowGrpoLoss({
    logProb: t32(c.inputs.log_prob), oldLogProb: t32(c.inputs.old_log_prob), advantages: t32(c.inputs.advantages),
    beta: 0.04, prevSampleMean: mu, prevSampleMeanRef: ref, stdDevT: std, backend: 'js',
  });
  assert.is(mismatch([withKl.klLoss], [kl / B]), '');
  assert.is(mismatch([withKl.loss], [scalar(c.outputs.policy_loss) + 0.04 * (kl / B)]), '');
});

test('DanceGRPO loss matches train_grpo_flux.py', async () => {
  const c = fx('dancegrpo_loss_00');
  const r = await danceGrpoLoss({
    newLogProbs: t32(c.inputs.new_log_probs), oldLogProbs: t32(c.inputs.old_log_probs), advantages: t32(c.inputs.advantages),
    clipRange: c.params.clip_range, advClipMax: c.params.adv_clip_max,
    gradientAccumulationSteps: c.params.gradient_accumulation_steps, trainTimesteps: c.params.train_timesteps, backend: 'js',
  });
  assert.is(mismatch([r.loss], [scalar(c.outputs.loss)]), '');
  assert.is(mismatch(r.ratio, t32(c.outputs.ratio), 1e-6, 0), '');
  // [B] advantages repeat over steps: two identical steps give twice one step's loss.
  const lp = t32(c.inputs.new_log_probs), old = t32(c.inputs.old_log_probs);
  const two = (x: Float32Array) => Float32Array.from({ length: 2 * x.length }, (_, i) => x[i >> 1]!);
  const r2 = await danceGrpoLoss({ newLogProbs: two(lp), oldLogProbs: two(old), advantages: t32(c.inputs.advantages), steps: 2,
    gradientAccumulationSteps: c.params.gradient_accumulation_steps, trainTimesteps: c.params.train_timesteps, backend: 'js' });
  assert.is(mismatch([r2.loss], [2 * r.loss], 1e-6, 0), '');
  await rejects(() => danceGrpoLoss({ newLogProbs: two(lp), oldLogProbs: two(old), advantages: [1, 2, 3], steps: 2 }), 'advantages');
});

test('D3PO loss and Pareto preference match train_d3po.py', () => {
  const c = fx('d3po_loss_00');
  const h = paretoPrefer(t32(c.inputs.rewards_0), t32(c.inputs.rewards_1), 2);
  assert.equal([...h], decode(c.outputs.human_prefer.data));
  const r = d3poLoss({
    logProb0: t32(c.inputs.total_prob_0), refLogProb0: t32(c.inputs.total_ref_prob_0),
    logProb1: t32(c.inputs.total_prob_1), refLogProb1: t32(c.inputs.total_ref_prob_1), prefer: h, beta: c.params.beta, eps: c.params.eps,
  });
  assert.is(mismatch([r.loss], [scalar(c.outputs.loss)]), '');
});

// ---- tracker semantics ----
test('Flow-GRPO tracker: history across calls until clear, per-prompt std, ids as prompts', () => {
  const t = new FlowGrpoTracker({ globalStd: false });
  t.update([1, 1, 2, 2], [0, 1, 5, 5]);
  const a = t.update([1, 1], [2, 3]); // history of prompt 1: 0 1 2 3 → mean 1.5, std sqrt(1.25)
  assert.is(mismatch(a, [(2 - 1.5) / (Math.sqrt(1.25) + 1e-4), (3 - 1.5) / (Math.sqrt(1.25) + 1e-4)], 1e-12, 0), '');
  assert.equal(t.getStats(), { avgGroupSize: 3, prompts: 2 });
  t.clear();
  assert.equal([...t.update([1, 1], [2, 3])].map((x) => Math.round(x * 1e3)), [-1000, 1000]);
  // 1 and '1' are different prompts; a group of one gets 0.
  assert.equal([...new FlowGrpoTracker().update([1, '1'], [3, 4])], [0, 0]);
});

test('DDPO tracker: buffer keeps the last bufferSize rewards; min_count fallback uses the batch', () => {
  const t = new DdpoTracker({ bufferSize: 3, minCount: 3 });
  const first = t.update(['a', 'a', 'b', 'b'], [1, 2, 3, 4]); // both below min_count: batch stats
  const m = 2.5, s = Math.sqrt(1.25) + 1e-6;
  assert.is(mismatch(first, [1, 2, 3, 4].map((x) => (x - m) / s)), '');
  const second = t.update(['a', 'a'], [10, 20]); // buffer a: 2, 10, 20 (1 dropped)
  const mean = 32 / 3, sd = Math.sqrt(((2 - mean) ** 2 + (10 - mean) ** 2 + (20 - mean) ** 2) / 3) + 1e-6;
  assert.is(mismatch(second, [(10 - mean) / sd, (20 - mean) / sd]), '');
  assert.is(t.getStats().get('a')!.count, 3);
});

test('DanceGRPO advantages: unbiased std per contiguous group; group of one refused', async () => {
  const a = danceGrpoAdvantages([1, 2, 3, 10, 10, 10], { groupSize: 3 });
  assert.is(mismatch(a, [-1, 0, 1, 0, 0, 0], 1e-6, 1e-7), '');
  await rejects(() => danceGrpoAdvantages([1, 2], { groupSize: 1 }), 'groupSize');
  await rejects(() => danceGrpoAdvantages([1, 2, 3], { groupSize: 2 }), 'rewards');
});

test('keptSamples tops up to a multiple with the given generator', () => {
  const adv = new Float64Array([0, 0, 1, 0, 0, -1, 0, 0]); // rows of 2: kept rows 1, 2
  const keep = keptSamples(adv, 2, { multipleOf: 3, random: rng(3) });
  assert.is(keep.reduce((s, x) => s + x, 0), 3);
  assert.is(keep[1], 1);
  assert.is(keep[2], 1);
});

// ---- DenseGRPO, TTSnap, B²-DiffuRL ----
test('DenseGRPO: dense rewards telescope; per-timestep advantages; calibration loop', async () => {
  const R = [0.1, 0.3, 0.2, 0.6, 0.0, 0.1, 0.5, 0.4]; // N=2, T+1=4
  const d = denseRewards(R, 4);
  assert.is(mismatch(d, [0.2, -0.1, 0.4, 0.1, 0.4, -0.1], 1e-12, 1e-15), '');
  const { advantages } = denseAdvantages({ prompts: ['p', 'p'], stepRewards: R, points: 4 });
  // per column: mean over the 2 samples, global std of the column
  for (let j = 0; j < 3; j++) {
    const x0 = d[j]!, x1 = d[3 + j]!, mean = (x0 + x1) / 2, std = Math.abs(x0 - x1) / 2 + 1e-4;
    assert.ok(Math.abs(advantages[j]! - (x0 - mean) / std) < 1e-9);
  }
  // Calibration: step 0 always balanced (+), step 1 always one-sided (−).
  const calls: Float64Array[] = [];
  const { psi, history } = await calibrateNoise({
    initial: [0.5, 0.5], iterations: 3,
    sample: (p) => { calls.push(p); return [1, 1, -1, 1, 1, 1, -1, 1]; }, // N=4: col 0 → +2 −2, col 1 → 4 pos
  });
  assert.is(mismatch(psi, [0.53, 0.47], 0, 1e-12), '');
  assert.is(history.length, 3);
  assert.is(mismatch(calls[1]!, [0.51, 0.49], 0, 1e-12), '');
  await rejects(() => calibrateNoise({ initial: [0.5], iterations: -1, sample: () => [1, 2] }), 'iterations');
  await rejects(() => calibrateNoise({ initial: [0.5], iterations: 1, sample: 'no' as never }), 'sample');
  await rejects(() => calibrateNoise({ initial: [0.5, 0.5], iterations: 1, sample: () => [1, 2, 3] }), 'sample() result');
});

test('TTSnap: schedule, round half to even, survivors and pick', () => {
  assert.is(roundHalfEven(2.5), 2);
  assert.is(roundHalfEven(3.5), 4);
  assert.is(ttsnapKeep(5, 0.5), 2);
  assert.is(ttsnapKeep(1, 0.4), 1);
  assert.equal(ttsnapSchedule({ candidates: 16, steps: 20, pruneSteps: [2, 6, 11], keep: [0.4, 0.4, 0.5] }),
    [{ step: 2, before: 16, after: 6 }, { step: 6, before: 6, after: 2 }, { step: 11, before: 2, after: 1 }]);
  assert.equal([...ttsnapPrune([0.1, NaN, 0.9, 0.9, 0.3], 0.6)], [2, 3, 4]);
  assert.is(ttsnapPick([NaN, 0.2, 0.7, 0.7]), 2);
  assert.throws(() => ttsnapSchedule({ candidates: 4, steps: 5, pruneSteps: [3, 2], keep: [0.5, 0.5] }), (e: unknown) => e instanceof RewardkitError && e.argument === 'pruneSteps[1]');
});

test('B²-DiffuRL: family positives/negatives, trained steps', () => {
  const r = b2Select({ scores: [0.6, 0.1, -0.7, 0, 0.2, /* family 2 */ 0.4, 0.3, -0.2, 0.1, -0.4], familySize: 5 });
  assert.equal(r, { positives: [0], negatives: [2] });
  assert.equal(b2TrainSteps(7, 10), [7, 8, 9]);
  assert.throws(() => b2TrainSteps(10, 10), (e: unknown) => e instanceof RewardkitError && e.argument === 'splitStep');
});

// ---- PRDP gradients (finite differences) ----
test('PRDP and D3PO gradients match finite differences', () => {
  const r = rng(7);
  const N = 4, S = 3;
  const lp = Float64Array.from({ length: N * S }, () => gauss(r) * 1e-4);
  const ref = new Float64Array(N * S);
  const base = { refLogProb: ref, rewards: [0.3, 0.1, 0.7, 0.2], steps: S, pairs: [0, 1, 2, 3, 0, 2], beta: 5, clipRange: 5e-5 };
  const out = prdpLoss({ ...base, logProb: lp });
  const h = 1e-7;
  for (let i = 0; i < N * S; i++) {
    const up = Float64Array.from(lp); up[i]! += h;
    const dn = Float64Array.from(lp); dn[i]! -= h;
    const fd = (prdpLoss({ ...base, logProb: up }).loss - prdpLoss({ ...base, logProb: dn }).loss) / (2 * h);
    // logProb is read as f32: the step h is not exact, so compare loosely.
    assert.ok(Math.abs(fd - out.grad[i]!) < 2e-2 * Math.max(1, Math.abs(fd)), `prdp grad[${i}] ${out.grad[i]} vs ${fd}`);
  }
  const d = { logProb1: [0.02], refLogProb0: [0], refLogProb1: [0], prefer: [1, -1] };
  const g = d3poLoss({ ...d, logProb0: [0.03] });
  const e = 1e-3;
  const fd0 = (d3poLoss({ ...d, logProb0: [0.03 + e] }).loss - d3poLoss({ ...d, logProb0: [0.03 - e] }).loss) / (2 * e);
  assert.ok(Math.abs(fd0 - g.grad0[0]!) < 1e-4, `${fd0} vs ${g.grad0[0]}`);
  assert.is(d3poLoss({ ...d, logProb0: [0.5] }).grad0[0], 0); // clamped ratio: no gradient
});

// ---- Flow-GRPO gradient, multi-step ----
test('Flow-GRPO loss over [B, steps]: per-step means and gradient by finite differences', async () => {
  const r = rng(11);
  const B = 5, S = 3;
  const lp = Float32Array.from({ length: B * S }, () => gauss(r) * 1e-3);
  const old = Float32Array.from(lp, (x) => x + gauss(r) * 2e-4);
  const adv = Float32Array.from({ length: B * S }, () => gauss(r) * 3);
  const res = await flowGrpoLoss({ logProb: lp, oldLogProb: old, advantages: adv, steps: S, clipRange: 1e-3, backend: 'js' });
  assert.is(res.perStep.length, S);
  const h = 1e-4; // larger than f32 rounding of lp, small against the clip boundary effects we avoid below
  for (let i = 0; i < B * S; i++) {
    const r0 = res.ratio[i]!;
    if (Math.abs(r0 - 1) > 1e-3 - 2e-4 && Math.abs(r0 - 1) < 1e-3 + 2e-4) continue; // too near the clip kink
    const up = Float32Array.from(lp); up[i]! += h;
    const dn = Float32Array.from(lp); dn[i]! -= h;
    const fu = (await flowGrpoLoss({ logProb: up, oldLogProb: old, advantages: adv, steps: S, clipRange: 1e-3, backend: 'js' })).loss;
    const fdn = (await flowGrpoLoss({ logProb: dn, oldLogProb: old, advantages: adv, steps: S, clipRange: 1e-3, backend: 'js' })).loss;
    const fd = (fu - fdn) / (Math.fround(lp[i]! + h) - Math.fround(lp[i]! - h));
    assert.ok(Math.abs(fd - res.gradLogProb[i]!) < 2e-3 * Math.max(1, Math.abs(fd)) + 2e-3, `grad[${i}] ${res.gradLogProb[i]} vs ${fd}`);
  }
});

// ---- backends ----
type Concrete = 'native' | 'webgpu';
const gpu = await gpuStatus();
const backends: Concrete[] = [];
if (nativeStatus().available) backends.push('native');
else if (isCI) test('native backend available (CI)', () => assert.unreachable(nativeStatus().reason));
if (gpu.available) backends.push('webgpu');
else if (isCI) test('webgpu backend available (CI)', () => assert.unreachable(gpu.reason));
let small: GpuContext | undefined;

/** Random clip inputs, with edge cases: ratios far outside the clip, A beyond ±5, NaN, A = 0. */
function clipInputs(seed: number, n: number, extreme: boolean) {
  const r = rng(seed);
  const lp = new Float32Array(n), old = new Float32Array(n), adv = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    lp[i] = -2 + gauss(r);
    const k = r();
    old[i] = lp[i]! + (k < 0.5 ? gauss(r) * 1e-4 : k < 0.8 ? gauss(r) * 0.3 : gauss(r) * (extreme ? 25 : 5));
    adv[i] = k < 0.05 ? 0 : gauss(r) * 4;
  }
  if (n > 3) { lp[0] = NaN; adv[1] = NaN; old[2] = NaN; }
  return diffusionClipProblem({ logProb: lp, oldLogProb: old, advantages: adv, clipRange: 0.2 });
}

for (const backend of backends) {
  const ctx = () => (backend === 'webgpu' ? small : undefined);
  test(`${backend}: clipped term vs js on random inputs (huge ratios, NaN, A = 0, A beyond the clip)`, async () => {
    if (backend === 'webgpu') small = await createContext({ maxBindingSize: 65536 });
    const sizes = backend === 'native' ? [1, 2, 7, 240, 4099, 70000, 1 << 20] : [1, 2, 7, 240, 4099, 40000];
    for (const n of sizes) {
      const want = clipRowsJs(clipInputs(n, n, backend === 'native'));
      const p = clipInputs(n, n, backend === 'native');
      const got = backend === 'native' ? await clipRowsNative(p) : await clipRowsWebgpu(p, ctx());
      const [rel, abs] = backend === 'native' ? [2e-7, 0] : [1e-5, 1e-6];
      assert.is(mismatch(got.ratio, want.ratio, rel, abs), '', `ratio n=${n}`);
      assert.is(mismatch(got.loss, want.loss, rel, abs), '', `loss n=${n}`);
      assert.is(mismatch(got.grad, want.grad, rel, abs), '', `grad n=${n}`);
    }
  });

  if (backend === 'native') test('native: the fused clipped loss with per-step sums vs the js kernel + clipSumsJs', async () => {
    // [rows, steps, advantages per row, gradScale multiplier]: one step, tails of the 8 lanes, per-row
    // advantages across chunks, one block (steps > 1024), many blocks, a gradScale above 2^24 (f64 division).
    const cases: Array<[number, number, boolean, number]> = [[1, 1, false, 1], [7, 1, false, 1], [3, 10, false, 1], [1000, 10, true, 1],
      [24, 1100, false, 1], [4099, 3, true, 3], [65536, 10, false, 1], [16, 10, true, 2 ** 20 + 1]];
    for (const [k, [rows, steps, perRow, mul]] of cases.entries()) {
      const n = rows * steps;
      const base = clipInputs(700 + k, n, true);
      const adv = perRow ? base.advantages.filter((_, i) => i % steps === 0) : base.advantages;
      const raw = diffusionClipProblem({ logProb: base.logProb, oldLogProb: base.oldLogProb, advantages: adv, steps, clipRange: 0.2 });
      const c: ClipInputs = { n, steps, logProb: base.logProb, oldLogProb: base.oldLogProb, advantages: adv, advPerRow: perRow, lo: raw.lo, hi: raw.hi, advClip: raw.advClip };
      const clip32 = Math.fround(0.2), gradScale = n * mul, label = `${rows}x${steps}${perRow ? ' per-row A' : ''}`;
      const want = clipSumsJs(clipRowsJs(raw), c, clip32, gradScale);
      const got = await clipLossNative(c, clip32, gradScale);
      assert.is(mismatch(got.ratio, want.ratio, 2e-7, 0), '', `ratio ${label}`);
      assert.is(mismatch(got.grad, want.grad, 2e-7, 0), '', `grad ${label}`);
      let differ = 0;
      for (let i = 0; i < n; i++) if (!Object.is(got.ratio[i], want.ratio[i])) differ++;
      assert.is(mismatch(got.sums.subarray(0, 2 * steps), want.sums.subarray(0, 2 * steps), 1e-7, 0), '', `loss and square sums ${label}`);
      assert.is(mismatch(got.sums.subarray(2 * steps), want.sums.subarray(2 * steps), 0, differ), '', `clip counts ${label}`);
      assert.is(got.sums.length, CLIP_TERMS * steps);
      // The 4-lane baseline kernel (machines without AVX-512): the same bits as the default pick.
      const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>>;
      const base4 = { ratio: new Float32Array(n), grad: new Float32Array(n), sums: new Float64Array(CLIP_TERMS * steps) };
      await addon['diffusionClipLoss']!({ ...c, clip: clip32, gradScale, ...base4, baseline: true });
      for (const k of ['ratio', 'grad', 'sums'] as const) {
        for (let i = 0; i < got[k].length; i++) if (!Object.is(base4[k][i], got[k][i])) assert.unreachable(`baseline ${k}[${i}] ${label}`);
      }
    }
    const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>>;
    const good = () => ({ n: 6, steps: 3, logProb: new Float32Array(6), oldLogProb: new Float32Array(6), advantages: new Float32Array(6), advPerRow: false,
      lo: 0.8, hi: 1.2, advClip: 5, clip: 0.2, gradScale: 6, ratio: new Float32Array(6), grad: new Float32Array(6), sums: new Float64Array(15) });
    await addon['diffusionClipLoss']!(good());
    await addon['diffusionClipLoss']!({ ...good(), advPerRow: true, advantages: new Float32Array(2) });
    for (const patch of [{ steps: 0 }, { steps: 4 }, { n: 0 }, { advPerRow: true }, { advantages: new Float32Array(2) }, { sums: new Float64Array(14) },
      { grad: new Float64Array(6) }, { advPerRow: 1 }, { baseline: 'yes' }]) {
      let threw = false;
      try { await addon['diffusionClipLoss']!({ ...good(), ...patch }); } catch { threw = true; }
      assert.ok(threw, JSON.stringify(patch));
    }
  });

  test(`${backend}: latent squared differences vs js (rows of every length, chunked bindings)`, async () => {
    const shapes: Array<[number, number]> = backend === 'native'
      ? [[1, 1], [3, 5], [6, 256], [24, 65536], [2, 100003], [1, 1 << 21]]
      : [[1, 1], [3, 5], [6, 256], [5, 4097], [3, 40000], [24, 4096 * 3]];
    for (const [rows, cols] of shapes) {
      const r = rng(rows * 7 + cols);
      const a = Float32Array.from({ length: rows * cols }, () => gauss(r));
      const b = Float32Array.from(a, (x) => x + gauss(r) * 0.01);
      const p = { rows, cols, a, b };
      const want = latentRowsJs(p);
      const got = backend === 'native' ? await latentRowsNative(p) : await latentRowsWebgpu(p, ctx());
      assert.is(mismatch(got, want, backend === 'native' ? 1e-6 : 2e-5, 0), '', `${rows}x${cols}`);
    }
    // NaN / Inf in one row stay in that row; huge values overflow f32 squares to Inf as in torch.
    const a = new Float32Array(4 * 300).fill(1), b = new Float32Array(4 * 300);
    a[300 + 17] = NaN; a[600 + 5] = 1e30;
    const edge = { rows: 4, cols: 300, a, b };
    const edgeGot = backend === 'native' ? await latentRowsNative(edge) : await latentRowsWebgpu(edge, ctx());
    assert.is(mismatch(edgeGot, latentRowsJs(edge), 1e-6, 0), '', 'NaN/Inf rows');
    assert.ok(Number.isNaN(edgeGot[1]!) && edgeGot[2] === Infinity && edgeGot[0] === 300 && edgeGot[3] === 300);
    // Through the public op, with std, and on the default context.
    const r = rng(5);
    const mean = Float32Array.from({ length: 4 * 1000 }, () => gauss(r)), meanRef = Float32Array.from(mean, (x) => x + 0.1);
    const std = [0.5, 0.4, 0.3, 0.2];
    const js = await latentKl({ mean, meanRef, rows: 4, std, backend: 'js' });
    const got = await latentKl({ mean, meanRef, rows: 4, std, backend });
    assert.is(got.backend, backend);
    assert.is(mismatch(got.kl, js.kl, 2e-5, 0), '');
  });

  test(`${backend}: flowGrpoLoss and danceGrpoLoss agree with js end to end`, async () => {
    const r = rng(99);
    const B = 24, S = 10, D = 16 * 8 * 8;
    const lp = Float32Array.from({ length: B * S }, () => gauss(r));
    const old = Float32Array.from(lp, (x) => x + gauss(r) * 1e-3);
    const adv = Float32Array.from({ length: B * S }, () => gauss(r) * 2);
    const mu = Float32Array.from({ length: B * S * D }, () => gauss(r)), muRef = Float32Array.from(mu, (x) => x + gauss(r) * 0.01);
    const std = Float32Array.from({ length: B * S }, () => 0.1 + r());
    const o = { logProb: lp, oldLogProb: old, advantages: adv, steps: S, beta: 0.04, prevSampleMean: mu, prevSampleMeanRef: muRef, stdDevT: std };
    const js = await flowGrpoLoss({ ...o, backend: 'js' });
    const got = await flowGrpoLoss({ ...o, backend, ...(ctx() && { context: ctx() }) });
    assert.is(got.backend, backend);
    assert.is(mismatch([got.loss, got.klLoss, got.policyLoss, got.clipfrac], [js.loss, js.klLoss, js.policyLoss, js.clipfrac], 2e-5, 1e-7), '');
    assert.is(mismatch(got.gradLogProb, js.gradLogProb, 1e-5, 1e-8), '');
    const dj = await danceGrpoLoss({ newLogProbs: lp, oldLogProbs: old, advantages: adv, steps: S, backend: 'js' });
    const dg = await danceGrpoLoss({ newLogProbs: lp, oldLogProbs: old, advantages: adv, steps: S, backend });
    assert.is(mismatch([dg.loss], [dj.loss], 1e-5, 1e-8), '');
  });
}

for (const backend of ['js', ...backends] as Concrete[]) {
  test(`${backend}: flowGrpoLoss and danceGrpoLoss write into \`out\` (stale contents ignored), the same values as fresh arrays`, async () => {
    const r = rng(98), B = 12, S = 10, n = B * S;
    const lp = Float32Array.from({ length: n }, () => gauss(r)), old = Float32Array.from(lp, (x) => x + gauss(r) * 1e-3);
    const adv = Float32Array.from({ length: n }, () => gauss(r) * 2), advRow = Float32Array.from({ length: B }, () => gauss(r));
    const flow = { logProb: lp, oldLogProb: old, advantages: adv, steps: S, backend };
    const dance = { newLogProbs: lp, oldLogProbs: old, advantages: advRow, steps: S, backend };
    const fresh = [await flowGrpoLoss(flow), await danceGrpoLoss(dance)];
    for (const k of [0, 1]) {
      const out = { ratio: new Float32Array(n).fill(NaN), gradLogProb: new Float32Array(n).fill(7) };
      const got = k === 0 ? await flowGrpoLoss({ ...flow, out }) : await danceGrpoLoss({ ...dance, out });
      assert.ok(got.ratio === out.ratio && got.gradLogProb === out.gradLogProb, `arrays returned (${k})`);
      assert.is(mismatch(got.ratio, fresh[k]!.ratio, 0, 0), '', `ratio (${k})`);
      assert.is(mismatch(got.gradLogProb, fresh[k]!.gradLogProb, 0, 0), '', `gradient (${k})`);
      assert.is(got.loss, fresh[k]!.loss);
    }
  });
}

// ---- errors and fuzz ----
test('typed errors name the argument', async () => {
  await rejects(() => flowGrpoLoss({ logProb: [1, 2], oldLogProb: [1], advantages: [1, 2] }), 'oldLogProb');
  await rejects(() => flowGrpoLoss({ logProb: [1, 2, 3], oldLogProb: [1, 2, 3], advantages: [1, 2, 3], steps: 2 }), 'logProb');
  await rejects(() => flowGrpoLoss({ logProb: [1], oldLogProb: [1], advantages: [1], beta: 0.1 }), 'prevSampleMean');
  await rejects(() => flowGrpoLoss({ logProb: [1], oldLogProb: [1], advantages: [1], clipRange: -1 }), 'clipRange');
  await rejects(() => flowGrpoLoss({ logProb: [1], oldLogProb: [1], advantages: [1], backend: 'cuda' as never }), 'backend');
  await rejects(() => flowGrpoLoss({ logProb: [1, 2], oldLogProb: [1, 2], advantages: [1, 2], out: { ratio: new Float32Array(3) } }), 'out.ratio');
  await rejects(() => danceGrpoLoss({ newLogProbs: [1, 2], oldLogProbs: [1, 2], advantages: [1, 2], out: { gradLogProb: [0, 0] as never } }), 'out.gradLogProb');
  await rejects(() => flowGrpoLoss({ logProb: [1], oldLogProb: [1], advantages: [1], out: 3 as never }), 'out');
  await rejects(() => latentKl({ mean: [1, 2, 3], meanRef: [1, 2, 3], rows: 2 }), 'mean');
  await rejects(() => latentKl({ mean: [1, 2], meanRef: [1, 2], rows: 2, std: [1] }), 'std');
  await rejects(() => new FlowGrpoTracker().update(['a', 'b'], [1, NaN]), 'rewards[1]');
  await rejects(() => new FlowGrpoTracker().update(['a', null as never], [1, 2]), 'prompts[1]');
  await rejects(() => new FlowGrpoTracker().update(['a', 'b'], [1, 2, 3], 2), 'rewards');
  await rejects(() => new DdpoTracker({ bufferSize: 0 }), 'bufferSize');
  await rejects(() => prdpLoss({ logProb: [1, 2], refLogProb: [1, 2], rewards: [1, 2], steps: 1, pairs: [0, 2] }), 'pairs[1]');
  await rejects(() => d3poLoss({ logProb0: [1], logProb1: [1], refLogProb0: [1], refLogProb1: [1], prefer: [1] }), 'prefer');
  await rejects(() => denseRewards([1, 2, 3], 2), 'stepRewards');
  await rejects(() => ttsnapKeep(4, 0), 'alpha');
});

test('fuzz: malformed and edge inputs give results or RewardkitErrors, never crashes', async () => {
  const anyArray = fc.oneof(
    fc.array(fc.oneof(fc.double(), fc.integer(), fc.constant(NaN)), { maxLength: 12 }),
    fc.float32Array({ maxLength: 12 }), fc.constant(undefined), fc.constant(null), fc.string(),
  );
  const which: Concrete[] | ['js'] = backends.length ? backends : ['js'];
  await fc.assert(fc.asyncProperty(anyArray, anyArray, anyArray, fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constant(undefined)), fc.constantFrom('js', ...which), async (a, b, c, steps, backend) => {
    for (const call of [
      () => flowGrpoLoss({ logProb: a as never, oldLogProb: b as never, advantages: c as never, steps: steps as never, backend: backend as never, ...(backend === 'webgpu' && small && { context: small }) }),
      () => latentKl({ mean: a as never, meanRef: b as never, rows: steps as never, backend: backend as never }),
      () => new FlowGrpoTracker().update(a as never, b as never, steps as never),
      () => new DdpoTracker({ minCount: 1 }).update(a as never, c as never),
      () => danceGrpoAdvantages(a as never, { groupSize: steps as never }),
      () => d3poLoss({ logProb0: a as never, logProb1: a as never, refLogProb0: b as never, refLogProb1: b as never, prefer: c as never }),
      () => ttsnapPrune(a as never, 0.5),
      () => b2Select({ scores: a as never, familySize: steps as never }),
    ]) {
      try { await call(); } catch (e) { if (!(e instanceof RewardkitError)) throw e; }
    }
  }), { numRuns: 300 });
});

test.after(() => { small?.dispose(); disposeDefaultContext(); });
test.run();
