/**
 * Policy-gradient losses per token, aggregated, with verl's metrics and the analytic gradient
 * ∂loss/∂logp (SPEC.md §1.4): the op's one declaration — options, presets, validation into a
 * LossProblem, and the backend dispatch shared with aggLoss and valueLoss.
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite } from '../tensor.js';
import { floatsOf, outArray, prepareLayout, type LayoutOptions } from '../layout.js';
import { runOp, type Backend } from '../backends/select.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { checkOptions, checkOut, prepareAgg, type AggOptions, type LossBackendName } from './agg.js';
import type { AggMode, LossProblem, LossRaw } from './problem.js';
import { lossJs } from './policy.ref.js';
import { lossNative } from './policy.native.js';
import { lossWebgpu } from './policy.gpu.js';

export type PolicyLoss = 'vanilla' | 'trl' | 'gspo' | 'cispo' | 'sapo' | 'gpg' | 'gmpo';
export type PolicyPreset = 'verl' | 'trl' | 'openrlhf' | 'dapo';
type Floats = Float32Array | Float64Array | number[];

export interface PolicyLossOptions extends AggOptions, LayoutOptions {
  /** log π_θ per token [tokens] (the tensor the gradient is taken w.r.t.). */
  logProbs: Floats;
  /** log π_old per token [tokens]. */
  oldLogProbs: Floats;
  /** Advantages per token [tokens] (broadcast row advantages for GRPO). */
  advantages: Floats;
  /**
   * `vanilla` (verl PPO clip, DAPO clip-higher, dual-clip), `trl` (TRL GRPOTrainer), `gspo`,
   * `cispo`, `sapo`, `gpg`, `gmpo` (verl geo_mean). Default from the preset.
   */
  loss?: PolicyLoss;
  /** `verl` (default), `dapo`, `trl`, `openrlhf`: defaults for loss, clip ranges and aggregation. */
  preset?: PolicyPreset;
  /** ε_low: the ratio is clipped below at 1 − ε_low (gmpo: the log-ratio at −ε_low). */
  clipLow?: number;
  /** ε_high: the ratio is clipped above at 1 + ε_high (gmpo: the log-ratio at ε_high). */
  clipHigh?: number;
  /** Dual-clip c (> 1) for vanilla: caps the loss of A < 0 tokens at −A·c; null turns it off. */
  clipC?: number | null;
  /** TRL two-sided clipping: caps the unclipped ratio at delta (null: off). */
  delta?: number | null;
  /** SAPO temperatures for A > 0 and A <= 0 (verl tau_pos 1.0, tau_neg 1.05). */
  tauPos?: number;
  tauNeg?: number;
  /** Per-token importance weights multiplying the loss (verl rollout_is_weights). */
  importanceWeights?: Floats;
  backend?: Backend;
  /** Arrays to write into (length tokens). */
  out?: { tokenLoss?: Float32Array; gradient?: Float32Array };
  context?: GpuContext;
}

export interface PolicyMetrics {
  /** verl actor/pg_clipfrac (trl: the region-clipped fraction; gmpo: clipped with A > 0). */
  clipfrac: number;
  /** verl actor/ppo_kl: masked mean of old − logp (vanilla, cispo, sapo: the ±20-clamped log-ratio). */
  ppoKl: number;
  /** verl actor/pg_clipfrac_lower (dual-clip active; trl: low-clipped; gmpo: clipped with A < 0). */
  clipfracLower: number;
}

export interface PolicyLossResult {
  /** The aggregated loss. */
  loss: number;
  /** Per-token loss (verl pg_losses, importance weights applied), 0 on untrained tokens; gmpo: the row's loss. */
  tokenLoss: Float32Array;
  /** ∂loss/∂logProbs per token (what torch autograd gives for the reference function). */
  gradient: Float32Array;
  metrics: PolicyMetrics;
  /** The aggregation used (gspo and sapo always use seq-mean-token-mean, as verl does). */
  aggregation: AggMode | 'row-mean';
  backend: LossBackendName;
}

interface PresetValues { loss: PolicyLoss; clipLow: number; clipHigh: number; clipC: number | null; delta: number | null; aggregation: AggMode }
export const policyPresets: Record<PolicyPreset, PresetValues> = {
  verl: { loss: 'vanilla', clipLow: 0.2, clipHigh: 0.2, clipC: 3, delta: null, aggregation: 'token-mean' }, // actor.clip_ratio*, loss_agg_mode
  dapo: { loss: 'vanilla', clipLow: 0.2, clipHigh: 0.28, clipC: 3, delta: null, aggregation: 'token-mean' }, // DAPO clip-higher
  trl: { loss: 'trl', clipLow: 0.2, clipHigh: 0.2, clipC: null, delta: null, aggregation: 'dapo' }, // GRPOConfig epsilon, loss_type
  openrlhf: { loss: 'vanilla', clipLow: 0.2, clipHigh: 0.2, clipC: null, delta: null, aggregation: 'token-mean' }, // PolicyLoss, dual clip off
};

const optionalNumber = (v: unknown, name: string, fallback: number | null): number | null =>
  v === undefined ? fallback : v === null ? null : checkFinite(v, name);

/** Validate and normalise the options; throws RewardkitError naming the argument at fault. */
export function preparePolicy(options: PolicyLossOptions): LossProblem {
  checkOptions(options);
  const preset = policyPresets[checkEnum(options.preset ?? 'verl', 'preset', ['verl', 'trl', 'openrlhf', 'dapo'] as const)];
  const kind = checkEnum(options.loss ?? preset.loss, 'loss', ['vanilla', 'trl', 'gspo', 'cispo', 'sapo', 'gpg', 'gmpo'] as const);
  const layout = prepareLayout(options);
  const n = layout.tokens;
  const x = floatsOf(options.logProbs, 'logProbs', n, 'one per token');
  const old = floatsOf(options.oldLogProbs, 'oldLogProbs', n, 'one per token');
  const adv = floatsOf(options.advantages, 'advantages', n, 'one per token');
  const weights = options.importanceWeights === undefined ? null : floatsOf(options.importanceWeights, 'importanceWeights', n, 'one per token');
  const clipLow = checkFinite(options.clipLow ?? preset.clipLow, 'clipLow');
  const clipHigh = checkFinite(options.clipHigh ?? preset.clipHigh, 'clipHigh');
  if (clipLow < 0) fail('E_VALUE', 'clipLow', 'a finite number >= 0', describe(clipLow));
  if (clipHigh < 0) fail('E_VALUE', 'clipHigh', 'a finite number >= 0', describe(clipHigh));
  const clipC = optionalNumber(options.clipC, 'clipC', preset.clipC);
  if (clipC !== null && !(clipC > 1)) fail('E_VALUE', 'clipC', 'a number > 1 (verl asserts clip_ratio_c > 1) or null to turn dual-clip off', describe(clipC));
  const delta = optionalNumber(options.delta, 'delta', preset.delta);
  if (delta !== null && !(delta > 0)) fail('E_VALUE', 'delta', 'a number > 0 or null', describe(delta));
  const tauPos = checkFinite(options.tauPos ?? 1.0, 'tauPos', 0);
  const tauNeg = checkFinite(options.tauNeg ?? 1.05, 'tauNeg', 0);
  // verl's GSPO and SAPO always aggregate seq-mean-token-mean, whatever loss_agg_mode says.
  const forced = kind === 'gspo' || kind === 'sapo' ? 'seq-mean-token-mean' : undefined;
  const agg = prepareAgg({ ...options, aggregation: options.aggregation ?? preset.aggregation }, layout, forced);
  checkOut(options.out, 'tokenLoss?, gradient?');
  const gm = kind === 'gmpo';
  return {
    layout, kind, x, old, adv, weights,
    lo: Math.fround(gm ? -clipLow : 1 - clipLow), hi: Math.fround(gm ? clipHigh : 1 + clipHigh),
    clipC: kind === 'vanilla' && clipC !== null ? Math.fround(clipC) : 0,
    delta: kind === 'trl' && delta !== null ? Math.fround(delta) : 0,
    tauPos: Math.fround(tauPos), tauNeg: Math.fround(tauNeg), cliprange: 0,
    agg, scale: 1,
    outLoss: outArray(options.out?.tokenLoss, 'out.tokenLoss', n), outGrad: outArray(options.out?.gradient, 'out.gradient', n),
  };
}

/** Run a LossProblem on the chosen backend. */
export async function runLoss(op: string, p: LossProblem, backend: unknown, context?: GpuContext): Promise<{ raw: LossRaw; backend: LossBackendName }> {
  const done = (b: LossBackendName) => (raw: LossRaw) => ({ raw, backend: b });
  return runOp(op, backend, p.layout.tokens, {
    js: async () => done('js')(lossJs(p)),
    native: async () => done('native')(await lossNative(p)),
    webgpu: async () => done('webgpu')(await lossWebgpu(p, context)),
  });
}

/**
 * A policy-gradient loss per token, aggregated, with verl's metrics and ∂loss/∂logp, on the chosen
 * backend. verl preset: PPO clip 0.2/0.2 with dual-clip c = 3, token-mean.
 */
export async function policyLoss(options: PolicyLossOptions): Promise<PolicyLossResult> {
  const p = preparePolicy(options);
  const { raw, backend } = await runLoss('policyLoss', p, options.backend, options.context);
  return {
    loss: raw.loss, tokenLoss: p.outLoss, gradient: p.outGrad,
    metrics: { clipfrac: raw.clipfrac, ppoKl: raw.ppoKl, clipfracLower: raw.clipfracLower },
    aggregation: p.kind === 'gmpo' ? 'row-mean' : p.agg.mode, backend,
  };
}
