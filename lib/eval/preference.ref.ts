/**
 * Bradley–Terry reference (SPEC.md §2.7) in f64: per-pair probabilities and losses plus the batch
 * reductions. The native (native/eval.cc) and WebGPU (shaders/eval_bt.wgsl) kernels mirror it.
 */

/** Stable log σ(x) = min(x, 0) − log1p(e^−|x|): never overflows (OpenRLHF's naive log(1+e^x) does past 709). */
export function logSigmoid(x: number): number {
  return Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));
}

/** σ(x) without overflow on either side. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

export interface BtArgs {
  chosen: ArrayLike<number>;
  rejected: ArrayLike<number>;
  /** Per-pair margin, or null (0). */
  margin: ArrayLike<number> | null;
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

/** One pair: writes σ(Δ) and the loss `−(1−ε) log σ(Δ−m) − ε log σ(−(Δ−m))`. */
export function btPair(c: number, r: number, m: number, eps: number): { prob: number; loss: number } {
  const d = c - r;
  const z = d - m;
  const loss = eps === 0 ? -logSigmoid(z) : -(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z);
  return { prob: sigmoid(d), loss };
}

/** Per-pair outputs into `prob` / `loss` (any float arrays) and the sums, in index order. */
export function btRef(a: BtArgs, prob: { [i: number]: number }, loss: { [i: number]: number }): BtSums {
  const n = a.chosen.length;
  const s: BtSums = { loss: 0, square: 0, wins: 0, ties: 0 };
  for (let i = 0; i < n; i++) {
    const c = a.chosen[i]!, r = a.rejected[i]!;
    const p = btPair(c, r, a.margin ? a.margin[i]! : 0, a.labelSmoothing);
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
