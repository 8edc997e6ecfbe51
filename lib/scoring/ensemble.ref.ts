/**
 * The JS reference for ensemble aggregation, in f64 (numpy's float64 in the reference scripts),
 * results rounded to f32.
 */
import type { EnsembleProblem } from './ensemble.js';

/** Per-model mean and population std over its B scores (RewardBench: np.mean, np.std). */
export function modelMoments(p: EnsembleProblem): { mean: Float64Array; std: Float64Array } {
  const K = p.members, B = p.rows;
  const mean = new Float64Array(K), std = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let sum = 0;
    for (let i = 0; i < B; i++) sum += p.scores[k * B + i]!;
    const m = sum / B;
    let ss = 0;
    for (let i = 0; i < B; i++) { const d = p.scores[k * B + i]! - m; ss += d * d; }
    mean[k] = m;
    std[k] = Math.sqrt(ss / B);
  }
  return { mean, std };
}

/** The divisor z-normalisation uses: the std, or 1 where it is 0 (numpy would give ±inf/NaN). */
export const zDivisor = (std: number): number => (std === 0 ? 1 : std);

/** One response's aggregate of its K member values `v` (overwritten: median sorts it). */
export function aggregateRow(p: EnsembleProblem, v: Float64Array): number {
  const K = p.members;
  let nan = false, sum = 0, lo = Infinity, hi = -Infinity;
  for (let k = 0; k < K; k++) {
    const x = v[k]!;
    if (Number.isNaN(x)) nan = true;
    sum += x;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (nan) return NaN;
  const mean = sum / K;
  switch (p.method) {
    case 'mean': return mean;
    case 'min': return lo;
    case 'max': return hi;
    case 'median': {
      // Insertion sort (K <= 64); even K averages the middle two as np.median does.
      for (let a = 1; a < K; a++) { const x = v[a]!; let b = a - 1; while (b >= 0 && v[b]! > x) { v[b + 1] = v[b]!; b--; } v[b + 1] = x; }
      return K % 2 ? v[(K - 1) / 2]! : (v[K / 2 - 1]! + v[K / 2]!) / 2;
    }
    default: {
      let ss = 0;
      for (let k = 0; k < K; k++) { const d = v[k]! - mean; ss += d * d; }
      const variance = ss / (K - p.ddof); // K = 1, ddof 1 → 0/0 = NaN (torch.var)
      return p.method === 'uwo' ? mean - p.c * variance : mean - p.lambda * Math.sqrt(variance);
    }
  }
}

export function ensembleJs(p: EnsembleProblem): void {
  const K = p.members, B = p.rows;
  const z = p.zNormalize ? modelMoments(p) : null;
  const v = new Float64Array(K);
  for (let i = 0; i < B; i++) {
    for (let k = 0; k < K; k++) {
      const x = p.scores[k * B + i]!;
      v[k] = z ? (x - z.mean[k]!) / zDivisor(z.std[k]!) : x;
    }
    p.out[i] = aggregateRow(p, v);
  }
}
