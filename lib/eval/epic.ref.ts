/**
 * EPIC reference (Gleave et al. 2021; evaluating-rewards `distances/tabular.py` and
 * `distances/epic_sample.py`), in f64 like numpy.
 */

/** np.average(x, weights=w): Σ w·x / Σ w (plain mean when w is null). */
function average(x: ArrayLike<number>, w: ArrayLike<number> | null): number {
  let s = 0, sw = 0;
  for (let i = 0; i < x.length; i++) { const wi = w ? w[i]! : 1; s += wi * x[i]!; sw += wi; }
  return s / sw;
}

/**
 * fully_connected_random_canonical_reward: `C(R)(s,a,s') = R + γ m(s') − m(s) − γ m̄` with
 * `m(s) = E_{A~actionDist, S'~stateDist} R(s, A, S')` and `m̄ = E_{S~stateDist} m(S)`. `r` is [S, A, S].
 */
export function canonicalizeTabular(r: ArrayLike<number>, S: number, A: number, gamma: number,
  stateDist: ArrayLike<number> | null = null, actionDist: ArrayLike<number> | null = null): { canonical: Float64Array; potential: Float64Array; mean: number } {
  const m = new Float64Array(S), sa = new Float64Array(A), row = new Float64Array(S);
  for (let s = 0; s < S; s++) {
    for (let a = 0; a < A; a++) {
      for (let t = 0; t < S; t++) row[t] = r[(s * A + a) * S + t]!;
      sa[a] = average(row, stateDist);
    }
    m[s] = average(sa, actionDist);
  }
  const mean = average(m, stateDist);
  const canonical = new Float64Array(S * A * S);
  for (let s = 0; s < S; s++) for (let a = 0; a < A; a++) for (let t = 0; t < S; t++) {
    const i = (s * A + a) * S + t;
    canonical[i] = r[i]! + gamma * m[t]! - m[s]! - gamma * mean;
  }
  return { canonical, potential: m, mean };
}

/** Weighted Pearson correlation as pearson_distance computes it (centred first), clipped to ≤ 1. */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>, w: ArrayLike<number> | null = null): number {
  const n = a.length;
  const ma = average(a, w), mb = average(b, w);
  let sw = 0, va = 0, vb = 0, cov = 0;
  for (let i = 0; i < n; i++) {
    const wi = w ? w[i]! : 1, x = a[i]! - ma, y = b[i]! - mb;
    sw += wi; va += wi * x * x; vb += wi * y * y; cov += wi * x * y;
  }
  const corr = (cov / sw) / (Math.sqrt(va / sw) * Math.sqrt(vb / sw));
  return Number.isNaN(corr) ? NaN : Math.min(corr, 1);
}

/** D = sqrt((1 − ρ)/2). */
export const pearsonToDistance = (rho: number): number => Math.sqrt(0.5 * (1 - rho));

/** canonical_scale_normalizer(p = 1): 1 / mean|x| (weighted), 0 when that is below 1e-10. */
export function l1Normalizer(x: ArrayLike<number>, w: ArrayLike<number> | null = null): number {
  let s = 0, sw = 0;
  for (let i = 0; i < x.length; i++) { const wi = w ? w[i]! : 1; s += wi * Math.abs(x[i]!); sw += wi; }
  const scale = s / sw;
  return Math.abs(scale) < 1e-10 ? 0 : 1 / scale;
}

/** canonical_reward_distance(p = 1): half the mean |Ĉa − Ĉb| of the L1-normalised canonical rewards. */
export function l1CanonicalDistance(ca: ArrayLike<number>, cb: ArrayLike<number>, w: ArrayLike<number> | null = null): number {
  const ka = l1Normalizer(ca, w), kb = l1Normalizer(cb, w);
  let s = 0, sw = 0;
  for (let i = 0; i < ca.length; i++) { const wi = w ? w[i]! : 1; s += wi * Math.abs(ca[i]! * ka - cb[i]! * kb); sw += wi; }
  return 0.5 * (s / sw);
}
