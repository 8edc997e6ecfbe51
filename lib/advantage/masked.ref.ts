/**
 * verl's masked statistics (verl/utils/torch_functional.py: masked_sum, masked_mean, masked_var,
 * masked_whiten; SPEC.md §1.2), the JS reference every estimator that whitens shares. Sums run in
 * f64 over the trained tokens only (NaN/Inf on padding never leaks in: a select, not `v·m`).
 */
import { fail } from '../errors.js';
import type { TokenLayout } from '../layout.js';
import type { MaskedProblem } from './masked.js';

/**
 * verl's denominator `Σm + 1e-8`, as torch holds it: in f32, where it is exactly Σm for Σm >= 1
 * (the 1e-8 only keeps an empty mask from dividing by zero). In f64 the 1e-8 would survive and
 * turn a row of one huge value into a variance of (v·1e-8)² instead of verl's 0.
 */
export const maskDenominator = (count: number): number => Math.fround(count + 1e-8);

/** Σ v over trained tokens, Σ m, in f64. */
export function maskedSumRef(values: ArrayLike<number>, layout: TokenLayout): { sum: number; count: number } {
  const m = layout.mask;
  let sum = 0, count = 0;
  for (let t = 0; t < layout.tokens; t++) if (m === null || m[t]) { sum += values[t]!; count++; }
  return { sum, count };
}

/** verl masked_mean: Σ v·m / (Σ m + 1e-8) (the denominator in f32, as verl). */
export function maskedMeanRef(values: ArrayLike<number>, layout: TokenLayout): number {
  const { sum, count } = maskedSumRef(values, layout);
  return sum / maskDenominator(count);
}

/**
 * verl masked_var: masked_mean((v − mean)²), × n/(n−1) when unbiased. verl raises for an unbiased
 * variance over 0 or 1 tokens: so does this (E_VALUE naming `argument`).
 */
export function maskedVarRef(values: ArrayLike<number>, layout: TokenLayout, unbiased = true, argument = 'mask'): { mean: number; variance: number; count: number } {
  const { sum, count } = maskedSumRef(values, layout);
  const mean = sum / maskDenominator(count);
  const m = layout.mask;
  let sq = 0;
  for (let t = 0; t < layout.tokens; t++) if (m === null || m[t]) { const d = values[t]! - mean; sq += d * d; }
  let variance = sq / maskDenominator(count);
  if (unbiased) {
    if (count <= 1) fail('E_VALUE', argument, 'at least 2 trained tokens (an unbiased masked variance; verl raises here too)', `${count}`);
    variance *= count / (count - 1);
  }
  return { mean, variance, count };
}

/**
 * verl masked_whiten into `out` (may alias `values`): (v − mean)·rsqrt(var + 1e-8) for EVERY token,
 * padding included (verl does not re-mask); shiftMean false adds the mean back.
 */
export function maskedWhitenRef(values: ArrayLike<number>, layout: TokenLayout, out: Float32Array, shiftMean = true, argument = 'mask'): void {
  const { mean, variance } = maskedVarRef(values, layout, true, argument);
  const scale = 1 / Math.sqrt(variance + 1e-8);
  for (let t = 0; t < layout.tokens; t++) out[t] = (values[t]! - mean) * scale + (shiftMean ? 0 : mean);
}

/**
 * Per-row statistics (verl masked_sum / masked_mean with axis=-1, and the same formulas per row for
 * the variance and whitening, which verl only offers over the whole tensor). f64 sums per row.
 */
export function maskedRowStatsRef(values: ArrayLike<number>, layout: TokenLayout, unbiased: boolean | null, argument = 'mask'): { sums: Float64Array; counts: Float64Array; means: Float64Array; variances: Float64Array } {
  const B = layout.rows, m = layout.mask, off = layout.offsets;
  const sums = new Float64Array(B), counts = new Float64Array(B), means = new Float64Array(B), variances = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    let sum = 0, count = 0;
    for (let t = off[i]!; t < off[i + 1]!; t++) if (m === null || m[t]) { sum += values[t]!; count++; }
    const mean = sum / maskDenominator(count);
    sums[i] = sum; counts[i] = count; means[i] = mean;
    if (unbiased === null) continue; // sums and means only
    let sq = 0;
    for (let t = off[i]!; t < off[i + 1]!; t++) if (m === null || m[t]) { const d = values[t]! - mean; sq += d * d; }
    let variance = sq / maskDenominator(count);
    if (unbiased) {
      if (count <= 1) fail('E_VALUE', `${argument} (row ${i})`, 'at least 2 trained tokens in every row (an unbiased masked variance per row)', `${count}`);
      variance *= count / (count - 1);
    }
    variances[i] = variance;
  }
  return { sums, counts, means, variances };
}

/** masked_whiten per row into `out`: each row with its own mean and unbiased variance. */
export function maskedRowWhitenRef(values: ArrayLike<number>, layout: TokenLayout, out: Float32Array, shiftMean = true, argument = 'mask'): void {
  const { means, variances } = maskedRowStatsRef(values, layout, true, argument);
  const off = layout.offsets;
  for (let i = 0; i < layout.rows; i++) {
    const mean = means[i]!, scale = 1 / Math.sqrt(variances[i]! + 1e-8);
    for (let t = off[i]!; t < off[i + 1]!; t++) out[t] = (values[t]! - mean) * scale + (shiftMean ? 0 : mean);
  }
}

/** The public masked ops (masked.ts) on the JS backend: the functions above, f32 results. */
export function maskedJs(p: MaskedProblem): void {
  const { layout, values, out } = p;
  if (p.kind === 'whiten') {
    if (p.perRow) maskedRowWhitenRef(values, layout, out, p.shiftMean);
    else maskedWhitenRef(values, layout, out, p.shiftMean);
    return;
  }
  if (p.perRow) {
    const s = maskedRowStatsRef(values, layout, p.kind === 'var' ? p.unbiased : null);
    const pick = p.kind === 'sum' ? s.sums : p.kind === 'mean' ? s.means : s.variances;
    out.set(pick);
    return;
  }
  if (p.kind === 'sum') out[0] = maskedSumRef(values, layout).sum;
  else if (p.kind === 'mean') out[0] = maskedMeanRef(values, layout);
  else out[0] = maskedVarRef(values, layout, p.unbiased).variance;
}
