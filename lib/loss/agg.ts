/**
 * Loss aggregation (verl `agg_loss`, TRL `loss_type`) and verl's clipped value loss: option
 * validation shared with policyLoss, and the two public ops. Both run on the policy-loss kernels
 * (kinds `identity` and `value`), so every backend gets them with the same passes.
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite, checkSize } from '../tensor.js';
import { floatsOf, outArray, prepareLayout, type LayoutOptions, type TokenLayout } from '../layout.js';
import type { Backend } from '../backends/select.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { aggModes, type AggMode, type AggSpec, type LossProblem } from './problem.js';
import { runLoss } from './policy.js';

/** How per-token losses become one number (verl `agg_loss` arguments, TRL `loss_type` arguments). */
export interface AggOptions {
  /**
   * verl: `token-mean` (default), `seq-mean-token-sum`, `seq-mean-token-mean`,
   * `seq-mean-token-sum-norm`; TRL: `grpo`, `bnpo`, `dr_grpo`, `dapo`.
   */
  aggregation?: AggMode;
  /** verl global_batch_info.dp_size (default 1): multiplies token-mean and the seq-mean modes. */
  dpSize?: number;
  /** verl: trained tokens in the global batch (token-mean); default ΣM of this batch. */
  batchNumTokens?: number;
  /** verl: sequences in the global batch (seq-mean modes); default the non-empty rows here. */
  globalBatchSize?: number;
  /** verl: divisor of seq-mean-token-sum-norm; default T (padded) or the longest row (packed). */
  lossScaleFactor?: number;
  /** TRL dr_grpo: max_completion_length (required for that mode). */
  maxCompletionLength?: number;
  /** TRL dapo: accelerator.num_processes (default 1). */
  numProcesses?: number;
  /** TRL dapo: num_items_in_batch, the active tokens of the whole global batch (default ΣM here). */
  globalActiveTokens?: number;
}

/** Validate the aggregation options into an AggSpec (`mode` overrides options.aggregation). */
export function prepareAgg(options: AggOptions, layout: TokenLayout, mode?: AggMode): AggSpec {
  const m = mode ?? checkEnum(options.aggregation ?? 'token-mean', 'aggregation', aggModes);
  const count = (v: unknown, name: string) => (v === undefined || v === null ? 0 : checkSize(v, name, 1));
  let longest = layout.cols;
  if (!longest) for (let i = 0; i < layout.rows; i++) longest = Math.max(longest, layout.offsets[i + 1]! - layout.offsets[i]!);
  const lossScaleFactor = options.lossScaleFactor === undefined || options.lossScaleFactor === null
    ? longest : checkFinite(options.lossScaleFactor, 'lossScaleFactor', 0);
  const maxCompletionLength = count(options.maxCompletionLength, 'maxCompletionLength');
  if (m === 'dr_grpo' && !maxCompletionLength) fail('E_VALUE', 'maxCompletionLength', "an integer >= 1 (TRL's max_completion_length) for aggregation 'dr_grpo'", describe(options.maxCompletionLength));
  if (m === 'seq-mean-token-sum-norm' && !(lossScaleFactor > 0)) fail('E_VALUE', 'lossScaleFactor', 'a number > 0 (every packed row is empty, so there is no default)', describe(lossScaleFactor));
  return {
    mode: m,
    code: aggModes.indexOf(m),
    dpSize: options.dpSize === undefined ? 1 : checkSize(options.dpSize, 'dpSize', 1),
    batchNumTokens: count(options.batchNumTokens, 'batchNumTokens'),
    globalBatchSize: count(options.globalBatchSize, 'globalBatchSize'),
    lossScaleFactor,
    maxCompletionLength,
    numProcesses: options.numProcesses === undefined ? 1 : checkSize(options.numProcesses, 'numProcesses', 1),
    globalActiveTokens: count(options.globalActiveTokens, 'globalActiveTokens'),
  };
}

export type LossBackendName = 'js' | 'native' | 'webgpu';
type Floats = Float32Array | Float64Array | number[];

export function checkOptions(options: unknown): asserts options is object {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
}

export function checkOut(out: unknown, keys: string): void {
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', `an object { ${keys} }`, describe(out));
}

export interface AggLossOptions extends AggOptions, LayoutOptions {
  /** Per-token losses [tokens] (verl loss_mat). Values on untrained tokens are never read into the result. */
  lossMat: Floats;
  backend?: Backend;
  out?: { gradient?: Float32Array };
  context?: GpuContext;
}

export interface AggLossResult {
  loss: number;
  /** ∂loss/∂lossMat per token: the mode's weight on trained tokens, 0 elsewhere. */
  gradient: Float32Array;
  backend: LossBackendName;
}

/** verl agg_loss / TRL loss_type normalisation of a per-token loss matrix, with its gradient. */
export async function aggLoss(options: AggLossOptions): Promise<AggLossResult> {
  checkOptions(options);
  const layout = prepareLayout(options);
  checkOut(options.out, 'gradient?');
  const p: LossProblem = {
    layout, kind: 'identity', x: floatsOf(options.lossMat, 'lossMat', layout.tokens, 'one loss per token'),
    old: null, adv: null, weights: null, lo: 0, hi: 0, clipC: 0, delta: 0, tauPos: 0, tauNeg: 0, cliprange: 0,
    agg: prepareAgg(options, layout), scale: 1,
    outLoss: new Float32Array(0), outGrad: outArray(options.out?.gradient, 'out.gradient', layout.tokens),
  };
  const r = await runLoss('aggLoss', p, options.backend, options.context);
  return { loss: r.raw.loss, gradient: p.outGrad, backend: r.backend };
}

export interface ValueLossOptions extends AggOptions, LayoutOptions {
  /** Critic predictions [tokens] (verl vpreds). */
  vpreds: Floats;
  /** The rollout's values [tokens] (the clip centre). */
  values: Floats;
  /** Returns [tokens] (the regression target). */
  returns: Floats;
  /** verl cliprange_value (default 0.5). */
  cliprange?: number;
  backend?: Backend;
  out?: { tokenLoss?: Float32Array; gradient?: Float32Array };
  context?: GpuContext;
}

export interface ValueLossResult {
  /** 0.5 · agg(max((v − R)², (clip(v, values ± c) − R)²)). */
  loss: number;
  /** The clipped squared error per token (verl clipped_vf_losses), 0 on untrained tokens. */
  tokenLoss: Float32Array;
  /** ∂loss/∂vpreds per token. */
  gradient: Float32Array;
  /** verl vf_clipfrac: masked mean of (clipped error > unclipped error). */
  clipfrac: number;
  backend: LossBackendName;
}

/** verl compute_value_loss: PPO's clipped value loss, aggregated like any other loss. */
export async function valueLoss(options: ValueLossOptions): Promise<ValueLossResult> {
  checkOptions(options);
  const layout = prepareLayout(options);
  checkOut(options.out, 'tokenLoss?, gradient?');
  const n = layout.tokens;
  const c = options.cliprange === undefined ? 0.5 : checkFinite(options.cliprange, 'cliprange');
  if (c < 0) fail('E_VALUE', 'cliprange', 'a finite number >= 0', describe(c));
  const p: LossProblem = {
    layout, kind: 'value', x: floatsOf(options.vpreds, 'vpreds', n, 'one per token'),
    old: floatsOf(options.values, 'values', n, 'one per token'), adv: floatsOf(options.returns, 'returns', n, 'one per token'),
    weights: null, lo: 0, hi: 0, clipC: 0, delta: 0, tauPos: 0, tauNeg: 0, cliprange: Math.fround(c),
    agg: prepareAgg(options, layout), scale: 0.5,
    outLoss: outArray(options.out?.tokenLoss, 'out.tokenLoss', n), outGrad: outArray(options.out?.gradient, 'out.gradient', n),
  };
  const r = await runLoss('valueLoss', p, options.backend, options.context);
  return { loss: r.raw.loss, tokenLoss: p.outLoss, gradient: p.outGrad, clipfrac: r.raw.clipfrac, backend: r.backend };
}
