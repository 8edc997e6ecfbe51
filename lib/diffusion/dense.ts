/**
 * DenseGRPO (SPEC.md §3.3): dense per-step rewards from the rewards of ODE-denoised predictions,
 * per-timestep group advantages, and the noise-calibration loop that sets the SDE std ψ(t).
 * JS only: N·T values (a group of ~24 × ~10 steps) — bookkeeping next to the reward model's cost.
 */
import { describe, fail } from '../errors.js';
import { checkFinite, checkSize } from '../tensor.js';
import { FlowGrpoTracker, type PromptKey, type RewardInput } from './tracker.js';

function checkMatrix(values: unknown, argument: string, cols: number): Float64Array {
  if (!(values instanceof Float32Array) && !(values instanceof Float64Array) && !Array.isArray(values)) {
    fail('E_DTYPE', argument, 'a Float32Array, Float64Array or number[]', describe(values));
  }
  const v = values as ArrayLike<unknown>;
  if (v.length === 0 || v.length % cols !== 0) fail('E_SHAPE', argument, `a non-empty length divisible by ${cols}`, `length ${v.length}`);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) fail('E_VALUE', `${argument}[${i}]`, 'a finite number', describe(x));
    out[i] = x;
  }
  return out;
}

/**
 * Dense rewards ΔR [N, T] from `stepRewards` R [N, T+1]: R[:, t] is the reward of the clean latent
 * the ODE reaches from the state after step t (column 0: from the initial noise, column T: the final
 * sample); ΔR[:, j] = R[:, j+1] − R[:, j], so Σ_j ΔR[:, j] = R_final − R_0.
 */
export function denseRewards(stepRewards: RewardInput, points: number): Float64Array {
  const k = checkSize(points, 'points', 2);
  const r = checkMatrix(stepRewards, 'stepRewards', k);
  const n = r.length / k, t = k - 1;
  const out = new Float64Array(n * t);
  for (let i = 0; i < n; i++) for (let j = 0; j < t; j++) out[i * t + j] = r[i * k + j + 1]! - r[i * k + j]!;
  return out;
}

export interface DenseAdvantagesOptions {
  /** Prompt of each of the N trajectories (strings or ids). */
  prompts: ArrayLike<PromptKey>;
  /** R [N, T+1], see denseRewards. */
  stepRewards: RewardInput;
  /** T + 1 (columns of stepRewards). */
  points: number;
  /** Flow-GRPO tracker options (default: global std per timestep, ε = 1e-4). */
  globalStd?: boolean;
  epsilon?: number;
}

/** Dense rewards and their advantages [N, T]: Flow-GRPO's tracker on the ΔR matrix (each timestep normalised within its prompt group). */
export function denseAdvantages(options: DenseAdvantagesOptions): { dense: Float64Array; advantages: Float64Array } {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const dense = denseRewards(options.stepRewards, options.points);
  const tracker = new FlowGrpoTracker({ ...(options.globalStd !== undefined && { globalStd: options.globalStd }), ...(options.epsilon !== undefined && { epsilon: options.epsilon }) });
  const steps = options.points - 1;
  if (options.prompts?.length !== dense.length / steps) fail('E_SHAPE', 'prompts', `${dense.length / steps} prompts (one per row of stepRewards)`, describe(options.prompts));
  return { dense, advantages: tracker.update(options.prompts, dense, steps) };
}

export interface CalibrateNoiseOptions {
  /** ψ(t) to start from [T] (e.g. Flow-GRPO's std_dev_t per step). */
  initial: Float64Array | Float32Array | number[];
  /** Rounds of the loop (each calls `sample` once). */
  iterations: number;
  /**
   * The user's rollout: sample N trajectories with the SDE std set to psi[t] at step t, score the
   * ODE-denoised predictions and return the dense rewards ΔR [N, T] (e.g. via denseRewards). May be async.
   */
  sample: (psi: Float64Array, iteration: number) => RewardInput | Promise<RewardInput>;
  /** Change per round (default 0.01). */
  delta?: number;
  /** Balanced when |#(ΔR_t > 0) − #(ΔR_t < 0)| < tolerance (default 2). */
  tolerance?: number;
  /** ψ never goes below this (default 0: a std cannot be negative; DenseGRPO's rule has no floor). */
  floor?: number;
}

/**
 * DenseGRPO's noise calibration (run before training, then frozen): each round, per timestep t,
 * ψ(t) += delta when the signs of ΔR_t over the batch are balanced (|#pos − #neg| < tolerance),
 * else ψ(t) −= delta. Returns the final ψ and ψ after every round.
 */
export async function calibrateNoise(options: CalibrateNoiseOptions): Promise<{ psi: Float64Array; history: Float64Array[] }> {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const psi = checkMatrix(options.initial, 'initial', 1);
  const T = psi.length;
  const iterations = checkSize(options.iterations, 'iterations', 0);
  if (typeof options.sample !== 'function') fail('E_VALUE', 'sample', 'a function (psi, iteration) => ΔR [N, T]', describe(options.sample));
  const delta = options.delta === undefined ? 0.01 : checkFinite(options.delta, 'delta', 0);
  const tolerance = options.tolerance === undefined ? 2 : checkFinite(options.tolerance, 'tolerance', 0);
  const floor = options.floor === undefined ? 0 : checkFinite(options.floor, 'floor');
  const history: Float64Array[] = [];
  for (let it = 0; it < iterations; it++) {
    const dense = checkMatrix(await options.sample(psi.slice(), it), 'sample() result', T);
    const n = dense.length / T;
    for (let t = 0; t < T; t++) {
      let pos = 0, neg = 0;
      for (let i = 0; i < n; i++) { const d = dense[i * T + t]!; if (d > 0) pos++; else if (d < 0) neg++; }
      psi[t] = Math.max(floor, psi[t]! + (Math.abs(pos - neg) < tolerance ? delta : -delta));
    }
    history.push(psi.slice());
  }
  return { psi, history };
}
