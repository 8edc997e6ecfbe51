/**
 * The JS reference for the KL estimators (SPEC.md §1.4): each preset's torch expression replayed
 * with f32 rounding after every operation (Math.fround), in the reference's order, because the
 * libraries compute in f32 and the order is visible there (k3 near d = 0 is all cancellation). The
 * gradients are what torch autograd returns for the same graph, derived node by node:
 * clamp passes the gradient only where min <= x <= max (0 for NaN), exp passes g·e^x, abs passes
 * sign(x) (0 at 0 and for NaN), pow passes g·2x. A node whose incoming gradient is 0 still
 * multiplies: 0·Inf and 0·NaN give NaN, as in torch. Row sums (inRewardKl) run in f64.
 */
import { KlCode, type KlProblem } from './kl.js';
import type { KlRewardProblem } from './reward.js';
import { batchMeanKl } from './reward.js';

const f = Math.fround;

/** The gradient ∂kl/∂logp of the last klToken call (a module slot: no allocation per token). */
let grad = 0;

const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x); // NaN passes through, as torch.clamp
const inside = (x: number, lo: number, hi: number) => x >= lo && x <= hi; // false for NaN

/** One token: returns the estimate and sets `grad`. lp and rp are f32 values. */
export function klToken(code: KlCode, lp: number, rp: number): number {
  switch (code) {
    case KlCode.verlK1: { // logprob - ref_logprob
      grad = 1;
      return f(lp - rp);
    }
    case KlCode.verlAbs: { // (logprob - ref_logprob).abs()
      const d = f(lp - rp);
      grad = d > 0 ? 1 : d < 0 ? -1 : 0;
      return Math.abs(d);
    }
    case KlCode.verlK2: { // 0.5 * (logprob - ref_logprob).square()
      const d = f(lp - rp);
      grad = d;
      return f(0.5 * f(d * d));
    }
    case KlCode.verlK3: { // kl = clamp(ref - logp, ±20); clamp(exp(kl) - kl - 1, ±10)
      const k = f(rp - lp);
      const kc = clamp(k, -20, 20);
      const r = f(Math.exp(kc));
      const v = f(f(r - kc) - 1);
      // Inside both clamps: −(r − 1). Outside either: 0 (r <= e^20 is finite, so 0·r = 0; a NaN k
      // makes the inner clamp pass nothing).
      grad = inside(k, -20, 20) && inside(v, -10, 10) ? -f(r - 1) : 0;
      return clamp(v, -10, 10);
    }
    case KlCode.openrlhfK1: { // (logp.float() - base.float()).clamp(-10, 10)
      const d = f(lp - rp);
      grad = inside(d, -10, 10) ? 1 : 0;
      return clamp(d, -10, 10);
    }
    case KlCode.openrlhfK2: { // (d ** 2 / 2.0).clamp(-10, 10): backward (g/2)·(2d)
      const d = f(lp - rp);
      const v = f(f(d * d) / 2);
      grad = inside(v, -10, 10) ? d : 0 * f(2 * d);
      return clamp(v, -10, 10);
    }
    case KlCode.openrlhfK3: { // k = -d; (exp(k) - 1 - k).clamp(-10, 10)
      const k = -f(lp - rp);
      const r = f(Math.exp(k));
      const v = f(f(r - 1) - k);
      grad = -(inside(v, -10, 10) ? f(r - 1) : 0 * r); // no input clamp: 0·e^k is NaN when e^k overflows
      return clamp(v, -10, 10);
    }
    case KlCode.trlK1: { // -(ref - logp)
      grad = 1;
      return -f(rp - lp);
    }
    default: { // trlK3: exp(ref - logp) - (ref - logp) - 1, no clamps
      const k = f(rp - lp);
      const r = f(Math.exp(k));
      grad = -f(r - 1);
      return f(f(r - k) - 1);
    }
  }
}

export function klPenaltyJs(p: KlProblem): void {
  const { logProbs: lp, refLogProbs: rp, code, straightThrough, outKl, outGrad, outGradRef } = p;
  const mask = p.layout.mask;
  for (let t = 0; t < p.layout.tokens; t++) {
    if (mask !== null && mask[t] === 0) { // masked: 0 whatever the inputs hold (a select, not ·m)
      outKl[t] = 0;
      if (outGrad) { outGrad[t] = 0; outGradRef![t] = 0; }
      continue;
    }
    outKl[t] = klToken(code, lp[t]!, rp[t]!);
    if (outGrad) {
      const g = straightThrough ? f(lp[t]! - rp[t]!) : grad; // the gradient of ½d² is d
      outGrad[t] = g;
      outGradRef![t] = -g; // every estimator is a function of logp − ref
    }
  }
}

/** Returns verl's current_kl; writes kl and rewards = f32(scores − f32(β·kl)). */
export function inRewardKlJs(p: KlRewardProblem): number {
  const { logProbs: lp, refLogProbs: rp, scores, code, beta, outKl, outRewards } = p;
  const { rows, offsets, mask } = p.layout;
  const sums = new Float64Array(rows), counts = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = 0, count = 0;
    for (let t = offsets[i]!; t < offsets[i + 1]!; t++) {
      let kl = 0;
      if (mask === null || mask[t] !== 0) { kl = klToken(code, lp[t]!, rp[t]!); sum += kl; count++; }
      outKl[t] = kl;
      outRewards[t] = f(scores[t]! - f(beta * kl));
    }
    sums[i] = sum;
    counts[i] = count;
  }
  return batchMeanKl(sums, counts);
}
