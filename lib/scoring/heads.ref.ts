/**
 * scoreHeads, the JS reference: mirrors the math of SPEC.md §2.1–2.2 in f64 — pooling (mean in f64),
 * each head's dot products, activation and output layer — and rounds each score to f32 once.
 */
import { elementReader } from './heads.dtype.js';
import { ACT, type HeadsProblem } from './heads.js';

/** erf in f64 to ~1e-14: the Maclaurin series for |x| < 2.5, the erfc continued fraction beyond. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a < 2.5) {
    // erf x = 2/√π Σ (−1)^n x^(2n+1) / (n!(2n+1)); the largest term is ~e^(x²) < 520: ~1e-13 absolute.
    const x2 = x * x;
    let term = x, sum = x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return sum * 1.1283791670955126;
  }
  if (a > 6) return Math.sign(x); // erfc(6) ≈ 2e-17
  // erfc a = e^(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated from the tail.
  let f = a;
  for (let n = 60; n >= 1; n--) f = a + n / 2 / f;
  const erfc = Math.exp(-a * a) / 1.7724538509055159 / f;
  return Math.sign(x) * (1 - erfc);
}

/** The activations in f64; codes are ACT's. */
export function activate(act: number, z: number): number {
  switch (act) {
    case ACT.silu: return z / (1 + Math.exp(-z));
    case ACT.gelu: return 0.5 * z * (1 + erf(z * Math.SQRT1_2));
    case ACT.relu: return z > 0 ? z : z < 0 || z === 0 ? 0 : z; // NaN stays NaN, as torch.relu
    case ACT.tanh: return Math.tanh(z);
    default: return z;
  }
}

/** Pool row b into h (f64): the selected token, the masked mean, or the row itself. */
export function poolRow(p: HeadsProblem, read: (i: number) => number, b: number, h: Float64Array): void {
  const { T, H } = p;
  const pool = p.pool;
  if (!pool || pool.kind === 'index') {
    const base = (pool ? b * T + pool.index[b]! : b) * H;
    for (let j = 0; j < H; j++) h[j] = read(base + j);
    return;
  }
  h.fill(0);
  let count = 0;
  for (let t = 0; t < T; t++) {
    if (pool.mask && pool.mask[b * T + t] === 0) continue; // skipped, never multiplied by 0
    count++;
    const base = (b * T + t) * H;
    for (let j = 0; j < H; j++) h[j] += read(base + j);
  }
  const inv = 1 / Math.max(count, 1);
  for (let j = 0; j < H; j++) h[j] *= inv;
}

export function headsJs(p: HeadsProblem): void {
  const { B, H, heads } = p;
  const read = elementReader(p.hidden, p.dtype);
  const h = new Float64Array(H);
  for (let b = 0; b < B; b++) {
    poolRow(p, read, b, h);
    for (let k = 0; k < heads.length; k++) {
      const head = heads[k]!;
      let r = head.c;
      for (let i = 0; i < head.width; i++) {
        const w = head.w1, base = i * H;
        let z = head.b1 ? head.b1[i]! : 0;
        for (let j = 0; j < H; j++) z += w[base + j]! * h[j]!;
        r += (head.w2 ? head.w2[i]! : 1) * activate(head.act, z);
      }
      p.out[k * B + b] = r;
    }
  }
}
