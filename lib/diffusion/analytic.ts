/**
 * A flow model whose exact velocity is known in closed form, and a reward with a known optimum: the
 * trajectory stepper's README example, tests and benchmark run a real end-to-end loop with nothing
 * downloaded.
 *
 * Target: every element of a prompt-p sample is x0 ~ N(μ_p, s²), independent. Rectified-flow path
 * x_σ = (1 − σ)·x0 + σ·ε, ε ~ N(0, 1). With a = 1 − σ and V(σ) = a²s² + σ² (the variance of x_σ):
 *
 *   E[x0 | x_σ] = μ + (a·s²/V)·(x_σ − aμ)                     (Gaussian conditioning)
 *   E[ε  | x_σ] =     (σ/V)·(x_σ − aμ)
 *   v*(x_σ, σ)  = E[ε − x0 | x_σ] = ((σ − a·s²)/V)·(x_σ − aμ) − μ       (the flow-matching optimum)
 *
 * so x − σ·v* = E[x0 | x_σ] (Tweedie's x̂0), and at σ = 1: v* = x − μ. The probability-flow ODE
 * dx/dσ = v* is solved exactly by x(σ) = aμ + sqrt(V(σ))·z, z = x(1): it carries N(0, 1) noise to
 * x0 = μ + s·z, i.e. exactly onto the target (an Euler discretisation lands within its step error,
 * see `eulerMap`).
 *
 * Reward: r(x̂0) = −mean over the sample's elements of (x̂0 − μ*_p)², maximal (0) at x̂0 ≡ μ*_p.
 * With μ* = μ the expected final reward of exact samples is −s² (per element E(x0 − μ)² = s²).
 */
import { describe, fail } from '../errors.js';
import { checkFinite } from '../tensor.js';

export interface GaussianFlowOptions {
  /** Target mean per prompt index (μ_p). */
  means: ArrayLike<number>;
  /** Target std s (the same for every prompt), default 0.5. */
  std?: number;
  /** The reward's optimum per prompt (μ*_p), default the target means. */
  optimum?: ArrayLike<number>;
}

export interface GaussianFlow {
  means: Float64Array;
  std: number;
  optimum: Float64Array;
  /** v*(x, σ) for rows of `inner` elements; row r belongs to prompt promptIdx[r]. */
  velocity(latents: Float32Array, info: { sigma: number; promptIdx: ArrayLike<number> }): Float32Array;
  /** r = −mean((x − μ*_p)²) per row. */
  reward(samples: Float32Array, promptIdx: ArrayLike<number>): Float32Array;
  /** E[x0 | x_σ] per element (the exact x̂0 the 'x0' dense mode reaches with this model). */
  posteriorMean(latents: Float32Array, sigma: number, promptIdx: ArrayLike<number>): Float64Array;
}

function numbers(values: unknown, argument: string): Float64Array {
  if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<number>).length !== 'number') fail('E_DTYPE', argument, 'an array of numbers', describe(values));
  const v = values as ArrayLike<unknown>;
  if (v.length < 1) fail('E_SHAPE', argument, 'at least one value', 'an empty array');
  return Float64Array.from({ length: v.length }, (_, i) => checkFinite(v[i], `${argument}[${i}]`));
}

/** The Gaussian target, its exact velocity and the quadratic reward (formulas in the module comment). */
export function gaussianFlow(options: GaussianFlowOptions): GaussianFlow {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object { means, std?, optimum? }', describe(options));
  const means = numbers(options.means, 'means');
  const std = options.std === undefined ? 0.5 : checkFinite(options.std, 'std', 0);
  const optimum = options.optimum === undefined ? means.slice() : numbers(options.optimum, 'optimum');
  if (optimum.length !== means.length) fail('E_SHAPE', 'optimum', `${means.length} values (one per prompt)`, `length ${optimum.length}`);
  const s2 = std * std;
  const rowsOf = (n: number, promptIdx: ArrayLike<number>) => {
    if (promptIdx.length < 1 || n % promptIdx.length !== 0) fail('E_SHAPE', 'latents', `a length divisible by the ${promptIdx.length} rows`, `length ${n}`);
    return n / promptIdx.length;
  };
  const mu = (p: number, table: Float64Array, argument: string) => {
    const m = table[p];
    if (m === undefined) fail('E_RANGE', argument, `a prompt index in [0, ${table.length})`, describe(p));
    return m;
  };
  return {
    means, std, optimum,
    velocity(latents, { sigma, promptIdx }) {
      const inner = rowsOf(latents.length, promptIdx);
      const a = 1 - sigma, V = a * a * s2 + sigma * sigma, c = (sigma - a * s2) / V;
      const out = new Float32Array(latents.length);
      for (let r = 0; r < promptIdx.length; r++) {
        const m = mu(promptIdx[r]!, means, 'promptIdx');
        for (let e = r * inner; e < (r + 1) * inner; e++) out[e] = c * (latents[e]! - a * m) - m;
      }
      return out;
    },
    reward(samples, promptIdx) {
      const inner = rowsOf(samples.length, promptIdx);
      const out = new Float32Array(promptIdx.length);
      for (let r = 0; r < promptIdx.length; r++) {
        const m = mu(promptIdx[r]!, optimum, 'promptIdx');
        let q = 0;
        for (let e = r * inner; e < (r + 1) * inner; e++) { const d = samples[e]! - m; q += d * d; }
        out[r] = -q / inner;
      }
      return out;
    },
    posteriorMean(latents, sigma, promptIdx) {
      const inner = rowsOf(latents.length, promptIdx);
      const a = 1 - sigma, V = a * a * s2 + sigma * sigma;
      const out = new Float64Array(latents.length);
      for (let r = 0; r < promptIdx.length; r++) {
        const m = mu(promptIdx[r]!, means, 'promptIdx');
        for (let e = r * inner; e < (r + 1) * inner; e++) out[e] = m + ((a * s2) / V) * (latents[e]! - a * m);
      }
      return out;
    },
  };
}
