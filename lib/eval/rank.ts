/**
 * Rank agreement between reward models (SPEC.md §2.7): Kendall τ-b (ties in either ranking
 * corrected, as scipy.stats.kendalltau) and Spearman ρ (Pearson of average ranks, as
 * scipy.stats.spearmanr). O(n²) / O(n log n) over a few thousand items: JS only.
 */
import { fail } from '../errors.js';
import { scoresOf } from './check.js';

function pair(a: readonly number[], b: readonly number[]): [number[], number[]] {
  const x = scoresOf(a, 'a', 2), y = scoresOf(b, 'b', 2);
  if (y.length !== x.length) fail('E_SHAPE', 'b', `length ${x.length}`, `length ${y.length}`);
  return [x, y];
}

/** Kendall τ-b = (C − D)/sqrt((n0 − n1)(n0 − n2)); NaN when either ranking is constant. */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  const [x, y] = pair(a, b);
  let conc = 0, disc = 0, tx = 0, ty = 0;
  for (let i = 0; i < x.length; i++) for (let j = i + 1; j < x.length; j++) {
    const dx = Math.sign(x[i]! - x[j]!), dy = Math.sign(y[i]! - y[j]!);
    if (dx === 0 && dy === 0) continue;
    if (dx === 0) tx++;
    else if (dy === 0) ty++;
    else if (dx === dy) conc++;
    else disc++;
  }
  return (conc - disc) / Math.sqrt((conc + disc + tx) * (conc + disc + ty));
}

/** Ranks 1..n with ties given their average rank. */
export function averageRanks(x: readonly number[]): Float64Array {
  const order = x.map((_, i) => i).sort((p, q) => x[p]! - x[q]!);
  const ranks = new Float64Array(x.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && x[order[j + 1]!] === x[order[i]!]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]!] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return ranks;
}

/** Spearman ρ: the Pearson correlation of the average ranks; NaN when either is constant. */
export function spearmanRho(a: readonly number[], b: readonly number[]): number {
  const [x, y] = pair(a, b);
  const rx = averageRanks(x), ry = averageRanks(y), n = x.length, m = (n + 1) / 2;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) { const dx = rx[i]! - m, dy = ry[i]! - m; sxy += dx * dy; sxx += dx * dx; syy += dy * dy; }
  return sxy / Math.sqrt(sxx * syy);
}
