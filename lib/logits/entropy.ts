/**
 * verl `compute_entropy_loss` (verl/trainer/ppo/core_algos.py): the per-token entropy aggregated by
 * `agg_loss` with the actor's loss_agg_mode (SPEC.md §1.4 Aggregation), on the JS backend — it reads
 * one value per token, far less than the logits the entropies came from (tokenLogProbs).
 *
 *   token-mean:           Σ_trained H / Σ M                       (no trained token → NaN, as verl)
 *   seq-mean-token-mean:  mean over rows with a trained token of (Σ_t H·M / (n_i + 1e-8))  (none → NaN)
 *
 * Sums run in f64 over trained tokens only, so NaN/Inf on padding never leaks in; the loss is
 * returned rounded to f32, the dtype verl returns.
 */
import { checkEnum } from '../tensor.js';
import { describe, fail } from '../errors.js';
import { floatsOf, prepareLayout, type LayoutOptions, type TokenLayout } from '../layout.js';

export type EntropyAggregation = 'token-mean' | 'seq-mean-token-mean';

export interface EntropyLossOptions extends LayoutOptions {
  /** Per-token entropies [B·T] (padded) or [offsets[B]] (packed), e.g. tokenLogProbs().entropy. */
  entropy: Float32Array | Float64Array | number[];
  /** verl's loss_agg_mode (default 'token-mean', compute_entropy_loss's default). */
  aggregation?: EntropyAggregation;
}

/** The aggregation on a normalised layout (f64 sums over trained tokens). */
export function aggregateEntropy(h: ArrayLike<number>, layout: TokenLayout, mode: EntropyAggregation): number {
  const m = layout.mask, off = layout.offsets;
  if (mode === 'token-mean') {
    let sum = 0, count = 0;
    for (let t = 0; t < layout.tokens; t++) if (m === null || m[t]) { sum += h[t]!; count++; }
    return sum / count;
  }
  let total = 0, rows = 0;
  for (let i = 0; i < layout.rows; i++) {
    let sum = 0, n = 0;
    for (let t = off[i]!; t < off[i + 1]!; t++) if (m === null || m[t]) { sum += h[t]!; n++; }
    if (n > 0) { total += sum / (n + 1e-8); rows++; }
  }
  return total / rows;
}

/** verl compute_entropy_loss from per-token entropies: the aggregated entropy (an f32 value). */
export function entropyLoss(options: EntropyLossOptions): number {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const mode = checkEnum(options.aggregation ?? 'token-mean', 'aggregation', ['token-mean', 'seq-mean-token-mean'] as const);
  const layout = prepareLayout(options);
  const h = floatsOf(options.entropy, 'entropy', layout.tokens, layout.cols ? 'B*T' : 'offsets[B]');
  return Math.fround(aggregateEntropy(h, layout, mode));
}
