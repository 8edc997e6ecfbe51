/**
 * JS reference of the batched diffusion-loss kernels (SPEC.md §3.3), mirrored line by line by
 * native/diffusion_loss.cc and shaders/diffusion_loss_*.wgsl.
 *
 * clipRows: per element of [B] or [B, steps], the PPO-clipped term of Flow-GRPO / DanceGRPO in f32
 * (torch's f32 ops: ratio = exp(logp − old), A clamped to ±advClip, max(−A·r, −A·clamp(r, 1±ε)))
 * and its derivative w.r.t. logp (torch.maximum sends the gradient to the larger side; inside the
 * clip range both sides are equal and the halves add up to −A·r).
 * clipSums: the per-step sums flowGrpoLoss / danceGrpoLoss average, from the element kernel's output.
 * latentRows: per row, the sum of squared differences of two latent tensors (f64 accumulation).
 */
import { CLIP_TERMS, type ClipInputs, type ClipProblem, type ClipRaw, type ClipSums, type LatentProblem } from './loss.js';

const f = Math.fround;

/** One element: writes ratio, loss term and gradient; the same operations as the kernels. */
export function clipElement(lp: number, old: number, adv: number, lo: number, hi: number, advClip: number, out: ClipRaw, i: number): void {
  const r = f(Math.exp(f(lp - old)));
  const a = adv < -advClip ? -advClip : adv > advClip ? advClip : adv; // NaN passes, as torch.clamp
  const rc = r < lo ? lo : r > hi ? hi : r;
  const u = f(-a * r);
  const c = f(-a * rc);
  const nan = Number.isNaN(u) || Number.isNaN(c);
  out.ratio[i] = r;
  out.loss[i] = nan ? NaN : Math.max(u, c);
  out.grad[i] = nan ? NaN : (r >= lo && r <= hi) || u > c ? u : 0;
}

export function clipRowsJs(p: ClipProblem): ClipRaw {
  const out = p.out;
  for (let i = 0; i < p.n; i++) clipElement(p.logProb[i]!, p.oldLogProb[i]!, p.advantages[i]!, p.lo, p.hi, p.advClip, out, i);
  return out;
}

/**
 * Per step j the sums over rows b (in row order) of the loss term, f32((logp − old)²) and the clip
 * flags (|r − 1| > ε, r − 1 > ε, 1 − r > ε, with ε = clip32 and f32 differences, as torch compares), and
 * the gradient divided by gradScale (f64, rounded to f32).
 */
export function clipSumsJs(raw: ClipRaw, c: ClipInputs, clip32: number, gradScale: number): ClipSums {
  const { steps, n } = c;
  const sums = new Float64Array(CLIP_TERMS * steps), grad = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j = j + 1 === steps ? 0 : j + 1) {
    const r = raw.ratio[i]!, d = f(c.logProb[i]! - c.oldLogProb[i]!);
    sums[j] += raw.loss[i]!;
    sums[steps + j] += f(d * d);
    if (Math.abs(f(r - 1)) > clip32) sums[2 * steps + j]++;
    if (f(r - 1) > clip32) sums[3 * steps + j]++;
    if (f(1 - r) > clip32) sums[4 * steps + j]++;
    grad[i] = raw.grad[i]! / gradScale;
  }
  return { ratio: raw.ratio, grad, sums };
}

export function latentRowsJs(p: LatentProblem): Float64Array {
  const sums = new Float64Array(p.rows);
  for (let r = 0; r < p.rows; r++) {
    let s = 0;
    for (let i = r * p.cols, e = i + p.cols; i < e; i++) {
      const d = f(p.a[i]! - p.b[i]!);
      s += f(d * d);
    }
    sums[r] = s;
  }
  return sums;
}
