/**
 * The normalised problem every loss backend receives (policyLoss, aggLoss, valueLoss and grpoStep
 * all reduce to it), the aggregation modes and their per-row weights.
 *
 * Every aggregation is written as `loss = Σ_i ρ_i · Σ_{t ∈ row i, trained} L_t` with a per-row weight
 * ρ_i, so the analytic gradient of the aggregated loss w.r.t. a trained token's loss is ρ_i and each
 * backend needs one pass over the tokens once the counts are known (SPEC.md §1.4).
 */
import type { TokenLayout } from '../layout.js';

/** verl `loss_agg_mode` values, then TRL `loss_type` values. */
export type AggMode =
  | 'token-mean' | 'seq-mean-token-sum' | 'seq-mean-token-mean' | 'seq-mean-token-sum-norm'
  | 'grpo' | 'bnpo' | 'dr_grpo' | 'dapo';
export const aggModes: readonly AggMode[] = ['token-mean', 'seq-mean-token-sum', 'seq-mean-token-mean', 'seq-mean-token-sum-norm', 'grpo', 'bnpo', 'dr_grpo', 'dapo'];

/** Internal loss kinds (codes shared with native/loss.cc and shaders/loss_*.wgsl). */
export const lossKinds = { vanilla: 0, trl: 1, gspo: 2, cispo: 3, sapo: 4, gpg: 5, gmpo: 6, identity: 7, value: 8, kl: 9 } as const;
export type LossKindName = keyof typeof lossKinds;

/** The aggregation, resolved: 0 in a count field means "count it from the mask" (verl's None). */
export interface AggSpec {
  mode: AggMode;
  code: number; // index in aggModes
  dpSize: number;
  batchNumTokens: number;
  globalBatchSize: number;
  lossScaleFactor: number; // resolved (default T, or the longest packed row)
  maxCompletionLength: number; // dr_grpo
  numProcesses: number; // dapo
  globalActiveTokens: number; // dapo
}

export interface LossProblem {
  layout: TokenLayout;
  kind: LossKindName;
  /** logp (policy losses), the loss matrix (identity) or vpreds (value). */
  x: Float32Array;
  /** old logp (policy), values (value); null for identity. */
  old: Float32Array | null;
  /** advantages (policy), returns (value); null for identity. */
  adv: Float32Array | null;
  /** Per-token importance weights (verl rollout_is_weights / TRL vLLM IS ratio), or null. */
  weights: Float32Array | null;
  /**
   * f32 constants, as torch casts its Python scalars: ratio bounds 1−εlo and 1+εhi (vanilla, trl,
   * gspo, cispo), −εlo and εhi (gmpo), the dual-clip c (0 = off), delta (0 = off), SAPO τ+ and τ−,
   * the value clip range.
   */
  lo: number; hi: number; clipC: number; delta: number; tauPos: number; tauNeg: number; cliprange: number;
  /** kind kl (x = logp, old = ref logp): 0 k1, 1 abs, 2 k2 (mse), 3 k3 (low_var_kl). */
  estimator?: number;
  agg: AggSpec;
  /** Multiplies the aggregated loss and its gradient (0.5 for verl's value loss). */
  scale: number;
  outLoss: Float32Array;
  outGrad: Float32Array;
  /**
   * Add the gradient into outGrad (one f32 add per token, as torch accumulates a second loss's
   * gradient) instead of overwriting it: grpoStep's KL term.
   */
  accumulate?: boolean;
}

/** What every backend returns besides the per-token arrays. */
export interface LossRaw { loss: number; clipfrac: number; ppoKl: number; clipfracLower: number }

/** Row counts every aggregation needs: trained tokens N, non-empty rows E, rows B. */
export interface Counts { tokens: number; nonEmpty: number; rows: number }

/** torch `n + 1e-8` on an f32 count: exactly n for n >= 1, 1e-8 for an empty row. */
export const countEps = (n: number): number => Math.fround(n + 1e-8);

/**
 * ρ for a row with n trained tokens (see the module comment). A zero denominator gives Infinity,
 * so an empty batch aggregates to 0·∞ = NaN exactly where verl divides 0 by 0.
 */
export function rowWeight(a: AggSpec, n: number, c: Counts): number {
  switch (a.mode) {
    case 'token-mean': return a.dpSize / (a.batchNumTokens || c.tokens);
    case 'seq-mean-token-sum': return a.dpSize / (a.globalBatchSize || c.nonEmpty);
    case 'seq-mean-token-mean': return a.dpSize / ((a.globalBatchSize || c.nonEmpty) * countEps(n));
    case 'seq-mean-token-sum-norm': return 1 / a.lossScaleFactor;
    case 'grpo': return 1 / (c.rows * Math.max(n, 1));
    case 'bnpo': return 1 / Math.max(c.tokens, 1);
    case 'dr_grpo': return 1 / (c.rows * a.maxCompletionLength);
    case 'dapo': return 1 / ((a.globalActiveTokens || c.tokens) / a.numProcesses);
  }
}

/** verl masked_mean over the trained tokens: Σ/(N + 1e-8) (0 for an empty batch). */
export const maskedMean = (sum: number, tokens: number): number => sum / countEps(tokens);
