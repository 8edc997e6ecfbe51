/**
 * Bradley–Terry reference (SPEC.md §2.7) in f64: per-pair probabilities and losses plus the batch
 * reductions. The native (native/eval.cc) and WebGPU (shaders/eval_bt.wgsl) kernels mirror it.
 */

export interface BtArgs {
  chosen: ArrayLike<number>;
  rejected: ArrayLike<number>;
  /** Per-pair margin, one margin for every pair, or null (0). */
  margin: ArrayLike<number> | number | null;
  labelSmoothing: number;
  centerCoef: number;
}

export interface BtSums {
  /** Σ per-pair loss, Σ (rc + rr)², #(Δ > 0), #(Δ == 0). */
  loss: number;
  square: number;
  wins: number;
  ties: number;
}

/**
 * One pair: σ(Δ) and the loss `−(1−ε) log σ(z) − ε log σ(−z)`, z = Δ − m. Both log-sigmoids share
 * L = log1p(e^−|z|) (log σ(±z) = min(±z, 0) − L), and σ(Δ) reuses e^−|Δ| when m = 0: one exp and one
 * log1p per pair.
 */
export function btPair(c: number, r: number, m: number, eps: number): { prob: number; loss: number } {
  const d = c - r, z = d - m;
  const ed = Math.exp(-Math.abs(d));
  const ez = m === 0 ? ed : Math.exp(-Math.abs(z));
  const L = Math.log1p(ez);
  const loss = eps === 0 ? L - Math.min(z, 0) : L - (1 - eps) * Math.min(z, 0) - eps * Math.min(-z, 0);
  return { prob: d >= 0 ? 1 / (1 + ed) : ed / (1 + ed), loss };
}

/** Per-pair outputs into `prob` / `loss` (any float arrays) and the sums, in index order. */
export function btRef(a: BtArgs, prob: { [i: number]: number }, loss: { [i: number]: number }): BtSums {
  const n = a.chosen.length;
  const margins = typeof a.margin === 'number' ? null : a.margin, m0 = typeof a.margin === 'number' ? a.margin : 0;
  const s: BtSums = { loss: 0, square: 0, wins: 0, ties: 0 };
  for (let i = 0; i < n; i++) {
    const c = a.chosen[i]!, r = a.rejected[i]!;
    const p = btPair(c, r, margins ? margins[i]! : m0, a.labelSmoothing);
    prob[i] = p.prob;
    loss[i] = p.loss;
    s.loss += p.loss;
    const t = c + r;
    s.square += t * t;
    if (c > r) s.wins++;
    else if (c === r) s.ties++;
  }
  return s;
}

/** The scalar metrics from the sums: TRL's loss = mean(−log σ(Δ − m)) + coef·mean((rc+rr)²). */
export function btMetrics(s: BtSums, n: number, centerCoef: number): { loss: number; accuracy: number; accuracyTiesHalf: number } {
  return {
    loss: s.loss / n + (centerCoef === 0 ? 0 : centerCoef * (s.square / n)),
    accuracy: s.wins / n,
    accuracyTiesHalf: (s.wins + 0.5 * s.ties) / n,
  };
}
