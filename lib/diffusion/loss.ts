/**
 * Diffusion-RL losses (SPEC.md §3.3): Flow-GRPO's clipped loss with the latent KL, DanceGRPO's
 * clipped loss, D3PO and PRDP. The per-element clipped term over [B] or [B, steps] and the latent KL
 * (a per-row mean of squared differences of two latent tensors: the big-data part) run on js, native
 * and webgpu; the per-step means are added on the host in f64. D3PO and PRDP are per-pair scalars
 * over a few hundred pairs: JS only (a native call or GPU submission costs more than the math).
 *
 * Sources: yifan123/flow_grpo scripts/train_sd3.py ('# grpo logic'); XueZeyue/DanceGRPO
 * fastvideo/train_grpo_flux.py; yk7333/d3po scripts/rm/train_d3po.py; PRDP (Deng et al. 2024) as SPEC.md states it.
 */
import { describe, fail } from '../errors.js';
import { checkFinite, checkSize, toFloat32 } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { outArray } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { clipRowsJs, clipSumsJs, latentRowsJs } from './loss.ref.js';
import { clipLossNative, latentRowsNative } from './loss.native.js';
import { clipRowsWebgpu, latentRowsWebgpu } from './loss.gpu.js';

type Floats = Float32Array | Float64Array | number[];

/** What the clip kernels receive: f32 inputs of n = B·steps elements, bounds already in f32. */
export interface ClipProblem {
  n: number;
  logProb: Float32Array;
  oldLogProb: Float32Array;
  advantages: Float32Array;
  lo: number;
  hi: number;
  advClip: number;
  out: ClipRaw;
}
/** Per element: ratio, the clipped loss term max(−A·r, −A·clamp(r)), and its derivative w.r.t. logp. */
export interface ClipRaw { ratio: Float32Array; loss: Float32Array; grad: Float32Array }
/** The validated inputs of a clipped loss over [rows, steps]; advantages per element or, with advPerRow, per row. */
export interface ClipInputs {
  n: number;
  steps: number;
  logProb: Float32Array;
  oldLogProb: Float32Array;
  advantages: Float32Array;
  advPerRow: boolean;
  lo: number;
  hi: number;
  advClip: number;
  /** The caller's arrays for the ratio and the gradient (`out`), when given. */
  outRatio?: Float32Array;
  outGrad?: Float32Array;
}
/** Sums per step (CLIP_TERMS arrays of [steps], q-major) of the terms the losses average (see CLIP_TERMS). */
export interface ClipSums { ratio: Float32Array; /** ∂loss/∂logp already divided by gradScale. */ grad: Float32Array; sums: Float64Array }
/** Per step j: sums[q·steps + j] for q = 0 the loss term, 1 f32((logp − old)²), 2 |r − 1| > ε, 3 r − 1 > ε, 4 1 − r > ε. */
export const CLIP_TERMS = 5;
/** Two latent tensors [rows, cols] (cols = every non-batch element). */
export interface LatentProblem { rows: number; cols: number; a: Float32Array; b: Float32Array }

const f = Math.fround;

function floats(value: unknown, argument: string, length: number): Float32Array {
  const a = toFloat32(value, argument);
  if (a.length !== length) fail('E_SHAPE', argument, `length ${length}`, `length ${a.length}`);
  return a;
}

function options(o: unknown): Record<string, unknown> {
  if (o === null || typeof o !== 'object') fail('E_VALUE', 'options', 'an options object', describe(o));
  return o as Record<string, unknown>;
}

function positive(value: unknown, fallback: number, argument: string): number {
  return value === undefined ? fallback : checkFinite(value, argument, 0);
}

/** The per-element problem of the raw clip kernels (per-row advantages repeated over their steps). */
function rawProblem(c: ClipInputs): ClipProblem {
  let adv = c.advantages;
  if (c.advPerRow) {
    adv = new Float32Array(c.n);
    for (let i = 0; i < c.n; i++) adv[i] = c.advantages[Math.floor(i / c.steps)]!;
  }
  return {
    n: c.n, logProb: c.logProb, oldLogProb: c.oldLogProb, advantages: adv, lo: c.lo, hi: c.hi, advClip: c.advClip,
    out: { ratio: new Float32Array(c.n), loss: new Float32Array(c.n), grad: new Float32Array(c.n) },
  };
}

/**
 * The clipped term and its per-step sums on the chosen backend for `op` (whose `auto` threshold
 * applies): native fuses both in one pass; js and webgpu run the element kernel, then clipSumsJs.
 */
type Ran = ClipSums & { backend: 'js' | 'native' | 'webgpu' };
async function clipLoss(op: string, c: ClipInputs, clip32: number, gradScale: number, backend: unknown, context?: GpuContext): Promise<Ran> {
  const r = await runOp(op, backend, c.n, {
    js: async (): Promise<Ran> => ({ ...clipSumsJs(clipRowsJs(rawProblem(c)), c, clip32, gradScale), backend: 'js' }),
    native: async (): Promise<Ran> => ({ ...(await clipLossNative(c, clip32, gradScale)), backend: 'native' }),
    webgpu: async (): Promise<Ran> => {
      const p = rawProblem(c);
      await clipRowsWebgpu(p, context);
      return { ...clipSumsJs(p.out, c, clip32, gradScale), backend: 'webgpu' };
    },
  });
  // native writes into `out` directly; js and webgpu results are copied there.
  if (c.outRatio && r.ratio !== c.outRatio) { c.outRatio.set(r.ratio); r.ratio = c.outRatio; }
  if (c.outGrad && r.grad !== c.outGrad) { c.outGrad.set(r.grad); r.grad = c.outGrad; }
  return r;
}

export interface LatentKlOptions {
  /** μθ: the policy's prev_sample_mean, [rows, …] flattened (rows = B, or B·steps). */
  mean: Floats;
  /** μref: the reference model's prev_sample_mean, same shape. */
  meanRef: Floats;
  /** Rows (the batch dimension); every other element of the tensors is averaged. */
  rows: number;
  /** std_dev_t per row [rows] (the SDE's std WITHOUT sqrt(−dt), as Flow-GRPO's kl_loss); omit for the plain mean of squares. */
  std?: Floats;
  backend?: Backend;
  context?: GpuContext;
}

/**
 * Flow-GRPO's latent KL per row: mean((μθ − μref)²) / (2·std²) (or the plain mean without `std`), f32.
 * The sum of squares accumulates in f64 on js/native and in f32 blocks of 4,096 (added in f64) on webgpu.
 */
export async function latentKl(opts: LatentKlOptions): Promise<{ kl: Float32Array; backend: 'js' | 'native' | 'webgpu' }> {
  const o = options(opts);
  const rows = checkSize(o['rows'], 'rows', 1);
  const a = toFloat32(o['mean'], 'mean');
  if (a.length % rows !== 0 || a.length === 0) fail('E_SHAPE', 'mean', `a non-empty length divisible by rows = ${rows}`, `length ${a.length}`);
  const b = floats(o['meanRef'], 'meanRef', a.length);
  const std = o['std'] === undefined ? null : floats(o['std'], 'std', rows);
  const p: LatentProblem = { rows, cols: a.length / rows, a, b };
  let backend: 'js' | 'native' | 'webgpu' = 'js';
  const sums = await runOp('latentKl', o['backend'], a.length, {
    js: async () => latentRowsJs(p),
    native: async () => { backend = 'native'; return latentRowsNative(p); },
    webgpu: async () => { backend = 'webgpu'; return latentRowsWebgpu(p, opts.context); },
  });
  const kl = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const m = f(sums[r]! / p.cols);
    kl[r] = std ? f(m / f(2 * f(std[r]! * std[r]!))) : m;
  }
  return { kl, backend };
}

export interface FlowGrpoLossOptions {
  /** log π_θ of the sampled transitions: [B] (one step) or [B, steps] row-major. */
  logProb: Floats;
  /** The sampling-time log-probs, same shape. */
  oldLogProb: Floats;
  /** Advantages, same shape (Flow-GRPO's tracker output for the trained steps), or [B] repeated over the steps. */
  advantages: Floats;
  /** Steps per row (default 1). */
  steps?: number;
  /** PPO clip range ε on the ratio (Flow-GRPO default 1e-4). */
  clipRange?: number;
  /** Advantages are clamped to ±this (default 5). */
  advClipMax?: number;
  /** KL weight β (Flow-GRPO: 0.04 SD3 GenEval, 0.01 OCR/PickScore, 0 = no reference model; default 0). */
  beta?: number;
  /** With beta > 0: μθ, μref [B·steps rows of the latent] in the same (b, step) order, and std_dev_t [B·steps]. */
  prevSampleMean?: Floats;
  prevSampleMeanRef?: Floats;
  stdDevT?: Floats;
  /**
   * Arrays for `ratio` and `gradLogProb`, reused across steps (the result returns them): fresh
   * multi-MB outputs cost more in page faults here than the loss itself.
   */
  out?: { ratio?: Float32Array; gradLogProb?: Float32Array };
  backend?: Backend;
  context?: GpuContext;
}

export interface StepMetrics {
  loss: number; policyLoss: number; klLoss: number; approxKl: number;
  clipfrac: number; clipfracGtOne: number; clipfracLtOne: number;
}

export interface FlowGrpoLossResult extends StepMetrics {
  /** Each step's values (Flow-GRPO logs one per step j, then averages: the fields above are those means). */
  perStep: StepMetrics[];
  /** exp(logp − old) per element. */
  ratio: Float32Array;
  /** ∂loss/∂logProb per element, loss being the mean over steps of each step's loss. */
  gradLogProb: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

function prepareClip(o: Record<string, unknown>, clipDefault: number) {
  const lp = toFloat32(o['logProb'] ?? o['newLogProbs'], o['logProb'] !== undefined ? 'logProb' : 'newLogProbs');
  const n = lp.length;
  const steps = o['steps'] === undefined ? 1 : checkSize(o['steps'], 'steps', 1);
  if (n === 0 || n % steps !== 0) fail('E_SHAPE', 'logProb', `a non-empty length divisible by steps = ${steps}`, `length ${n}`);
  const old = floats(o['oldLogProb'] ?? o['oldLogProbs'], o['oldLogProb'] !== undefined ? 'oldLogProb' : 'oldLogProbs', n);
  // Advantages per element, or one per row [B] repeated over its steps (DanceGRPO's per-sample advantage).
  const adv = toFloat32(o['advantages'], 'advantages');
  const advPerRow = steps > 1 && adv.length === n / steps;
  if (!advPerRow && adv.length !== n) fail('E_SHAPE', 'advantages', `length ${n} (per element) or ${n / steps} (per row)`, `length ${adv.length}`);
  const clip = positive(o['clipRange'], clipDefault, 'clipRange');
  const advClip = positive(o['advClipMax'], 5, 'advClipMax');
  const out = o['out'] as { ratio?: unknown; gradLogProb?: unknown } | undefined;
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', 'an object { ratio?, gradLogProb? }', describe(out));
  const c: ClipInputs = {
    n, steps, logProb: lp, oldLogProb: old, advantages: adv, advPerRow, lo: f(1 - clip), hi: f(1 + clip), advClip: f(advClip),
    ...(out?.ratio !== undefined ? { outRatio: outArray(out.ratio, 'out.ratio', n) } : {}),
    ...(out?.gradLogProb !== undefined ? { outGrad: outArray(out.gradLogProb, 'out.gradLogProb', n) } : {}),
  };
  return { c, steps, rows: n / steps, clip };
}

/** The validated clip problem for given log-probs and advantages (tests feed it to each backend). */
export function diffusionClipProblem(opts: { logProb: Floats; oldLogProb: Floats; advantages: Floats; steps?: number; clipRange?: number; advClipMax?: number }): ClipProblem {
  return rawProblem(prepareClip(options(opts), 1e-4).c);
}

/**
 * Flow-GRPO's loss for each trained step j: A = clamp(A, ±5), r = exp(logp − old),
 * policy = mean_b max(−A·r, −A·clamp(r, 1±ε)), kl = mean_b mean((μθ − μref)²)/(2·std²),
 * loss = policy + β·kl, approx_kl = ½·mean((logp − old)²), clipfrac = mean(|r − 1| > ε).
 */
export async function flowGrpoLoss(opts: FlowGrpoLossOptions): Promise<FlowGrpoLossResult> {
  const o = options(opts);
  const { c, steps, rows, clip } = prepareClip(o, 1e-4);
  const beta = o['beta'] === undefined ? 0 : checkFinite(o['beta'], 'beta');
  if (beta < 0) fail('E_VALUE', 'beta', 'a finite number >= 0', describe(beta));
  let kl: Float32Array | null = null;
  if (beta > 0) {
    if (o['prevSampleMean'] === undefined || o['prevSampleMeanRef'] === undefined || o['stdDevT'] === undefined) {
      fail('E_VALUE', 'prevSampleMean', 'prevSampleMean, prevSampleMeanRef and stdDevT when beta > 0', 'missing latents');
    }
    kl = (await latentKl({ mean: o['prevSampleMean'] as Floats, meanRef: o['prevSampleMeanRef'] as Floats, std: o['stdDevT'] as Floats, rows: c.n, backend: opts.backend, context: opts.context })).kl;
  }
  const clip32 = f(clip);
  const { ratio, grad: gradLogProb, sums, backend } = await clipLoss('flowGrpoLoss', c, clip32, rows * steps, o['backend'], opts.context);
  // KL per step: Σ_b kl[b, j] in row order (the same order as the kernels' sums).
  const klSum = new Float64Array(steps);
  if (kl) for (let b = 0, i = 0; b < rows; b++) for (let j = 0; j < steps; j++, i++) klSum[j] += kl[i]!;
  const perStep: StepMetrics[] = [];
  for (let j = 0; j < steps; j++) {
    const term = (q: number) => sums[q * steps + j]!;
    const policyLoss = f(term(0) / rows), klLoss = f(klSum[j]! / rows);
    perStep.push({
      policyLoss, klLoss, loss: beta > 0 ? f(policyLoss + f(beta * klLoss)) : policyLoss, approxKl: f(0.5 * f(term(1) / rows)),
      clipfrac: f(term(2) / rows), clipfracGtOne: f(term(3) / rows), clipfracLtOne: f(term(4) / rows),
    });
  }
  const mean = (k: keyof StepMetrics) => perStep.reduce((s, m) => s + m[k], 0) / steps;
  return {
    loss: mean('loss'), policyLoss: mean('policyLoss'), klLoss: mean('klLoss'), approxKl: mean('approxKl'),
    clipfrac: mean('clipfrac'), clipfracGtOne: mean('clipfracGtOne'), clipfracLtOne: mean('clipfracLtOne'),
    perStep, ratio, gradLogProb, backend,
  };
}

export interface DanceGrpoLossOptions {
  /** New log-probs [B] or [B, steps]. */
  newLogProbs: Floats;
  oldLogProbs: Floats;
  /** Per element, or [B]: one advantage per sample, repeated over its steps (as DanceGRPO). */
  advantages: Floats;
  steps?: number;
  /** Default 1e-4. */
  clipRange?: number;
  /** Default 5. */
  advClipMax?: number;
  /** DanceGRPO divides each step's loss by gradient_accumulation_steps · train_timesteps. */
  gradientAccumulationSteps?: number;
  trainTimesteps?: number;
  /** Arrays for `ratio` and `gradLogProb`, reused across steps (as flowGrpoLoss's). */
  out?: { ratio?: Float32Array; gradLogProb?: Float32Array };
  backend?: Backend;
  context?: GpuContext;
}

/**
 * DanceGRPO's clipped loss per step: mean_b max(−A·r, −A·clamp(r, 1±ε)) / (accum · train_timesteps),
 * A clamped to ±adv_clip_max. `loss` is the sum over the given steps (DanceGRPO backpropagates each
 * step's loss and adds them); `gradLogProb` is its derivative.
 */
export async function danceGrpoLoss(opts: DanceGrpoLossOptions): Promise<{ loss: number; perStep: number[]; ratio: Float32Array; gradLogProb: Float32Array; backend: 'js' | 'native' | 'webgpu' }> {
  const o = options(opts);
  const { c, steps, rows, clip } = prepareClip(o, 1e-4);
  const accum = o['gradientAccumulationSteps'] === undefined ? 1 : checkSize(o['gradientAccumulationSteps'], 'gradientAccumulationSteps', 1);
  const T = o['trainTimesteps'] === undefined ? steps : checkSize(o['trainTimesteps'], 'trainTimesteps', 1);
  const { ratio, grad: gradLogProb, sums, backend } = await clipLoss('danceGrpoLoss', c, f(clip), rows * accum * T, o['backend'], opts.context);
  const perStep: number[] = [];
  for (let j = 0; j < steps; j++) perStep.push(f(f(sums[j]! / rows) / (accum * T)));
  return { loss: perStep.reduce((a, b) => a + b, 0), perStep, ratio, gradLogProb, backend };
}

/**
 * D3PO's Pareto comparison of two samples' reward vectors [P, K]: +1/−1 to the dominating /
 * dominated sample, 0 for ties and mixed outcomes. Returns human_prefer [P, 2].
 */
export function paretoPrefer(rewards0: Floats, rewards1: Floats, objectives = 1): Float32Array {
  const k = checkSize(objectives, 'objectives', 1);
  const a = toFloat32(rewards0, 'rewards0');
  const b = floats(rewards1, 'rewards1', a.length);
  if (a.length % k !== 0) fail('E_SHAPE', 'rewards0', `a length divisible by objectives = ${k}`, `length ${a.length}`);
  const P = a.length / k;
  const h = new Float32Array(2 * P);
  for (let i = 0; i < P; i++) {
    let aLe = true, aLt = false, bLe = true, bLt = false;
    for (let j = i * k; j < (i + 1) * k; j++) {
      const x = a[j]!, y = b[j]!;
      if (!(x <= y)) aLe = false;
      if (x < y) aLt = true;
      if (!(y <= x)) bLe = false;
      if (y < x) bLt = true;
    }
    if (aLe && aLt) { h[2 * i] = -1; h[2 * i + 1] = 1; }
    if (bLe && bLt) { h[2 * i] = 1; h[2 * i + 1] = -1; }
  }
  return h;
}

export interface D3poLossOptions {
  /** Σ log π_θ of sample 0 / 1 of each pair [P] (or per step: call once per step). */
  logProb0: Floats;
  logProb1: Floats;
  /** The reference model's, same shape. */
  refLogProb0: Floats;
  refLogProb1: Floats;
  /** human_prefer [P, 2] (±1 or 0), e.g. from paretoPrefer. */
  prefer: Floats;
  /** Default 0.1. */
  beta?: number;
  /** Ratio clamp 1 ± eps (default 0.1). */
  eps?: number;
}

/**
 * D3PO: ρk = clamp(exp(logπθ − logπref), 1±eps), loss = mean_p −log σ(β·(h0·log ρ0 + h1·log ρ1)).
 * Gradients w.r.t. logProb0/1: (σ(z) − 1)·β·hk/P where ρk is not clamped, 0 where it is.
 */
export function d3poLoss(opts: D3poLossOptions): { loss: number; perPair: Float64Array; grad0: Float32Array; grad1: Float32Array } {
  const o = options(opts);
  const l0 = toFloat32(o['logProb0'], 'logProb0');
  const P = l0.length;
  if (P === 0) fail('E_SHAPE', 'logProb0', 'at least one pair', 'length 0');
  const l1 = floats(o['logProb1'], 'logProb1', P), r0 = floats(o['refLogProb0'], 'refLogProb0', P), r1 = floats(o['refLogProb1'], 'refLogProb1', P);
  const h = floats(o['prefer'], 'prefer', 2 * P);
  const beta = o['beta'] === undefined ? 0.1 : checkFinite(o['beta'], 'beta');
  const eps = positive(o['eps'], 0.1, 'eps');
  const lo = f(1 - eps), hi = f(1 + eps);
  const perPair = new Float64Array(P), grad0 = new Float32Array(P), grad1 = new Float32Array(P);
  let total = 0;
  for (let i = 0; i < P; i++) {
    const e0 = f(Math.exp(f(l0[i]! - r0[i]!))), e1 = f(Math.exp(f(l1[i]! - r1[i]!)));
    const c0 = Math.min(Math.max(e0, lo), hi), c1 = Math.min(Math.max(e1, lo), hi);
    const z = beta * Math.log(c0) * h[2 * i]! + beta * Math.log(c1) * h[2 * i + 1]!;
    // −log σ(z) = softplus(−z), written stably.
    const l = z >= 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z));
    perPair[i] = l;
    total += l;
    const dz = 1 / (1 + Math.exp(-z)) - 1; // ∂(−log σ(z))/∂z
    grad0[i] = e0 > lo && e0 < hi ? (dz * beta * h[2 * i]!) / P : 0;
    grad1[i] = e1 > lo && e1 < hi ? (dz * beta * h[2 * i + 1]!) / P : 0;
  }
  return { loss: total / P, perPair, grad0, grad1 };
}

export interface PrdpLossOptions {
  /** Per-step log π_θ [N, steps] of N trajectories. */
  logProb: Floats;
  /** Per-step log π_ref (the sampling policy, PRDP's π_old) [N, steps]. */
  refLogProb: Floats;
  /** Rewards [N]. */
  rewards: Floats;
  steps: number;
  /** Pairs to compare: [P, 2] row indices (a, b), e.g. every pair within a prompt's group. */
  pairs: Uint32Array | number[];
  /** KL weight β (default 1). */
  beta?: number;
  /** Per-step proximal clip of log(πθ/πref) to ±clipRange (default 1e-4). */
  clipRange?: number;
}

/**
 * PRDP (SPEC.md §3.3): r̂ = Σ_t log(πθ/πref) per trajectory; for each pair
 * l = ((r̂_a − r̂_b) − (r_a − r_b)/β)², l_clip the same with each step's log-ratio clipped to ±ε,
 * loss = mean over pairs of max(l, l_clip). Gradients w.r.t. logProb [N, steps].
 */
export function prdpLoss(opts: PrdpLossOptions): { loss: number; perPair: Float64Array; grad: Float64Array } {
  const o = options(opts);
  const steps = checkSize(o['steps'], 'steps', 1);
  const lp = toFloat32(o['logProb'], 'logProb');
  if (lp.length === 0 || lp.length % steps !== 0) fail('E_SHAPE', 'logProb', `a non-empty length divisible by steps = ${steps}`, `length ${lp.length}`);
  const N = lp.length / steps;
  const ref = floats(o['refLogProb'], 'refLogProb', lp.length);
  const rw = floats(o['rewards'], 'rewards', N);
  const beta = positive(o['beta'], 1, 'beta');
  const eps = positive(o['clipRange'], 1e-4, 'clipRange');
  const pairs = o['pairs'];
  if (!(pairs instanceof Uint32Array) && !Array.isArray(pairs)) fail('E_DTYPE', 'pairs', 'a Uint32Array or number[] of [a, b] row pairs', describe(pairs));
  const pl = pairs as ArrayLike<unknown>;
  if (pl.length === 0 || pl.length % 2 !== 0) fail('E_SHAPE', 'pairs', 'a non-empty even length (pairs [P, 2])', `length ${pl.length}`);
  for (let i = 0; i < pl.length; i++) {
    const v = pl[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= N) fail('E_RANGE', `pairs[${i}]`, `a row index in [0, ${N})`, describe(v));
  }
  const idx = pl as ArrayLike<number>;
  const P = idx.length / 2;
  const sum = new Float64Array(N), sumClip = new Float64Array(N);
  for (let n = 0; n < N; n++) for (let t = 0; t < steps; t++) {
    const d = lp[n * steps + t]! - ref[n * steps + t]!;
    sum[n] += d;
    sumClip[n] += Math.min(Math.max(d, -eps), eps);
  }
  const perPair = new Float64Array(P), grad = new Float64Array(lp.length);
  let total = 0;
  for (let k = 0; k < P; k++) {
    const a = idx[2 * k]!, b = idx[2 * k + 1]!;
    const target = (rw[a]! - rw[b]!) / beta;
    const e = sum[a]! - sum[b]! - target, ec = sumClip[a]! - sumClip[b]! - target;
    const l = e * e, lc = ec * ec;
    const useClip = lc > l;
    perPair[k] = Math.max(l, lc); // NaN when either is NaN
    total += perPair[k]!;
    for (let t = 0; t < steps; t++) {
      for (const [row, sign] of [[a, 1], [b, -1]] as const) {
        const i = row * steps + t;
        const d = lp[i]! - ref[i]!;
        const g = useClip ? (d > -eps && d < eps ? 2 * ec * sign : 0) : 2 * e * sign;
        grad[i] += g / P;
      }
    }
  }
  return { loss: total / P, perPair, grad };
}
