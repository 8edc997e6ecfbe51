/**
 * Reward-model preference metrics (SPEC.md §2.7): Bradley–Terry probabilities and losses (TRL
 * RewardTrainer.compute_loss with margin and center_rewards_coefficient, OpenRLHF PairWiseLoss /
 * LogExpLoss, label smoothing), pairwise accuracy, and preference strength over an ensemble
 * (Secrets of RLHF II). bradleyTerry runs on js, native and webgpu; preferenceStrength is JS.
 */
import { describe, fail } from '../errors.js';
import { checkFinite, checkSize } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { outArray } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { btMetrics, btRef, type BtSums } from './preference.ref.js';
import { btNative } from './preference.native.js';
import { btWebgpu } from './preference.gpu.js';

export type Floats = Float32Array | Float64Array | number[];

export interface BradleyTerryOptions {
  /** Reward of the chosen response per pair [P]. */
  chosen: Floats;
  /** Reward of the rejected response per pair [P]. */
  rejected: Floats;
  /** Margin m per pair [P] (Llama-2 style) or one number for every pair (default 0): loss −log σ(Δ − m). */
  margin?: Floats | number;
  /** Label smoothing ε in [0, 1) (default 0): `−(1−ε) log σ(Δ−m) − ε log σ(−(Δ−m))`. */
  labelSmoothing?: number;
  /** TRL center_rewards_coefficient (default 0): adds `coef·mean((rc + rr)²)` to the loss. */
  centerCoef?: number;
  backend?: Backend;
  /** Arrays [P] to write the per-pair results into (reused across calls they save the allocation). */
  out?: { probabilities?: Float32Array; losses?: Float32Array };
  context?: GpuContext;
}

export interface BradleyTerryResult {
  /** P(chosen ≻ rejected) = σ(rc − rr) per pair (without the margin). */
  probabilities: Float32Array;
  /** The per-pair loss (without the center term). */
  losses: Float32Array;
  /** Mean per-pair loss + the center term (what TRL / OpenRLHF back-propagate). */
  loss: number;
  /** Fraction of pairs with rc > rr (strict: ties and NaN count as wrong, as reward-bench does). */
  accuracy: number;
  /** Ties count half. */
  accuracyTiesHalf: number;
  backend: 'js' | 'native' | 'webgpu';
}

/** The validated problem: inputs kept as f64 when given as f64 (the JS reference computes in f64). */
export interface BtProblem {
  pairs: number;
  chosen: Float32Array | Float64Array;
  rejected: Float32Array | Float64Array;
  margin: Float32Array | Float64Array | null;
  marginValue: number; // used when margin is null
  labelSmoothing: number;
  centerCoef: number;
  probabilities: Float32Array;
  losses: Float32Array;
}

/** A float array of an exact length, kept in its precision (number[] → Float64Array). */
export function floatArray(value: unknown, argument: string, length?: number): Float32Array | Float64Array {
  let out: Float32Array | Float64Array;
  if (value instanceof Float32Array || value instanceof Float64Array) out = value;
  else if (Array.isArray(value)) {
    out = new Float64Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== 'number') fail('E_DTYPE', `${argument}[${i}]`, 'a number', describe(v));
      out[i] = v;
    }
  } else return fail('E_DTYPE', argument, 'a Float32Array, Float64Array or number[]', describe(value));
  if (length !== undefined && out.length !== length) fail('E_SHAPE', argument, `length ${length}`, `length ${out.length}`);
  return out;
}

export function prepareBradleyTerry(options: BradleyTerryOptions): BtProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const chosen = floatArray(options.chosen, 'chosen');
  const pairs = chosen.length;
  if (pairs === 0) fail('E_SHAPE', 'chosen', 'at least one pair', 'length 0');
  if (pairs > 2 ** 32 - 1) fail('E_RANGE', 'chosen', 'fewer than 2^32 pairs', `${pairs}`);
  const rejected = floatArray(options.rejected, 'rejected', pairs);
  let margin: Float32Array | Float64Array | null = null, marginValue = 0;
  if (typeof options.margin === 'number') marginValue = checkFinite(options.margin, 'margin');
  else if (options.margin !== undefined) margin = floatArray(options.margin, 'margin', pairs);
  const labelSmoothing = checkFinite(options.labelSmoothing ?? 0, 'labelSmoothing');
  if (labelSmoothing < 0 || labelSmoothing >= 1) fail('E_VALUE', 'labelSmoothing', 'a number in [0, 1)', describe(labelSmoothing));
  const centerCoef = checkFinite(options.centerCoef ?? 0, 'centerCoef');
  const out = options.out;
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', 'an object { probabilities?, losses? }', describe(out));
  if (centerCoef < 0) fail('E_VALUE', 'centerCoef', 'a finite number >= 0', describe(centerCoef));
  return {
    pairs, chosen, rejected, margin, marginValue, labelSmoothing, centerCoef,
    probabilities: outArray(out?.probabilities, 'out.probabilities', pairs), losses: outArray(out?.losses, 'out.losses', pairs),
  };
}

/** The JS path: the f64 reference, rounded to f32 per pair. */
export function btJs(p: BtProblem): BtSums {
  return btRef({ chosen: p.chosen, rejected: p.rejected, margin: p.margin ?? p.marginValue, labelSmoothing: p.labelSmoothing, centerCoef: p.centerCoef }, p.probabilities, p.losses);
}

/**
 * Bradley–Terry probabilities, per-pair losses, the batch loss and pairwise accuracy. NaN in a pair
 * gives NaN for that pair and the loss (accuracy counts it wrong); huge margins never overflow.
 */
export async function bradleyTerry(options: BradleyTerryOptions): Promise<BradleyTerryResult> {
  const p = prepareBradleyTerry(options);
  const finish = (s: BtSums, backend: BradleyTerryResult['backend']): BradleyTerryResult =>
    ({ probabilities: p.probabilities, losses: p.losses, ...btMetrics(s, p.pairs, p.centerCoef), backend });
  return runOp('bradleyTerry', options.backend, p.pairs, {
    js: async () => finish(btJs(p), 'js'),
    native: async () => finish(await btNative(p), 'native'),
    webgpu: async () => finish(await btWebgpu(p, options.context), 'webgpu'),
  });
}

export interface PreferenceStrengthOptions {
  /** Chosen rewards of M models, row-major [M, P]. */
  chosen: Floats;
  /** Rejected rewards of M models, row-major [M, P]. */
  rejected: Floats;
  /** [M, P]. */
  shape: readonly [number, number];
  /** Std degrees of freedom: 0 (population, default) or 1. */
  ddof?: 0 | 1;
}

export interface PreferenceStrengthResult {
  /** μ per pair: mean over models of d_m = r_m(c) − r_m(r). */
  mean: Float64Array;
  /** σ per pair. */
  std: Float64Array;
}

/**
 * Preference strength (Secrets of RLHF II §3): over an ensemble, d_m = r_m(c) − r_m(r); μ and σ per
 * pair flag ambiguous (μ ≈ 0) and wrong (μ < 0) labels. The adaptive-margin loss `−log σ(Δ − μ)` is
 * `bradleyTerry({ chosen, rejected, margin: mean })`. NaN in a model's scores gives NaN for the pair.
 */
export function preferenceStrength(options: PreferenceStrengthOptions): PreferenceStrengthResult {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const shape = options.shape;
  if (!Array.isArray(shape) || shape.length !== 2) fail('E_SHAPE', 'shape', '[M, P]', describe(shape));
  const M = checkSize(shape[0], 'shape[0]', 1), P = checkSize(shape[1], 'shape[1]', 1);
  const chosen = floatArray(options.chosen, 'chosen', M * P), rejected = floatArray(options.rejected, 'rejected', M * P);
  const ddof = options.ddof ?? 0;
  if (ddof !== 0 && ddof !== 1) fail('E_VALUE', 'ddof', '0 or 1', describe(ddof));
  const mean = new Float64Array(P), std = new Float64Array(P);
  for (let i = 0; i < P; i++) {
    let s = 0;
    for (let m = 0; m < M; m++) s += chosen[m * P + i]! - rejected[m * P + i]!;
    const mu = s / M;
    let ss = 0;
    for (let m = 0; m < M; m++) { const d = chosen[m * P + i]! - rejected[m * P + i]! - mu; ss += d * d; }
    mean[i] = mu;
    std[i] = Math.sqrt(ss / (M - ddof));
  }
  return { mean, std };
}
