/**
 * Rank agreement between reward models (SPEC.md §2.7): Kendall τ-b (ties in either ranking
 * corrected, as scipy.stats.kendalltau) and Spearman ρ (Pearson of average ranks, as
 * scipy.stats.spearmanr), both O(n log n). Sorting and counting, no arithmetic worth offloading: JS only.
 */
import { fail } from '../errors.js';
import { scoresOf } from './check.js';

function pair(a: readonly number[], b: readonly number[]): [number[], number[]] {
  const x = scoresOf(a, 'a', 2), y = scoresOf(b, 'b', 2);
  if (y.length !== x.length) fail('E_SHAPE', 'b', `length ${x.length}`, `length ${y.length}`);
  return [x, y];
}

/** Pairs tied within each run of equal keys of `idx` (already sorted by `key`): Σ t(t−1)/2. */
function tiedPairs(idx: readonly number[], same: (p: number, q: number) => boolean): number {
  let total = 0;
  for (let i = 0; i < idx.length;) {
    let j = i + 1;
    while (j < idx.length && same(idx[i]!, idx[j]!)) j++;
    total += ((j - i) * (j - i - 1)) / 2;
    i = j;
  }
  return total;
}

/**
 * Kendall τ-b = (C − D)/sqrt((n0 − n1)(n0 − n2)) by Knight's O(n log n) algorithm: sort by (a, b),
 * count the discordant pairs as the swaps of a merge sort by b. NaN when either ranking is constant.
 */
export function kendallTau(a: readonly number[], b: readonly number[]): number {
  const [x, y] = pair(a, b);
  const n = x.length, n0 = (n * (n - 1)) / 2;
  let idx = x.map((_, i) => i).sort((p, q) => x[p]! - x[q]! || y[p]! - y[q]!);
  const tx = tiedPairs(idx, (p, q) => x[p] === x[q]);
  const txy = tiedPairs(idx, (p, q) => x[p] === x[q] && y[p] === y[q]);
  // Bottom-up merge sort by y; each element of the right run placed before k left ones is k swaps.
  let swaps = 0;
  let buf = new Array<number>(n);
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n), hi = Math.min(lo + 2 * width, n);
      let i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (y[idx[j]!]! < y[idx[i]!]!) { buf[k++] = idx[j++]!; swaps += mid - i; } else buf[k++] = idx[i++]!;
      }
      while (i < mid) buf[k++] = idx[i++]!;
      while (j < hi) buf[k++] = idx[j++]!;
    }
    [idx, buf] = [buf, idx];
  }
  const ty = tiedPairs(idx, (p, q) => y[p] === y[q]);
  // concordant − discordant = n0 − tx − ty + txy − 2·swaps.
  return (n0 - tx - ty + txy - 2 * swaps) / Math.sqrt((n0 - tx) * (n0 - ty));
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
