/**
 * Best-of-N and win rates (SPEC.md §2.7): selection (openr `_agg_orm_max`: argmax, ties → first),
 * the unbiased best-of-N estimator (Nakano et al. / Gao et al. scaling-laws), RM-judged and
 * AlpacaEval-style win rates. Bookkeeping over small arrays: JS only.
 */
import { describe, fail } from '../errors.js';
import { checkSize } from '../tensor.js';
import { mean, rowsOf, scoresOf } from './check.js';

/** Index of the best candidate per prompt (argmax; ties → the lowest index). NaN is refused. */
export function selectBest(scores: readonly (readonly number[])[]): number[] {
  return rowsOf(scores, 'scores').map((r) => {
    let best = 0;
    for (let i = 1; i < r.length; i++) if (r[i]! > r[best]!) best = i;
    return best;
  });
}

/**
 * Unbiased estimate of the gold score of best-of-n (by proxy) from N ≥ n samples:
 * `Σ_{i=n}^{N} C(i−1, n−1)/C(N, n) · gold_(i)` with samples sorted ascending by proxy (stable: equal
 * proxies keep their order). Weights from w_N = n/N and w_i = w_{i+1}·(i+1−n)/i: no overflow.
 */
export function bestOfNEstimate(options: { proxy: readonly number[]; gold?: readonly number[]; n: number }): number {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const proxy = scoresOf(options.proxy, 'proxy');
  const gold = options.gold === undefined ? proxy : scoresOf(options.gold, 'gold');
  const N = proxy.length;
  if (gold.length !== N) fail('E_SHAPE', 'gold', `length ${N}`, `length ${gold.length}`);
  const n = checkSize(options.n, 'n', 1);
  if (n > N) fail('E_RANGE', 'n', `at most the ${N} samples`, `${n}`);
  const order = proxy.map((_, i) => i).sort((a, b) => proxy[a]! - proxy[b]! || a - b);
  let w = n / N, total = 0;
  for (let i = N; i >= n; i--) {
    total += w * gold[order[i - 1]!]!;
    w *= (i - n) / (i - 1);
  }
  return total;
}

/** RM-judged head-to-head per prompt: win 1, tie 0.5, loss 0; winRate is their mean (in [0, 1]). */
export function winRate(policy: readonly number[], baseline: readonly number[]): { winRate: number; perPrompt: number[] } {
  const p = scoresOf(policy, 'policy'), b = scoresOf(baseline, 'baseline');
  if (b.length !== p.length) fail('E_SHAPE', 'baseline', `length ${p.length}`, `length ${b.length}`);
  const perPrompt = p.map((x, i) => (x > b[i]! ? 1 : x === b[i]! ? 0.5 : 0));
  return { winRate: mean(perPrompt), perPrompt };
}

/** AlpacaEval win rate from preferences in [1, 2] (2 = the policy wins): `100·mean(p − 1)`. */
export function preferenceWinRate(preferences: readonly number[]): number {
  const p = scoresOf(preferences, 'preferences');
  p.forEach((x, i) => { if (!(x >= 1 && x <= 2)) fail('E_RANGE', `preferences[${i}]`, 'a preference in [1, 2]', describe(x)); });
  return 100 * mean(p.map((x) => x - 1));
}
