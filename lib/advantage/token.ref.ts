/**
 * The JS reference for the token estimators: SPEC.md §1.2 / §1.1 line by line. Each row is scanned
 * backwards in f64; returns and pre-whitening advantages are stored as f32 (the dtype verl and
 * OpenRLHF hold them in) and whitened from those f32 values. Untrained tokens are handled with
 * selects, never `x·m`, so NaN/Inf on padding stays on padding (verl's `x·m + (1−m)·y` would
 * spread a NaN there into the whole row).
 */
import type { TokenLayout } from '../layout.js';
import { maskedWhitenRef } from './masked.ref.js';
import type { TokenProblem, TokenRaw } from './token.js';

const on = (m: Uint8Array | null, t: number): boolean => m === null || m[t] !== 0;

function countTrained(layout: TokenLayout): number {
  if (layout.mask === null) return layout.tokens;
  let n = 0;
  for (let t = 0; t < layout.tokens; t++) if (layout.mask[t]) n++;
  return n;
}

/** `run = R[t] + γ·run; ret[t] = run; run = M[t] ? run : 0`, then masked_whiten(ret)·M. */
function reinforce(p: TokenProblem): void {
  const { layout, rewards: R, gamma, outReturns: ret, outAdvantages: adv } = p;
  const m = layout.mask, off = layout.offsets;
  for (let i = 0; i < layout.rows; i++) {
    let run = 0;
    for (let t = off[i + 1]! - 1; t >= off[i]!; t--) {
      run = R[t]! + gamma * run;
      ret[t] = run;
      if (!on(m, t)) run = 0; // reset AFTER storing: a hole cuts the return
    }
  }
  maskedWhitenRef(ret, layout, adv);
  if (m) for (let t = 0; t < layout.tokens; t++) if (!m[t]) adv[t] = 0;
}

/** verl GAE: values and the running advantage carry across untrained tokens; returns = adv + V. */
function gaeVerl(p: TokenProblem): void {
  const { layout, rewards: R, gamma, lambda, outReturns: ret, outAdvantages: adv } = p;
  const V = p.values!, m = layout.mask, off = layout.offsets;
  for (let i = 0; i < layout.rows; i++) {
    let nextv = 0, last = 0;
    for (let t = off[i + 1]! - 1; t >= off[i]!; t--) {
      const delta = R[t]! + gamma * nextv - V[t]!;
      const next = delta + gamma * lambda * last;
      if (on(m, t)) { nextv = V[t]!; last = next; }
      adv[t] = last;
      ret[t] = adv[t]! + V[t]!; // f32 advantage + f32 value, as verl adds the tensors
    }
  }
  maskedWhitenRef(adv, layout, adv); // not re-masked: padding holds (0 − mean)/std
}

/**
 * OpenRLHF GAE: V and R zeroed off the mask, next value = V[t+1] within the row (no carry), then
 * mean = Σ adv·M / ΣM, var = Σ (adv − mean)²·M / ΣM (biased), adv = (adv − mean)·rsqrt(max(var, 1e-8)).
 */
function gaeOpenrlhf(p: TokenProblem, count: number): void {
  const { layout, rewards: R, gamma, lambda, outReturns: ret, outAdvantages: adv } = p;
  const V = p.values!, m = layout.mask, off = layout.offsets;
  for (let i = 0; i < layout.rows; i++) {
    let last = 0, nextv = 0;
    for (let t = off[i + 1]! - 1; t >= off[i]!; t--) {
      const trained = on(m, t);
      const v = trained ? V[t]! : 0, r = trained ? R[t]! : 0;
      last = r + gamma * nextv - v + gamma * lambda * last;
      adv[t] = last;
      ret[t] = adv[t]! + v;
      nextv = v;
    }
  }
  let sum = 0;
  for (let t = 0; t < layout.tokens; t++) if (on(m, t)) sum += adv[t]!;
  const mean = sum / count;
  let sq = 0;
  for (let t = 0; t < layout.tokens; t++) if (on(m, t)) { const d = adv[t]! - mean; sq += d * d; }
  const rstd = 1 / Math.sqrt(Math.max(sq / count, 1e-8));
  for (let t = 0; t < layout.tokens; t++) adv[t] = (adv[t]! - mean) * rstd;
}

/** ReMax: ret[t] = Σ_{s >= t} R[s]·M[s] within the row; adv = ret − b_i·M. */
function remax(p: TokenProblem): void {
  const { layout, rewards: R, outReturns: ret, outAdvantages: adv } = p;
  const b = p.baselines!, m = layout.mask, off = layout.offsets;
  for (let i = 0; i < layout.rows; i++) {
    let run = 0;
    for (let t = off[i + 1]! - 1; t >= off[i]!; t--) {
      const trained = on(m, t);
      if (trained) run += R[t]!;
      ret[t] = run;
      adv[t] = trained ? ret[t]! - b[i]! : ret[t]!;
    }
  }
}

/** Runs the estimator into the problem's outputs; raises (via maskedWhitenRef) for too few tokens. */
export function tokenJs(p: TokenProblem): TokenRaw {
  const count = countTrained(p.layout);
  switch (p.estimator) {
    case 'reinforce': reinforce(p); break;
    case 'gae-verl': gaeVerl(p); break;
    case 'gae-openrlhf': if (count > 0) gaeOpenrlhf(p, count); break;
    case 'remax': remax(p); break;
  }
  return { count };
}
