/**
 * The JS reference for token log-probs and entropy: one online pass per row in f64 over the f32
 * values z = f32(logit / temperature) (bf16 logits widened exactly: bits << 16), results rounded to f32.
 */
import type { LogitsProblem } from './logprobs.js';

/** Online softmax statistics of one row: max m, s = Σ e^(z−m), w = Σ e^(z−m)·(z−m); bad = NaN or +inf seen. */
export interface RowStats { m: number; s: number; w: number; bad: boolean }

export function rowStats(z: Float32Array, temperature: number): RowStats {
  let m = -Infinity, s = 0, w = 0;
  for (let i = 0; i < z.length; i++) {
    const v = temperature === 1 ? z[i]! : Math.fround(z[i]! / temperature);
    if (v > m) {
      if (v === Infinity) return { m, s, w, bad: true };
      if (s !== 0) { // rescale the sums to the new max: e^(z−m') = e^(z−m)·e^(m−m')
        const d = m - v, c = Math.exp(d);
        w = c * (w + s * d);
        s *= c;
      }
      m = v;
    } else if (!(v <= m)) return { m, s, w, bad: true }; // NaN
    if (v === -Infinity) continue; // a masked token: probability 0 and p·z → 0
    const d = v - m, e = Math.exp(d);
    s += e;
    w += e * d;
  }
  return { m, s, w, bad: false };
}

/** logp of label value zy and the entropy, from a row's statistics (f64). */
export function fromStats(st: RowStats, zy: number): { logp: number; entropy: number } {
  if (st.bad) return { logp: NaN, entropy: NaN };
  if (st.m === -Infinity) return { logp: -Infinity, entropy: NaN }; // every logit −inf: no distribution
  const logS = Math.log(st.s);
  return { logp: zy - st.m - logS, entropy: logS - st.w / st.s };
}

export function logprobsJs(p: LogitsProblem): void {
  const V = p.vocab, T = Math.fround(p.temperature); // every backend divides by the f32 temperature
  // bf16 rows are widened into a scratch f32 row (bits << 16 is exact).
  const wide = p.dtype === 'bf16' ? new Uint32Array(V) : null;
  const wideF = wide ? new Float32Array(wide.buffer) : null;
  for (let r = 0; r < p.rows; r++) {
    let z: Float32Array;
    if (wide) {
      const bits = p.logits as Uint16Array;
      for (let i = 0, o = r * V; i < V; i++) wide[i] = bits[o + i]! << 16;
      z = wideF!;
    } else z = (p.logits as Float32Array).subarray(r * V, (r + 1) * V);
    const st = rowStats(z, T);
    const zy = p.labels ? (T === 1 ? z[p.labels[r]!]! : Math.fround(z[p.labels[r]!]! / T)) : 0;
    const { logp, entropy } = fromStats(st, zy);
    if (p.outLogProbs) p.outLogProbs[r] = logp;
    if (p.outEntropy) p.outEntropy[r] = entropy;
  }
}
